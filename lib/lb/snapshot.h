// SPDX-License-Identifier: BSD-3-Clause
// The service snapshot: the immutable forwarding state a worker reads for one burst.
//
// The control lcore describes every virtual service (VIP, port, protocol, scheduler,
// persistence) and its real servers in plain ServiceSpec structs, SnapshotBuilder turns them
// into a Snapshot, the control plane publishes the pointer (release store) and frees the old
// one after an RCU grace period (STYLE H10). Nothing in a Snapshot changes after build(), so
// workers read it without locks.
//
// Layout (STYLE H4): one cache line per service (ServiceInfo: the fields read per packet), real
// attributes as parallel arrays indexed by `real_begin + slot`, and per-service lookup tables
// (Maglev, IPVS sh and dh) of 16-bit slot numbers. A *slot* is a real's position in its
// service's list (the order of ServiceSpec::reals, which is IPVS list order: it decides rr/wrr
// sequences and lc ties). A *real_id* is the control plane's stable, dense id of one real in
// one service; per-core tables store real_ids and check them here on every hit (STYLE H9):
// real_status() answers "is this real still a member of this service, up, not draining?" in
// O(1) through a snapshot-wide array indexed by real_id.
//
// Services are found by (family, VIP, port, protocol) with an open-addressing hash built at
// snapshot creation: exact port first, then the port-0 ("all ports") service of that VIP and
// protocol, as IPVS does for persistent port-0 services.
//
// Lookup tables are immutable and shared between consecutive snapshots when a service's
// backend list (addresses, ports, weights, order) and table size are unchanged, so a
// republish after a health change or a MAC update does not rebuild 1,000 Maglev tables.
//
// Caller: SnapshotBuilder on the control lcore only (allocates, returns Result). Every const
// member of Snapshot is noexcept, allocation-free and lock-free, callable from any lcore that
// holds the snapshot inside an RCU read-side section (workers: one burst). The destructor runs
// on the control lcore after the grace period: it drops the shared lookup tables' reference
// counts, which only the control lcore ever touches (no refcount traffic between lcores, C6).
#pragma once

#include <rte_hash_crc.h>

#include <cassert>
#include <cstring>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/cacheline.h"
#include "common/result.h"
#include "lb/maglev.h"
#include "net/addr.h"
#include "net/flow.h"

