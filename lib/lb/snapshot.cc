// SPDX-License-Identifier: BSD-3-Clause
#include "lb/snapshot.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>

#include "lb/maglev.h"

namespace director::lb {

namespace detail {

// Lookup tables of one service: everything that depends only on the backend list, so that
// consecutive snapshots share them (built once, freed with the last snapshot using them).
struct TableInput {
    net::IpAddress addr;
    uint16_t port = 0;
    uint32_t weight = 0;  // table weight (weight, or last_weight while quiesced)
    friend bool operator==(const TableInput&, const TableInput&) = default;
};

struct ServiceTables {
    uint32_t maglev_size = 0;
    std::vector<TableInput> inputs;  // what the tables were built from (reuse check)
    std::vector<uint16_t> data;      // sh[kShBuckets] | dh[kDhBuckets] | maglev[maglev_size]
};

// One reference per service. shared_ptr refcounts change only on the control lcore (build and
// the RCU-deferred destructor); workers only read through ServiceInfo::tables.
struct TableRefs {
    std::vector<std::shared_ptr<const ServiceTables>> by_service;
};

}  // namespace detail

namespace {

constexpr uint64_t fmix64(uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

// Error location, e.g. "services[3] (10.99.0.252:80/tcp).reals[1]". Built only on error.
std::string where(size_t i, const ServiceSpec& s, size_t real = SIZE_MAX) {
    std::string w = "services[" + std::to_string(i) + "] (" + s.vip.to_string() + ":" +
                    std::to_string(s.port) + (s.proto == Protocol::Tcp ? "/tcp" : "/udp") + ")";
    if (real != SIZE_MAX) {
        w += ".reals[" + std::to_string(real) + "]";
    }
    return w;
}

// Table weight: the weight the lookup tables are laid out with (IPVS last_weight while the real
// is quiesced, so draining does not reshuffle Maglev or sh).
uint32_t table_weight(const RealSpec& r) noexcept {
    return r.weight > 0 ? r.weight : r.last_weight;
}

// IPVS ip_vs_sh_reassign: walk the dest list round robin, each dest taking `weight`
// consecutive buckets (a weight-0 dest still takes one, as ++d_count >= 0 holds at once).
void fill_sh(std::span<const detail::TableInput> in, uint16_t* sh) noexcept {
    if (in.empty()) {
        std::fill(sh, sh + kShBuckets, kMaglevEmpty);
        return;
    }
    size_t p = 0;
    uint32_t d_count = 0;
    for (uint32_t i = 0; i < kShBuckets; ++i) {
        sh[i] = static_cast<uint16_t>(p);
        if (++d_count >= in[p].weight) {
            p = (p + 1) % in.size();
            d_count = 0;
        }
    }
}

// IPVS ip_vs_dh_reassign: one bucket per dest, round robin, weights ignored.
void fill_dh(size_t n, uint16_t* dh) noexcept {
    for (uint32_t i = 0; i < kDhBuckets; ++i) {
        dh[i] = n == 0 ? kMaglevEmpty : static_cast<uint16_t>(i % n);
    }
}

std::shared_ptr<const detail::ServiceTables> build_tables(
    const std::vector<detail::TableInput>& inputs, uint32_t maglev_size) {
    auto t = std::make_shared<detail::ServiceTables>();
    t->maglev_size = maglev_size;
    t->data.resize(kShBuckets + kDhBuckets + maglev_size);
    fill_sh(inputs, t->data.data());
    fill_dh(inputs.size(), t->data.data() + kShBuckets);
    std::vector<MaglevBackend> backends;
    backends.reserve(inputs.size());
    for (const detail::TableInput& in : inputs) {
        backends.push_back(MaglevBackend{maglev_backend_key(in.addr, in.port), in.weight});
    }
    maglev_build(backends, std::span<uint16_t>(t->data).subspan(kShBuckets + kDhBuckets));
    t->inputs = inputs;
    return t;
}

bool same_inputs(const detail::ServiceTables& t, const std::vector<detail::TableInput>& in,
                 uint32_t maglev_size) noexcept {
    return t.maglev_size == maglev_size && t.inputs == in;
}

}  // namespace

Snapshot::Snapshot() {
    static std::atomic<uint64_t> last{0};
    serial_ = last.fetch_add(1, std::memory_order_relaxed) + 1;
}

Snapshot::~Snapshot() = default;

uint32_t Snapshot::find_service(const net::IpAddress& vip, uint16_t port,
                                uint8_t proto) const noexcept {
    VipKey key{};
    std::memcpy(key.addr, vip.bytes(), 16);
    key.port = port;
    key.proto = proto;
    key.family = static_cast<uint8_t>(vip.family());
    return find_with_fallback(key);
}

uint32_t Snapshot::find_service_v6(const uint8_t* addr, uint16_t port,
                                   uint8_t proto) const noexcept {
    VipKey key{};
    std::memcpy(key.addr, addr, 16);
    key.port = port;
    key.proto = proto;
    key.family = static_cast<uint8_t>(net::Family::V6);
    return find_with_fallback(key);
}

bool Snapshot::is_vip(const uint8_t* addr, net::Family family) const noexcept {
    const net::IpAddress a = family == net::Family::V4 ? net::IpAddress::v4_bytes(addr)
                                                       : net::IpAddress::v6_bytes(addr);
    return std::binary_search(vips_.begin(), vips_.end(), a);
}

net::IpAddress Snapshot::vip(uint32_t svc) const noexcept {
    const VipKey& k = vip_keys_[svc];
    return k.family == static_cast<uint8_t>(net::Family::V4) ? net::IpAddress::v4_bytes(k.addr)
                                                             : net::IpAddress::v6_bytes(k.addr);
}

uint32_t Snapshot::consistent_pick(uint32_t svc, uint32_t key, PickFor mode) const noexcept {
    const ServiceInfo& s = services_[svc];
    const bool fresh = mode == PickFor::NewFlow;
    if ((fresh ? s.usable_count : s.forwardable_count) == 0) {
        return kNoReal;
    }
    const uint8_t need = fresh ? detail::kRealNew : detail::kRealForward;
    const uint8_t* flags = flags_.data() + s.real_begin;
    const uint16_t* table = s.tables + kShBuckets + kDhBuckets;
    const uint32_t h0 = mix32(key);
    // Probe 0 is the plain Maglev lookup; later probes rehash the key with the probe number,
    // like ip_vs_mh_get_fallback's hash(offset), so each key's fallback is fixed and the keys
    // of one dead owner spread over the others in proportion to their slots.
    uint32_t h = h0;
    for (uint32_t probe = 0; probe <= kMaxFallbackProbes; ++probe) {
        const uint16_t slot = table[maglev_index(h, s.maglev_size)];
        if (slot != kMaglevEmpty && (flags[slot] & need) != 0) {
            return slot;
        }
        h = mix32(h0 + (probe + 1) * 0x9e3779b9u);
    }
    // Most owners are unusable: take the first acceptable slot after a hashed start.
    const uint32_t start = maglev_index(h0, s.real_count);
    for (uint32_t i = 0; i < s.real_count; ++i) {
        uint32_t slot = start + i;
        if (slot >= s.real_count) {
            slot -= s.real_count;
        }
        if ((flags[slot] & need) != 0) {
            return slot;
        }
    }
    return kNoReal;
}

SnapshotBuilder& SnapshotBuilder::add(ServiceSpec spec) {
    specs_.push_back(std::move(spec));
    return *this;
}

Result<std::unique_ptr<Snapshot>> SnapshotBuilder::build() const {
    return build(specs_, previous_);
}

Result<std::unique_ptr<Snapshot>> SnapshotBuilder::build(std::span<const ServiceSpec> specs,
                                                         const Snapshot* previous) {
    std::unique_ptr<Snapshot> snap(new Snapshot());
    Snapshot& s = *snap;

    // Pass 1: validate and size.
    size_t total_reals = 0;
    uint32_t max_service_id = 0;
    uint32_t max_real_id = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
        const ServiceSpec& spec = specs[i];
        if (spec.service_id >= kMaxServices) {
            return make_error(where(i, spec) + ": service_id " + std::to_string(spec.service_id) +
                              " >= " + std::to_string(kMaxServices));
        }
        if (spec.reals.size() > kMaxRealsPerService) {
            return make_error(where(i, spec) + ": " + std::to_string(spec.reals.size()) +
                              " reals, at most " + std::to_string(kMaxRealsPerService));
        }
        if (spec.persistence_prefix_len != kFullPrefix &&
            spec.persistence_prefix_len > spec.vip.max_prefix()) {
            return make_error(where(i, spec) + ": persistence prefix /" +
                              std::to_string(spec.persistence_prefix_len) + " longer than /" +
                              std::to_string(spec.vip.max_prefix()));
        }
        if (spec.maglev_size != 0 &&
            (!is_prime(spec.maglev_size) || spec.maglev_size <= spec.reals.size() ||
             spec.maglev_size > 0xFFFFFFu)) {
            return make_error(where(i, spec) + ": maglev table size " +
                              std::to_string(spec.maglev_size) +
                              " must be a prime larger than the number of reals");
        }
        for (size_t j = 0; j < spec.reals.size(); ++j) {
            const RealSpec& r = spec.reals[j];
            if (r.real_id >= kMaxReals) {
                return make_error(where(i, spec, j) + ": real_id " + std::to_string(r.real_id) +
                                  " >= " + std::to_string(kMaxReals));
            }
            if (r.weight > kMaxWeight || r.last_weight > kMaxWeight) {
                return make_error(where(i, spec, j) + ": weight above " +
                                  std::to_string(kMaxWeight));
            }
            max_real_id = std::max(max_real_id, r.real_id);
        }
        max_service_id = std::max(max_service_id, spec.service_id);
        total_reals += spec.reals.size();
    }