namespace director::lb {

/** "No real": returned by schedulers and lookups when nothing can take the flow. */
inline constexpr uint32_t kNoReal = 0xFFFFFFFFu;
/** "No service": returned by service lookups on a miss. */
inline constexpr uint32_t kNoService = 0xFFFFFFFFu;
/** Exclusive bound on real ids (dense ids from the control plane's free list). */
inline constexpr uint32_t kMaxReals = 1u << 20;
/** Exclusive bound on service ids; per-core SchedState arrays are sized by it. */
inline constexpr uint32_t kMaxServices = 1u << 16;
/** Most reals in one service (Katran's maxReals); lc/wlc scan them per new connection. */
inline constexpr uint32_t kMaxRealsPerService = 4096;
/** Largest weight (as the configuration); keeps IPVS cross-multiplication within 64 bits. */
inline constexpr uint32_t kMaxWeight = 65535;
/** IPVS `IP_VS_SH_TAB_SIZE` (CONFIG_IP_VS_SH_TAB_BITS = 8). */
inline constexpr uint32_t kShBuckets = 256;
/** IPVS `IP_VS_DH_TAB_SIZE` (CONFIG_IP_VS_DH_TAB_BITS = 8). */
inline constexpr uint32_t kDhBuckets = 256;
/** ServiceSpec::persistence_prefix_len meaning /32 for IPv4, /128 for IPv6 (IPVS default). */
inline constexpr uint8_t kFullPrefix = 0xFF;

/** L4 protocol of a service; the values are IP protocol numbers, as in the packet. */
enum class Protocol : uint8_t { Tcp = 6, Udp = 17 };

/** IPVS scheduler of a service (reference keepalived.md §3.2). */
enum class SchedulerKind : uint8_t { Rr, Wrr, Lc, Wlc, Sed, Nq, Sh, Dh, Mh };

/** Health of a real as the control plane sees it. */
enum class RealState : uint8_t { Up, Down };

/** What a stored real id may still be used for (STYLE H9, reference §3.5/§3.6). */
enum class RealStatus : uint8_t {
    Absent,    ///< not (or no longer) a member of this service: IPVS "dest deleted"
    Down,      ///< member, health check failed: the control plane's "delete", conns not kept
    NoMac,     ///< member and up, MAC not yet resolved: cannot be forwarded to (drop, count)
    Draining,  ///< member, up, weight 0: existing connections continue, no new ones
    Usable,    ///< may receive new connections
};

/** One real server of a service, as the control plane describes it. */
struct RealSpec {
    uint32_t real_id = 0;  ///< stable dense id < kMaxReals, unique in the snapshot
    net::IpAddress addr;   ///< real server address (Maglev identity, introspection)
    uint16_t port = 0;     ///< real server port, host order (DR: equals the service port)
    uint32_t weight = 1;   ///< 0..kMaxWeight; 0 = draining (IPVS quiesce)
    RealState state = RealState::Up;
    std::optional<net::MacAddress> mac;  ///< nullopt until ARP/ND resolved it
    uint16_t tx_port = 0;                ///< DPDK port id to transmit on
    /**
     * IPVS last_weight: the weight the lookup tables are laid out with while weight is 0, so
     * that quiescing a real does not reshuffle Maglev/sh (ip_vs_mh.c). 0 = use weight.
     */
    uint32_t last_weight = 0;
};

/** One virtual service, as the control plane describes it. */
struct ServiceSpec {
    net::IpAddress vip;
    uint16_t port = 0;  ///< host order; 0 = every port of the VIP (IPVS port-0 service)
    Protocol proto = Protocol::Tcp;
    SchedulerKind scheduler = SchedulerKind::Wlc;
    uint32_t persistence_timeout_s = 0;  ///< 0 = no persistence
    /** Client mask for templates, <= 32 (v4) / 128 (v6); kFullPrefix = the VIP's width. */
    uint8_t persistence_prefix_len = kFullPrefix;
    uint32_t service_id = 0;  ///< stable dense id < kMaxServices, unique
    uint32_t generation = 0;  ///< bumped by the control plane when reals or weights change
    /** Maglev table size, prime, > reals.size(); 0 = maglev_table_size_for(reals.size()). */
    uint32_t maglev_size = 0;
    std::vector<RealSpec> reals;  ///< IPVS list order
};

/**
 * Per-service header, one cache line: every field a worker needs for a packet of the service.
 */
struct alignas(kCacheLine) ServiceInfo {
    // fields used per packet
    const uint16_t* tables = nullptr;  ///< sh[kShBuckets] | dh[kDhBuckets] | maglev[maglev_size]
    uint32_t service_id = 0;
    uint32_t real_begin = 0;  ///< index of slot 0 in the snapshot's real arrays
    uint32_t real_count = 0;
    uint32_t usable_count = 0;       ///< reals that may take new connections
    uint32_t forwardable_count = 0;  ///< reals up with a known MAC (usable + draining)
    uint32_t maglev_size = 0;
    uint32_t generation = 0;
    /** Never 0; per-core SchedState resets when it differs (generation + usable set). */
    uint32_t sched_key = 1;
    uint32_t persistence_timeout_s = 0;
    int32_t wrr_mw = 0;  ///< IPVS wrr mark->mw: max usable weight - (gcd - 1); 0 = none
    int32_t wrr_di = 1;  ///< IPVS wrr mark->di: gcd of usable weights
    uint16_t port = 0;
    Protocol proto = Protocol::Tcp;
    SchedulerKind scheduler = SchedulerKind::Wlc;
    uint8_t persistence_prefix_len = 32;  ///< resolved: 0..32 or 0..128
    net::Family family = net::Family::V4;
};
static_assert(sizeof(ServiceInfo) == kCacheLine, "ServiceInfo must stay one cache line");

/** Where a real id lives in a snapshot. */
struct RealLocation {
    uint32_t service_idx = kNoService;
    uint32_t slot = kNoReal;
};

/**
 * What the worker's per-packet path needs about one real id, in 16 bytes: on a connection
 * table hit one record says whether the stored real still belongs to the packet's service and
 * may carry the connection, and where and to which MAC to send it. (Read from four separate
 * arrays, the same facts cost four dependent loads and their index arithmetic.)
 */
struct RealHot {
    uint32_t service_idx = kNoService;  ///< kNoService: not in this snapshot
    uint16_t slot = 0;                  ///< position in the service's real list
    uint8_t flags = 0;                  ///< detail::kReal* bits
    uint8_t reserved = 0;
    uint16_t tx_port = 0;  ///< DPDK port id to transmit on
    net::MacAddress mac;   ///< all zero until resolved (flags say)
};
static_assert(sizeof(RealHot) == 16, "RealHot: four per cache line");
static_assert(kMaxRealsPerService <= UINT16_MAX, "RealHot::slot is 16 bits");

/** Which reals consistent_pick may return. */
enum class PickFor : uint8_t {
    NewFlow,       ///< only reals usable for new connections (never weight 0)
    ExistingFlow,  ///< also draining reals (weight 0): a mid-flow packet with no state
};

namespace detail {
struct TableRefs;  // owners of the shared lookup tables (snapshot.cc)

inline constexpr uint8_t kRealUp = 1;        // state == Up
inline constexpr uint8_t kRealMacKnown = 2;  // mac resolved
inline constexpr uint8_t kRealNew = 4;       // Up, MAC known, weight > 0
inline constexpr uint8_t kRealForward = 8;   // Up, MAC known
}  // namespace detail

/**
 * Immutable forwarding state. Service indexes (`svc`) are positions in build order, valid for
 * this snapshot only; slots are positions in a service's real list. Accessors do not check
 * ranges beyond debug assertions: pass indexes this snapshot returned.
 */
class Snapshot {
public:
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    ~Snapshot();

    /**
     * Never 0, and no two snapshots of the process share it: what a worker's caches across
     * bursts key on, since a new snapshot may be given a freed one's address.
     */
    uint64_t serial() const noexcept { return serial_; }

    /** Number of services. */
    uint32_t service_count() const noexcept { return static_cast<uint32_t>(services_.size()); }

    /**
     * Finds the service of a packet: exact (VIP, port, protocol), else the VIP's port-0
     * service for that protocol.
     *
     * Caller: any lcore. noexcept, no allocation.
     *
     * @param vip    destination address
     * @param port   destination port, host order
     * @param proto  IP protocol number (6, 17)
     * @return the service index, or kNoService
     */
    uint32_t find_service(const net::IpAddress& vip, uint16_t port, uint8_t proto) const noexcept;

    /**
     * find_service for an IPv4 destination read straight from the packet.
     *
     * @param addr   4 bytes, network order
     * @param port   destination port, host order
     * @param proto  IP protocol number
     * @return the service index, or kNoService
     */
    uint32_t find_service_v4(const uint8_t* addr, uint16_t port, uint8_t proto) const noexcept {
        // Hash and compare from registers: building a VipKey on the stack with narrow stores
        // and reading it back with 8-byte loads stalls on store-to-load forwarding.
        uint32_t a;
        std::memcpy(&a, addr, 4);
        const uint32_t svc = find_v4(a, port, proto);
        if (svc != kNoService || !has_port0_ || port == 0) {
            return svc;
        }
        return find_v4(a, 0, proto);
    }
    uint32_t find_v4(uint32_t a, uint16_t port, uint8_t proto) const noexcept {
        const uint32_t meta = (uint32_t{port} << 16) | (uint32_t{proto} << 8) |
                              static_cast<uint8_t>(net::Family::V4);
        // Equal to hash_key() of the VipKey {addr = a, 0..., port, proto, V4}.
        const uint32_t h =
            net::crc32c_u64(0, net::crc32c_u64(uint64_t{a}, net::crc32c_u32(meta, 0x9e3779b9u)));
        // VipKey bytes 16..19 as one little-endian word: port, proto, family.
        const uint32_t tail = uint32_t{port} | (uint32_t{proto} << 16) |
                              (uint32_t{static_cast<uint8_t>(net::Family::V4)} << 24);
        for (uint32_t i = h & index_mask_;; i = (i + 1) & index_mask_) {
            const IndexSlot& s = index_[i];
            if (s.service_idx == kNoService) {
                return kNoService;
            }
            if (s.hash == h) {
                const VipKey& k = vip_keys_[s.service_idx];
                uint64_t w0;
                uint64_t w1;
                uint32_t w2;
                std::memcpy(&w0, k.addr, 8);
                std::memcpy(&w1, k.addr + 8, 8);
                std::memcpy(&w2, &k.port, 4);
                if (w0 == uint64_t{a} && w1 == 0 && w2 == tail) {
                    return s.service_idx;
                }
            }
        }
    }