    const auto n_services = static_cast<uint32_t>(specs.size());
    s.services_.resize(n_services);
    s.vip_keys_.resize(n_services);
    s.table_refs_ = std::make_unique<detail::TableRefs>();
    s.table_refs_->by_service.resize(n_services);
    s.service_by_id_.assign(n_services == 0 ? 0 : size_t{max_service_id} + 1, kNoService);
    s.real_hot_.assign(total_reals == 0 ? 0 : size_t{max_real_id} + 1, RealHot{});
    s.real_hot_count_ = static_cast<uint32_t>(s.real_hot_.size());
    s.real_id_.resize(total_reals);
    s.weight_.resize(total_reals);
    s.flags_.resize(total_reals);
    s.mac_.resize(total_reals);
    s.tx_port_.resize(total_reals);
    s.addr_.resize(total_reals);
    const uint32_t capacity = std::max<uint32_t>(16, std::bit_ceil(n_services * 2 + 1));
    s.index_.assign(capacity, Snapshot::IndexSlot{0, kNoService});
    s.index_mask_ = capacity - 1;

    // Pass 2: fill.
    uint32_t begin = 0;
    std::vector<detail::TableInput> inputs;
    for (uint32_t i = 0; i < n_services; ++i) {
        const ServiceSpec& spec = specs[i];
        if (s.service_by_id_[spec.service_id] != kNoService) {
            return make_error(where(i, spec) + ": duplicate service_id " +
                              std::to_string(spec.service_id));
        }
        s.service_by_id_[spec.service_id] = i;

        // VIP index.
        Snapshot::VipKey& key = s.vip_keys_[i];
        std::memset(&key, 0, sizeof(key));
        std::memcpy(key.addr, spec.vip.bytes(), 16);
        key.port = spec.port;
        key.proto = static_cast<uint8_t>(spec.proto);
        key.family = static_cast<uint8_t>(spec.vip.family());
        if (s.find_exact(key) != kNoService) {
            return make_error(where(i, spec) + ": duplicate virtual service");
        }
        const uint32_t h = Snapshot::hash_key(key);
        for (uint32_t b = h & s.index_mask_;; b = (b + 1) & s.index_mask_) {
            if (s.index_[b].service_idx == kNoService) {
                s.index_[b] = Snapshot::IndexSlot{h, i};
                break;
            }
        }
        s.has_port0_ = s.has_port0_ || spec.port == 0;
        s.vips_.push_back(spec.vip);

        // Reals.
        const auto n = static_cast<uint32_t>(spec.reals.size());
        ServiceInfo& info = s.services_[i];
        info.service_id = spec.service_id;
        info.real_begin = begin;
        info.real_count = n;
        info.generation = spec.generation;
        info.persistence_timeout_s = spec.persistence_timeout_s;
        info.port = spec.port;
        info.proto = spec.proto;
        info.scheduler = spec.scheduler;
        info.persistence_prefix_len = spec.persistence_prefix_len == kFullPrefix
                                          ? static_cast<uint8_t>(spec.vip.max_prefix())
                                          : spec.persistence_prefix_len;
        info.family = spec.vip.family();

        inputs.clear();
        uint32_t gcd = 0;
        uint32_t max_w = 0;
        // sched_key: the generation plus which reals are usable and their weights; IPVS resets
        // wrr/rr on every dest add/delete/edit (ip_vs_wrr_dest_changed), and a health change
        // is a delete/add there.
        uint64_t sched = fmix64(uint64_t{spec.generation} ^ (uint64_t{n} << 32));
        for (uint32_t j = 0; j < n; ++j) {
            const RealSpec& r = spec.reals[j];
            const uint32_t k = begin + j;
            RealHot& hot = s.real_hot_[r.real_id];
            if (hot.service_idx != kNoService) {
                return make_error(where(i, spec, j) + ": duplicate real_id " +
                                  std::to_string(r.real_id));
            }
            hot.service_idx = i;
            hot.slot = static_cast<uint16_t>(j);
            hot.tx_port = r.tx_port;
            s.real_id_[k] = r.real_id;
            s.weight_[k] = r.weight;
            s.tx_port_[k] = r.tx_port;
            s.addr_[k] = r.addr;
            uint8_t f = 0;
            if (r.state == RealState::Up) {
                f |= detail::kRealUp;
            }
            if (r.mac.has_value()) {
                f |= detail::kRealMacKnown;
                s.mac_[k] = *r.mac;
                hot.mac = *r.mac;
            }
            if ((f & detail::kRealUp) != 0 && (f & detail::kRealMacKnown) != 0) {
                f |= detail::kRealForward;
                ++info.forwardable_count;
                if (r.weight > 0) {
                    f |= detail::kRealNew;
                    ++info.usable_count;
                    gcd = std::gcd(gcd, r.weight);
                    max_w = std::max(max_w, r.weight);
                }
            }
            s.flags_[k] = f;
            hot.flags = f;
            const bool usable = (f & detail::kRealNew) != 0;
            sched = fmix64(sched ^ ((uint64_t{usable ? r.weight : 0} << 1) | usable) ^ j);
            inputs.push_back(detail::TableInput{r.addr, r.port, table_weight(r)});
        }
        // ip_vs_wrr_init_svc: di = gcd of positive weights (1 if none), mw = max - (di - 1).
        info.wrr_di = static_cast<int32_t>(gcd == 0 ? 1 : gcd);
        info.wrr_mw = max_w == 0 ? 0 : static_cast<int32_t>(max_w) - (info.wrr_di - 1);
        info.sched_key = static_cast<uint32_t>(sched) | 1u;  // never 0 (fresh SchedState)

        // Lookup tables: share with the previous snapshot when built from the same inputs.
        const uint32_t m = spec.maglev_size != 0 ? spec.maglev_size : maglev_table_size_for(n);
        std::shared_ptr<const detail::ServiceTables> tables;
        if (previous != nullptr) {
            const uint32_t prev = previous->service_index(spec.service_id);
            if (prev != kNoService &&
                same_inputs(*previous->table_refs_->by_service[prev], inputs, m)) {
                tables = previous->table_refs_->by_service[prev];
            }
        }
        if (!tables) {
            tables = build_tables(inputs, m);
        }
        info.tables = tables->data.data();
        info.maglev_size = tables->maglev_size;
        s.table_refs_->by_service[i] = std::move(tables);
        begin += n;
    }
    std::sort(s.vips_.begin(), s.vips_.end());
    s.vips_.erase(std::unique(s.vips_.begin(), s.vips_.end()), s.vips_.end());
    return snap;
}

}  // namespace director::lb