    /**
     * find_service for an IPv6 destination read straight from the packet.
     *
     * @param addr   16 bytes, network order
     * @param port   destination port, host order
     * @param proto  IP protocol number
     * @return the service index, or kNoService
     */
    uint32_t find_service_v6(const uint8_t* addr, uint16_t port, uint8_t proto) const noexcept;

    /**
     * True when some service of this snapshot has `addr` as its VIP, whatever its port and
     * protocol: the director answers ICMP echo and neighbour discovery for every VIP.
     * Binary search over the distinct VIPs; for the exception path, not per service packet.
     *
     * @param addr    4 (IPv4) or 16 bytes, network order
     * @param family  the address family
     */
    bool is_vip(const uint8_t* addr, net::Family family) const noexcept;

    /**
     * Index of the service with a given stable id (per-core tables store ids).
     *
     * @param service_id  id from ServiceSpec
     * @return the service index, or kNoService when the id is not in this snapshot
     */
    uint32_t service_index(uint32_t service_id) const noexcept {
        return service_id < service_by_id_.size() ? service_by_id_[service_id] : kNoService;
    }

    /** The per-packet header of service `svc`. */
    const ServiceInfo& service(uint32_t svc) const noexcept { return services_[svc]; }

    /** The VIP of service `svc` (cold: introspection and tests). */
    net::IpAddress vip(uint32_t svc) const noexcept;

    /** Real ids of service `svc`, by slot. */
    std::span<const uint32_t> real_ids(uint32_t svc) const noexcept {
        return {real_id_.data() + services_[svc].real_begin, services_[svc].real_count};
    }
    /** Weights of service `svc`, by slot. */
    std::span<const uint32_t> weights(uint32_t svc) const noexcept {
        return {weight_.data() + services_[svc].real_begin, services_[svc].real_count};
    }
    /** Stable id of the real in `slot` (what per-core tables store). */
    uint32_t real_id(uint32_t svc, uint32_t slot) const noexcept { return real_id_[at(svc, slot)]; }
    /** Current weight of the real in `slot` (0 = draining). */
    uint32_t weight(uint32_t svc, uint32_t slot) const noexcept { return weight_[at(svc, slot)]; }
    /** Health of the real in `slot`. */
    RealState real_state(uint32_t svc, uint32_t slot) const noexcept {
        return (flags_[at(svc, slot)] & detail::kRealUp) != 0 ? RealState::Up : RealState::Down;
    }
    /** True when the real's MAC has been resolved (ARP/ND or static). */
    bool mac_known(uint32_t svc, uint32_t slot) const noexcept {
        return (flags_[at(svc, slot)] & detail::kRealMacKnown) != 0;
    }
    /** Destination MAC for DR rewrite; all zero when !mac_known(). */
    const net::MacAddress& mac(uint32_t svc, uint32_t slot) const noexcept {
        return mac_[at(svc, slot)];
    }
    /** DPDK port id to transmit to the real in `slot` on. */
    uint16_t tx_port(uint32_t svc, uint32_t slot) const noexcept { return tx_port_[at(svc, slot)]; }
    /** Real address (cold). */
    const net::IpAddress& real_addr(uint32_t svc, uint32_t slot) const noexcept {
        return addr_[at(svc, slot)];
    }
    /** True when the slot may receive new connections (up, MAC known, weight > 0). */
    bool slot_usable(uint32_t svc, uint32_t slot) const noexcept {
        return (flags_[at(svc, slot)] & detail::kRealNew) != 0;
    }
    /** True when the slot may carry existing connections (up, MAC known; weight may be 0). */
    bool slot_forwardable(uint32_t svc, uint32_t slot) const noexcept {
        return (flags_[at(svc, slot)] & detail::kRealForward) != 0;
    }
    /** Per-slot flag bytes of service `svc` (detail::kReal*), for the schedulers' scans. */
    const uint8_t* slot_flags(uint32_t svc) const noexcept {
        return flags_.data() + services_[svc].real_begin;
    }

    /**
     * Where a real id lives: O(1), one array read.
     *
     * @param real_id  stable id
     * @return its service index and slot, or {kNoService, kNoReal} when not in this snapshot
     */
    RealLocation locate_real(uint32_t real_id) const noexcept {
        const RealHot& h = real_hot(real_id);
        return h.service_idx != kNoService ? RealLocation{h.service_idx, h.slot} : RealLocation{};
    }

    /**
     * The per-packet record of a real id (RealHot). An id not in this snapshot, including one
     * beyond all of its ids, gives a record whose service_idx is kNoService (and no flags), so
     * that the caller tests one field and never a null pointer.
     *
     * Caller: any lcore. noexcept, one bounds check and one 16-byte record.
     */
    const RealHot& real_hot(uint32_t real_id) const noexcept {
        return real_id < real_hot_count_ ? real_hot_[real_id] : kAbsentReal;
    }
    /** All RealHot records, indexed by real id: for a loop that keeps base and size in
        registers (ids beyond it are absent, as for real_hot()). */
    std::span<const RealHot> real_hots() const noexcept {
        return {real_hot_.data(), real_hot_count_};
    }

    /**
     * Slot of a real id within service `svc`.
     *
     * @return the slot, or kNoReal when the real is not a member of that service
     */
    uint32_t find_real(uint32_t svc, uint32_t real_id) const noexcept {
        const RealLocation loc = locate_real(real_id);
        return loc.service_idx == svc ? loc.slot : kNoReal;
    }

    /**
     * The H9 check on a per-core table hit: may the stored real still be used?
     *
     * Caller: any lcore. noexcept, O(1).
     *
     * @param svc      service index of the packet
     * @param real_id  real id stored in the table entry
     * @return Absent, Down, NoMac, Draining or Usable (see RealStatus)
     */
    RealStatus real_status(uint32_t svc, uint32_t real_id) const noexcept {
        const uint32_t slot = find_real(svc, real_id);
        if (slot == kNoReal) {
            return RealStatus::Absent;
        }
        const uint8_t f = flags_[at(svc, slot)];
        if ((f & detail::kRealUp) == 0) {
            return RealStatus::Down;
        }
        if ((f & detail::kRealMacKnown) == 0) {
            return RealStatus::NoMac;
        }
        return (f & detail::kRealNew) != 0 ? RealStatus::Usable : RealStatus::Draining;
    }

    /** True when real_id is a member of service `svc` (whatever its state). */
    bool real_present(uint32_t svc, uint32_t real_id) const noexcept {
        return find_real(svc, real_id) != kNoReal;
    }
    /** True when real_id is a member of `svc` and may receive new connections. */
    bool real_usable(uint32_t svc, uint32_t real_id) const noexcept {
        return real_status(svc, real_id) == RealStatus::Usable;
    }

    /** IPVS sh table of `svc`: kShBuckets slots (kMaglevEmpty when the service has no reals). */
    std::span<const uint16_t> sh_table(uint32_t svc) const noexcept {
        return {services_[svc].tables, kShBuckets};
    }
    /** IPVS dh table of `svc`: kDhBuckets slots. */
    std::span<const uint16_t> dh_table(uint32_t svc) const noexcept {
        return {services_[svc].tables + kShBuckets, kDhBuckets};
    }
    /** Maglev table of `svc`: maglev_size slots. */
    std::span<const uint16_t> maglev_table(uint32_t svc) const noexcept {
        return {services_[svc].tables + kShBuckets + kDhBuckets, services_[svc].maglev_size};
    }

    /**
     * Deterministic consistent-hash choice through the service's Maglev table (paper §3.4):
     * the same key gives the same real on every core and every director with the same
     * configuration. Used by the mh scheduler, as the sh/dh fallback, when the connection
     * table is full, and for TCP packets without state (sloppy_tcp).
     *
     * When the slot's owner may not take the flow (down, no MAC, or draining for NewFlow), the
     * key is rehashed and probed again (IPVS mh-fallback, `ip_vs_mh_get_fallback`), up to
     * kMaxFallbackProbes times, then the first acceptable slot after a hashed start is taken;
     * so only keys of unusable owners move, spread by weight, and nothing is dropped while any
     * real can take the flow.
     *
     * Caller: any lcore. noexcept, no allocation.
     *
     * @param svc   service index
     * @param key   any 32-bit flow or client hash (mixed internally)
     * @param mode  NewFlow (never weight 0) or ExistingFlow (draining reals allowed)
     * @return the slot, or kNoReal when no real qualifies
     */
    uint32_t consistent_pick(uint32_t svc, uint32_t key,
                             PickFor mode = PickFor::NewFlow) const noexcept;

    /** Probes of consistent_pick before the linear fallback. */
    static constexpr uint32_t kMaxFallbackProbes = 32;

private:
    friend class SnapshotBuilder;

    struct VipKey {
        uint8_t addr[16];
        uint16_t port;
        uint8_t proto;
        uint8_t family;
        friend bool operator==(const VipKey&, const VipKey&) = default;
    };
    static_assert(sizeof(VipKey) == 20, "VipKey is compared as raw bytes: no padding");
    struct IndexSlot {
        uint32_t hash;
        uint32_t service_idx;  // kNoService = empty
    };

    Snapshot();
    uint32_t at(uint32_t svc, uint32_t slot) const noexcept {
        assert(svc < services_.size() && slot < services_[svc].real_count);
        return services_[svc].real_begin + slot;
    }
    uint32_t find_exact(const VipKey& key) const noexcept {
        const uint32_t h = hash_key(key);
        // Load factor <= 1/2 guarantees an empty slot, so the probe terminates.
        for (uint32_t i = h & index_mask_;; i = (i + 1) & index_mask_) {
            const IndexSlot& s = index_[i];
            if (s.service_idx == kNoService) {
                return kNoService;
            }
            // memcmp: the defaulted operator== compares addr[16] byte by byte.
            if (s.hash == h && std::memcmp(&vip_keys_[s.service_idx], &key, sizeof key) == 0) {
                return s.service_idx;
            }
        }
    }
    uint32_t find_with_fallback(VipKey& key) const noexcept {
        const uint32_t svc = find_exact(key);
        if (svc != kNoService || !has_port0_ || key.port == 0) {
            return svc;
        }
        key.port = 0;  // IPVS port-0 service: every port of the VIP
        return find_exact(key);
    }
    /** CRC32-C of the key (3 crc32 instructions with SSE4.2), as net::flow_hash. */
    static uint32_t hash_key(const VipKey& key) noexcept {
        uint64_t a0;
        uint64_t a1;
        std::memcpy(&a0, key.addr, 8);
        std::memcpy(&a1, key.addr + 8, 8);
        const uint32_t meta =
            (uint32_t{key.port} << 16) | (uint32_t{key.proto} << 8) | key.family;
        return net::crc32c_u64(a1, net::crc32c_u64(a0, net::crc32c_u32(meta, 0x9e3779b9u)));
    }

    // Services.
    std::vector<ServiceInfo> services_;
    std::vector<VipKey> vip_keys_;  // by service index
    std::vector<IndexSlot> index_;  // open addressing, linear probing, load <= 1/2
    uint32_t index_mask_ = 0;
    bool has_port0_ = false;
    std::vector<uint32_t> service_by_id_;  // service_id -> index
    std::vector<net::IpAddress> vips_;     // distinct VIPs, sorted (is_vip)

    // Reals, parallel arrays indexed by ServiceInfo::real_begin + slot.
    std::vector<uint32_t> real_id_;
    std::vector<uint32_t> weight_;
    std::vector<uint8_t> flags_;
    std::vector<net::MacAddress> mac_;
    std::vector<uint16_t> tx_port_;
    std::vector<net::IpAddress> addr_;  // cold
    std::vector<RealHot> real_hot_;     // real_id -> location, flags, tx port, MAC
    uint32_t real_hot_count_ = 0;       // real_hot_.size(), for the per-packet bounds check
    uint64_t serial_;
    static constexpr RealHot kAbsentReal{};  // real_hot() of an id beyond real_hot_

    // Owners of the lookup tables ServiceInfo::tables points into, shared with neighbouring
    // snapshots; only the control lcore (build, destructor) touches them.
    std::unique_ptr<detail::TableRefs> table_refs_;
};

/**
 * Builds snapshots from plain service descriptions.
 *
 * Caller: control lcore only. Allocates; never used by workers.
 */
class SnapshotBuilder {
public:
    /**
     * Appends a service. Services keep the order they are added in (service indexes).
     *
     * @param spec  the service
     * @return *this
     */
    SnapshotBuilder& add(ServiceSpec spec);

    /**
     * Lets build() share lookup tables with `previous` for services whose id, table size and
     * backend list (addresses, ports, table weights, order) are unchanged.
     *
     * @param previous  the currently published snapshot; must outlive build(); may be null
     * @return *this
     */
    SnapshotBuilder& reuse_tables_from(const Snapshot* previous) noexcept {
        previous_ = previous;
        return *this;
    }

    /**
     * Validates the services and builds the snapshot.
     *
     * Errors (the message names the service and real): duplicate (VIP, port, protocol),
     * duplicate or out-of-range service_id / real_id, too many reals, weight > kMaxWeight,
     * persistence prefix longer than the VIP family, Maglev size not prime or not > reals.
     *
     * @return the snapshot, or the first error found
     */
    Result<std::unique_ptr<Snapshot>> build() const;

    /**
     * One-shot form: build(specs) with optional table sharing.
     *
     * @param specs     services in index order
     * @param previous  snapshot to share tables with, or null
     * @return the snapshot, or the first error found
     */
    static Result<std::unique_ptr<Snapshot>> build(std::span<const ServiceSpec> specs,
                                                   const Snapshot* previous = nullptr);

private:
    std::vector<ServiceSpec> specs_;
    const Snapshot* previous_ = nullptr;
};

}  // namespace director::lb
