// SPDX-License-Identifier: BSD-3-Clause
// ConnTable: one worker's connection table, flow hash -> real server, with IPVS's TCP-state
// timeouts (tcp_state.h). Why a table of its own rather than rte_hash: the datapath needs a
// fixed-size, lossy, cache-line-bucketed table whose every operation touches one 64-byte line,
// whose inserts may fail (or give up a half-open entry) instead of growing, and which expires
// entries lazily on probe plus a bounded incremental sweep. That is VPP's lbhash.h (four
// entries per line, SoA arrays, timeout stamps, "it is not a big deal if writing into the hash
// table fails"), with IPVS's state machine and drop_entry defence (ip_vs_conn.c) added.
//
// Keying. An entry is keyed by (32-bit flow hash, service id); the caller hashes the 5-tuple
// (CRC32 or similar; 0 is reserved for "empty" and folded to 1 here). The bucket index is the
// hash's low bits, and all 32 bits plus the service id are compared. Two distinct flows of the
// same service collide when their hashes are equal: with N live entries a new flow falsely
// matches with probability about N / 2^32 (1 in 4096 at 1M live flows, 1 in 4M at 1k). A false
// match sends the new flow to the existing flow's real server (a valid real of the same service,
// so TCP still works; with persistence its affinity can be broken for that one connection) and
// the two flows share a timeout. VPP's sticky table makes the same trade.
//
// Sizing. capacity is a slot count: buckets = next power of two >= capacity / 4, 64 B each, so
// the memory is 16 B per slot (16 MiB for 1M slots) plus 8 B per real for the counts. Flows hash
// into 4-way buckets at random, so a bucket overflows before the table is full: at N live
// random flows in N slots about 80% are tracked, at N/2 about 96%, at N/4 about 99.6% (Poisson
// tail). A flow that finds its bucket full is still forwarded, by consistent hash, and the
// caller counts it (conn_untracked); it is never dropped for lack of state.
//
// Span. The memory is allocated and zeroed once, but the table addresses only its first `span`
// buckets, which grow with the entries it holds (linear hashing: one bucket splits into itself
// and the bucket past the span, in address order, so an address costs one compare more than a
// mask). It starts at kConnMinSpan buckets, and insert() splits up to four buckets whenever
// size() reaches span / kConnGrowBucketsPerEntry, until the span is the whole table (for 1M
// slots, from 64K entries on). Why: a bucket per flow spread over 16 MiB touches a page per
// flow, and a core's TLB holds a few thousand; a director with 4,096 live flows per core keeps
// them in 1 MiB instead (3% more throughput on the bench machine, whose guest pages the host
// backs with 4 KiB pages). The span never shrinks: like IPVS's connection cache, the table
// keeps what its busiest moment needed. While it grows, a new flow meets a full bucket with
// probability about 1.3e-4 (a whole 1M-slot table at 100k flows: 6e-4).
//
// SYN floods. An insert into a full bucket gives up a non-established entry (half-open first,
// then closing, oldest expiry first), never an ESTABLISHED or UDP one, so established
// connections keep their entries while a flood churns through the half-open ones.
//
// Time. Expiry stamps are 32-bit coarse seconds compared wrap-safely (VPP clib_u32_loop_gt), so
// timeouts are capped at 2^30 s and every entry must be visited by the sweep within 2^31 s.
//
// Per-real counts. The table keeps, per real id, the number of active (ESTABLISHED) and inactive
// (every other state, and UDP) entries, updated on insert, state change, real change, erase and
// expiry: IPVS's dest->activeconns / inactconns, which lc/wlc/sed/nq read. An entry leaves the
// counts when it is probed or swept after its expiry, so they lag real time by at most one
// sweep pass (span() / max_buckets calls of expire_step()).
//
// Caller: the owning worker lcore only, for everything except create() and the destructor
// (init/teardown on any single thread). Single writer, no locks, no allocation and noexcept
// after create(). Another thread (metrics) may read counts() through relaxed std::atomic_ref
// loads; the owner stores them through relaxed atomic_ref (STYLE H6).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/cacheline.h"
#include "common/result.h"
#include "lb/tcp_state.h"
#include "net/flow.h"

namespace director::lb {

// ---- shared by ConnTable and PersistTable -------------------------------------------------

/** Ways (entries) per 64-byte bucket. */
inline constexpr unsigned kBucketWays = 4;

/** Returned instead of a slot index on a miss or when an insert finds no room. */
inline constexpr uint32_t kNoSlot = UINT32_MAX;

/** Longest timeout a table accepts, in seconds; longer ones are clamped (wrap-safe compare). */
inline constexpr uint32_t kMaxTableTimeout = 1u << 30;

/** Largest capacity (slots) a table accepts: slot indices must stay below kNoSlot. */
inline constexpr uint32_t kMaxTableCapacity = 1u << 31;

/**
 * Wrap-safe "a is later than b" on 32-bit coarse seconds (VPP clib_u32_loop_gt, Linux
 * time_after): correct whenever the two stamps are less than 2^31 s apart.
 */
constexpr bool time_after(uint32_t a, uint32_t b) noexcept {
    return static_cast<int32_t>(a - b) > 0;
}

/**
 * The allocator both tables draw their memory from, once, in create(). Unit tests use heap()
 * (std::aligned_alloc); workers use rte(socket) so the table sits in hugepages on their NUMA
 * socket. alloc returns memory aligned to `align` (a power of two, >= 64) or nullptr; the table
 * zeroes it itself.
 */
struct TableAllocator {
    using AllocFn = void* (*)(std::size_t bytes, std::size_t align, void* ctx) noexcept;
    using FreeFn = void (*)(void* p, void* ctx) noexcept;

    AllocFn alloc = nullptr;
    FreeFn free = nullptr;
    void* ctx = nullptr;

    /** std::aligned_alloc / std::free. */
    static TableAllocator heap() noexcept;
    /** rte_zmalloc_socket / rte_free on `socket_id` (SOCKET_ID_ANY allowed); needs EAL. */
    static TableAllocator rte(int socket_id) noexcept;
};

/** What an insert did. Only the caller counts outcomes; the table just reports them. */
enum class InsertOutcome : uint8_t {
    Inserted,         ///< took an empty slot (or overwrote a live entry with the same key)
    ReplacedExpired,  ///< reused the slot of an entry that had expired but not yet been swept
    EvictedHalfOpen,  ///< gave up a live half-open entry (SYN_RECV, ...): SYN-flood defence
    EvictedClosing,   ///< gave up a live closing entry (FIN_WAIT, CLOSE, ...)
    Full,             ///< no room: forward by consistent hash and count conn_untracked
};

struct InsertResult {
    uint32_t slot = kNoSlot;  ///< where the entry went; kNoSlot when Full
    InsertOutcome outcome = InsertOutcome::Full;
};

/**
 * A hold on a persistence template lasts to the end of the kHoldGranule-second period in which
 * the controlling connection's entry expires. ConnTable::update_state() reports hold_due when a
 * connection's expiry moves into another period, which bounds template refreshes to one per
 * kHoldGranule seconds per connection; persist_table.h explains why that keeps the invariant.
 */
inline constexpr unsigned kHoldGranuleLog2 = 4;
inline constexpr uint32_t kHoldGranule = 1u << kHoldGranuleLog2;

/** The template expiry that covers a connection expiring at `conn_expires`. */
constexpr uint32_t hold_until(uint32_t conn_expires) noexcept {
    return (conn_expires | (kHoldGranule - 1)) + 1;
}

namespace detail {

/**
 * 0 marks an empty slot, so a caller's hash of 0 is stored and looked up as 1: net's rule for
 * flow hashes, so that a flow hash is stored as it is (lookup_update() takes it unchanged).
 */
constexpr uint32_t nonzero_hash(uint32_t h) noexcept { return net::flow_hash_nonzero(h); }

/** The way whose (hash, service) equals (h, s), or -1. At most one way can match. */
#if defined(__SSE2__)
inline int match_way(const uint32_t* hashes, const uint32_t* services, uint32_t h,
                     uint32_t s) noexcept {
    // Four 32-bit compares per array in one instruction each, as VPP lb_hash_get's u32x4.
    const __m128i hv = _mm_load_si128(reinterpret_cast<const __m128i*>(hashes));
    const __m128i sv = _mm_load_si128(reinterpret_cast<const __m128i*>(services));
    const __m128i eq = _mm_and_si128(_mm_cmpeq_epi32(hv, _mm_set1_epi32(static_cast<int>(h))),
                                     _mm_cmpeq_epi32(sv, _mm_set1_epi32(static_cast<int>(s))));
    const int mask = _mm_movemask_ps(_mm_castsi128_ps(eq));
    return mask != 0 ? __builtin_ctz(static_cast<unsigned>(mask)) : -1;
}
#else
inline int match_way(const uint32_t* hashes, const uint32_t* services, uint32_t h,
                     uint32_t s) noexcept {
    for (unsigned w = 0; w < kBucketWays; ++w) {
        if (hashes[w] == h && services[w] == s) {
            return static_cast<int>(w);
        }
    }
    return -1;
}
#endif

/**
 * expire_step() of either table: visits `max_buckets` buckets (at most all `count`) round robin
 * from `cursor`, calls release(bucket, way) for every occupied way whose expiry has passed, and
 * moves the cursor on. Bucket: a table's bucket type, with `hash` (0 = empty) and `expires`.
 * `count` need not be a power of two (ConnTable's span); a cursor at or past it restarts at 0.
 *
 * @return the number of ways released
 */
template <class Bucket, class Release>
uint32_t sweep_buckets(Bucket* buckets, uint32_t count, uint32_t& cursor, uint32_t now_s,
                       uint32_t max_buckets, Release&& release) noexcept {
    const uint32_t n = max_buckets < count ? max_buckets : count;
    uint32_t b = cursor < count ? cursor : 0;
    uint32_t removed = 0;
    for (uint32_t i = 0; i < n; ++i) {
        Bucket& bk = buckets[b];
        for (unsigned w = 0; w < kBucketWays; ++w) {
            if (bk.hash[w] != 0 && !time_after(bk.expires[w], now_s)) {
                release(bk, w);
                ++removed;
            }
        }
        b = b + 1 == count ? 0 : b + 1;
    }
    cursor = b;
    return removed;
}

}  // namespace detail

// ---- ConnTable ----------------------------------------------------------------------------

/**
 * One cache line, four connections, stored as parallel arrays (STYLE H4, VPP lbhash.h). The
 * state shares a word with the real id: real ids are below 2^28.
 */
struct alignas(kCacheLine) ConnBucket {
    uint32_t hash[kBucketWays];        ///< flow hash; 0 = empty slot
    uint32_t expires[kBucketWays];     ///< coarse seconds; wrap-safe compare
    uint32_t service_id[kBucketWays];  ///< index into the snapshot's services
    uint32_t real_state[kBucketWays];  ///< real id (bits 0..27) | ConnState (bits 28..31)
};
static_assert(sizeof(ConnBucket) == kCacheLine);

/** Bytes per connection entry: 16, four per cache line. */
inline constexpr std::size_t kConnEntryBytes = sizeof(ConnBucket) / kBucketWays;
static_assert(kConnEntryBytes <= 16);

/** Largest real id an entry can hold. */
inline constexpr uint32_t kMaxConnRealId = (1u << 28) - 1;

/** Buckets a table starts with (64 KiB; all of them when it has fewer): see Span above. */
inline constexpr uint32_t kConnMinSpan = 1024;

/**
 * The span grows while it has fewer than this many buckets per entry: at one entry per four
 * buckets, a new flow finds its bucket full with probability about 1.3e-4 (Poisson tail).
 */
inline constexpr uint32_t kConnGrowBucketsPerEntry = 4;

/** Per-real connection counts: IPVS's activeconns / inactconns for one real id. */
struct ConnCounts {
    uint32_t active = 0;    ///< entries in ESTABLISHED
    uint32_t inactive = 0;  ///< entries in any other state, and UDP flows

    friend bool operator==(const ConnCounts&, const ConnCounts&) = default;
};

/** A copy of one entry, for dumps and tests (cold paths). */
struct ConnEntry {
    uint32_t slot = kNoSlot;
    uint32_t hash = 0;
    uint32_t expires = 0;
    uint32_t service_id = 0;
    uint32_t real_id = 0;
    ConnState state = ConnState::None;
};

/** What update_state() did. */
struct ConnUpdate {
    ConnState state;  ///< the state after the packet
    /// The entry's expiry moved into another kHoldGranule period: if the connection belongs to
    /// a persistent service, extend its template with PersistTable::hold().
    bool hold_due;
    uint32_t expires;  ///< the entry's expiry after the packet
};

/** Init-only parameters (config `tables.connections`, timeouts). */
struct ConnTableConfig {
    uint32_t capacity = 1u << 20;  ///< slots; rounded up to 4 x a power of two
    uint32_t max_reals = 4096;     ///< size of the per-real count arrays (real ids 0..max-1)
    ConnTimeouts timeouts{};
};

class ConnTable {
public:
    /**
     * Allocate and zero a table. Caller: any single thread, at init (not a worker's loop).
     *
     * @return the table, or an error if capacity is 0 or above kMaxTableCapacity, max_reals is
     *         above kMaxConnRealId + 1, or the allocator fails.
     */
    static Result<std::unique_ptr<ConnTable>> create(
        const ConnTableConfig& config, TableAllocator allocator = TableAllocator::heap());

    /** Bytes create() will ask the allocator for: buckets plus count arrays. */
    static std::size_t memory_bytes(const ConnTableConfig& config) noexcept;

    ~ConnTable();
    ConnTable(const ConnTable&) = delete;
    ConnTable& operator=(const ConnTable&) = delete;

    /**
     * The bucket of a hash, with the table's base and span copied out, for a loop over a burst:
     * held in the caller's registers, they are not reloaded after each of the loop's stores
     * (which the compiler must assume may alias the table's members). Valid until the next
     * insert(), which may grow the span: a bucket found before it may no longer hold the entry,
     * and lookup_update() then declines (the caller's lookup() finds it).
     */
    struct Prefetcher {
        ConnBucket* buckets;
        uint32_t hi;    ///< 2^(L+1) - 1: the mask of the buckets split at this level
        uint32_t span;  ///< buckets in use, 2^L + split
        /** The bucket index of a (nonzero) stored hash: linear hashing's address. */
        uint32_t index(uint32_t h) const noexcept {
            // At or past the span, the bucket is not split yet at this level: the lower half's.
            const uint32_t b = h & hi;
            return b < span ? b : b & (hi >> 1);
        }
        /**
         * index() of each lane of V, a GCC vector of nonzero hashes (net::flow_hash's): the
         * worker's stage 1 finds a group's buckets at once.
         */
        template <class V>
        [[gnu::always_inline]] V index_of_hashes(V h) const noexcept {
            const V b = h & hi;
            return b < span ? b : b & (hi >> 1);
        }
        /** Prefetches (for write) the bucket of `hash` and returns it, for lookup_update. */
        ConnBucket* operator()(uint32_t hash) const noexcept {
            ConnBucket* b = &buckets[index(detail::nonzero_hash(hash))];
            __builtin_prefetch(b, 1, 3);
            return b;
        }
    };
    Prefetcher prefetcher() const noexcept { return {buckets_, hi_, span_}; }

    /** Prefetch (for write) the bucket `hash` maps to; call a few packets ahead of lookup. */
    void prefetch(uint32_t hash) const noexcept { prefetcher()(hash); }

    /**
     * Find the live entry for (hash, service_id). An entry found expired is removed on the
     * spot (lazy expiry, counts updated) and reported as a miss.
     *
     * Caller: the owning worker lcore only. One cache line, no allocation, noexcept.
     *
     * @return the entry's slot, or kNoSlot on a miss
     */
    uint32_t lookup(uint32_t hash, uint32_t service_id, uint32_t now_s) noexcept {
        uint32_t b;
        const int way = find_live(hash, service_id, now_s, b);
        return way < 0 ? kNoSlot : b * kBucketWays + static_cast<uint32_t>(way);
    }

    /** Real id of a live slot (from lookup() or insert()). */
    uint32_t real_id(uint32_t slot) const noexcept {
        return bucket(slot).real_state[slot % kBucketWays] & kRealMask;
    }
    /** State of a live slot. */
    ConnState state(uint32_t slot) const noexcept {
        return state_of(bucket(slot).real_state[slot % kBucketWays]);
    }
    /** Expiry (coarse seconds) of a live slot. */
    uint32_t expires(uint32_t slot) const noexcept {
        return bucket(slot).expires[slot % kBucketWays];
    }

    /**
     * Apply one client-to-server packet to a live entry: move it through IPVS's INPUT-ONLY
     * table (next_state) and re-arm its timeout for the new state, as every packet does in
     * IPVS (ip_vs_proto_tcp.c set_tcp_state(), ip_vs_conn.c ip_vs_conn_put()). UDP entries
     * just re-arm; pass tcp_flags = 0 for them. Moves the real's count between active and
     * inactive when the state crosses ESTABLISHED.
     *
     * Caller: the owning worker lcore only. Touches the slot's line only (and, on a state
     * change across ESTABLISHED, the real's count). noexcept.
     *
     * @param slot  a slot returned by lookup() or insert() in this iteration
     */
    ConnUpdate update_state(uint32_t slot, uint8_t tcp_flags, uint32_t now_s) noexcept {
        return update_at(bucket(slot), slot % kBucketWays, tcp_flags, now_s);
    }

    /**
     * The worker's fast lane in one call: the live entry for (hash, service_id) in `at` (the
     * bucket prefetcher() gave for `hash`), `accept(real_id)` on its real, then update_state()
     * when the packet keeps the entry's state (an ESTABLISHED connection's ACK, a UDP
     * datagram). It declines, changing nothing, whatever needs more: a miss, an entry found
     * expired (lookup() releases it), a real `accept` refuses, a change of state
     * (update_state() moves the entry and its real's count). So it makes no call, and the
     * caller's loop keeps its values in registers.
     *
     * Caller: the owning worker lcore only. noexcept as long as `accept` is.
     *
     * @param hash  nonzero, as net::flow_hash's are (so the path makes no nonzero_hash)
     * @param u     set when the result is true
     * @return true once the entry is re-armed; false when declined
     */
    template <class Accept>
    bool lookup_update(ConnBucket* at, uint32_t hash, uint32_t service_id, uint8_t tcp_flags,
                       uint32_t now_s, Accept&& accept, ConnUpdate& u) noexcept {
        assert(hash != 0);
        ConnBucket& bk = *at;
        const int way = detail::match_way(bk.hash, bk.service_id, hash, service_id);
        if (way < 0) {
            return false;
        }
        const unsigned w = static_cast<unsigned>(way);
        const uint32_t rs = bk.real_state[w];
        const uint32_t old_expires = bk.expires[w];
        if (!time_after(old_expires, now_s) || !accept(rs & kRealMask)) {
            return false;
        }
        const ConnState state = state_of(rs);
        if (((stays_[tcp_flags] >> static_cast<uint8_t>(state)) & 1) == 0) {
            return false;  // next_of(state, tcp_flags) != state
        }
        const uint32_t new_expires = now_s + timeout_[static_cast<uint8_t>(state)];
        bk.expires[w] = new_expires;
        u = {state, ((old_expires ^ new_expires) >> kHoldGranuleLog2) != 0, new_expires};
        return true;
    }

private:
    /**
     * lookup()'s probe: sets `b` to the hash's bucket and returns the way of the live entry for
     * (hash, service_id), or -1. An entry found expired is released (lazy expiry) and missed.
     */
    int find_live(uint32_t hash, uint32_t service_id, uint32_t now_s, uint32_t& b) noexcept {
        const uint32_t h = detail::nonzero_hash(hash);
        b = prefetcher().index(h);
        ConnBucket& bk = buckets_[b];
        const int way = detail::match_way(bk.hash, bk.service_id, h, service_id);
        if (way >= 0 && !time_after(bk.expires[way], now_s)) {
            release(bk, static_cast<unsigned>(way));
            return -1;
        }
        return way;
    }

    /** next_state(state, tcp_flags), from the table's own copy: one load off `this`. */
    ConnState next_of(ConnState state, uint8_t tcp_flags) const noexcept {
        return static_cast<ConnState>(
            next_[static_cast<uint8_t>(state) * kFlagIndexes + (tcp_flags & (kFlagIndexes - 1))]);
    }

    ConnUpdate update_at(ConnBucket& bk, unsigned way, uint8_t tcp_flags,
                         uint32_t now_s) noexcept {
        const uint32_t rs = bk.real_state[way];
        const ConnState old_state = state_of(rs);
        const ConnState new_state = next_of(old_state, tcp_flags);
        const uint32_t old_expires = bk.expires[way];
        const uint32_t new_expires = now_s + timeout_[static_cast<uint8_t>(new_state)];
        bk.expires[way] = new_expires;
        if (new_state != old_state) {
            bk.real_state[way] = pack(rs & kRealMask, new_state);
            if (is_active(new_state) != is_active(old_state)) {
                move_count(rs & kRealMask, is_active(new_state));
            }
        }
        return {new_state, ((old_expires ^ new_expires) >> kHoldGranuleLog2) != 0, new_expires};
    }

public:
    /**
     * Add an entry for a new flow, after lookup() missed. Takes, in order: the slot of an
     * equal key (should not exist), an empty slot, an expired one, the live non-established
     * entry with the highest evict_rank() and then the earliest expiry. ESTABLISHED and UDP
     * entries are never evicted; if the bucket holds only those, the result is Full.
     *
     * Caller: the owning worker lcore only. One cache line, or up to nine while the span grows
     * (Sizing above: the split moves other entries, so slots from earlier lookups are stale);
     * no allocation, noexcept.
     *
     * @param state    the initial state: next_state(ConnState::None, flags) for TCP (SYN gives
     *                 SynRecv), ConnState::Udp for anything else
     * @param real_id  the scheduled real, <= kMaxConnRealId; ids >= max_reals are stored but
     *                 counted in a sink slot outside counts()
     * @return the slot and what happened; slot == kNoSlot when Full
     */
    InsertResult insert(uint32_t hash, uint32_t service_id, uint32_t real_id, ConnState state,
                        uint32_t now_s) noexcept;

    /**
     * Would insert() of a new key with this hash find no room, i.e. return Full? True when
     * the hash's bucket holds four live entries that an insert may not evict (ESTABLISHED or
     * UDP); an empty, expired or evictable way means an insert would succeed. The worker asks
     * this before IPVS's strict "no SYN, no entry: drop" rule (sloppy_tcp off): a flow whose
     * SYN met a full bucket was forwarded untracked, and its later packets must not be
     * dropped for the entry the table could not give it.
     *
     * Caller: the owning worker lcore only. Reads one cache line, writes nothing. noexcept.
     */
    bool insert_would_fail(uint32_t hash, uint32_t now_s) const noexcept {
        const ConnBucket& bk = buckets_[prefetcher().index(detail::nonzero_hash(hash))];
        for (unsigned w = 0; w < kBucketWays; ++w) {
            if (bk.hash[w] == 0 || !time_after(bk.expires[w], now_s) ||
                evict_rank(state_of(bk.real_state[w])) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Point a live entry at another real (the snapshot says its real is gone; H9), keeping its
     * state and expiry; counts move with it.
     */
    void update_real(uint32_t slot, uint32_t real_id) noexcept;

    /** Remove a live entry (e.g. expire_nodest_conn); counts drop. */
    void erase(uint32_t slot) noexcept;

    /**
     * Sweep the next `max_buckets` buckets of the span (round robin, wrapping) and remove the
     * entries that have expired, so that per-real counts fall when connections end even if no
     * packet probes their bucket. Work is bounded by max_buckets lines; a full pass takes
     * span() / max_buckets calls.
     *
     * Caller: the owning worker lcore only, once per loop iteration or every few iterations.
     *
     * @return number of entries removed
     */
    uint32_t expire_step(uint32_t now_s, uint32_t max_buckets) noexcept;

    /**
     * Replace the timeouts (a reload changed them); they apply from each entry's next packet.
     * Values are clamped to [1, kMaxTableTimeout].
     */
    void set_timeouts(const ConnTimeouts& timeouts) noexcept;
    const ConnTimeouts& timeouts() const noexcept { return timeouts_; }

    /** Per-real counts, indexed by real id, max_reals() long. */
    std::span<const ConnCounts> counts() const noexcept { return {counts_, max_reals_}; }
    /** Counts for one real id (zero for ids >= max_reals()). */
    ConnCounts counts(uint32_t real_id) const noexcept {
        return real_id < max_reals_ ? counts_[real_id] : ConnCounts{};
    }

    /** Occupied slots, including expired entries the sweep has not reached yet. */
    uint32_t size() const noexcept { return size_; }
    /** Number of slots (bucket_count() * 4). */
    uint32_t capacity() const noexcept { return bucket_count_ * kBucketWays; }
    uint32_t bucket_count() const noexcept { return bucket_count_; }
    /** Buckets in use: the span grows with size() (see Sizing above) up to bucket_count(). */
    uint32_t span() const noexcept { return span_; }
    uint32_t max_reals() const noexcept { return max_reals_; }

    /** A copy of the entry in `slot` (empty slots give hash 0). Cold path. */
    ConnEntry entry(uint32_t slot) const noexcept;

    /** Call f(const ConnEntry&) for every live entry. Cold path (dumps, tests): O(capacity). */
    template <class F>
    void for_each_live(uint32_t now_s, F&& f) const {
        for (uint32_t slot = 0; slot < capacity(); ++slot) {
            const ConnBucket& bk = bucket(slot);
            const unsigned way = slot % kBucketWays;
            if (bk.hash[way] != 0 && time_after(bk.expires[way], now_s)) {
                f(entry(slot));
            }
        }
    }

private:
    static constexpr unsigned kStateShift = 28;
    static constexpr uint32_t kRealMask = (1u << kStateShift) - 1;

    ConnTable(ConnBucket* buckets, uint32_t bucket_count, ConnCounts* counts, uint32_t max_reals,
              TableAllocator allocator) noexcept;

    static constexpr uint32_t pack(uint32_t real_id, ConnState s) noexcept {
        return (real_id & kRealMask) | (static_cast<uint32_t>(s) << kStateShift);
    }
    static constexpr ConnState state_of(uint32_t real_state) noexcept {
        return static_cast<ConnState>(real_state >> kStateShift);
    }
    ConnBucket& bucket(uint32_t slot) noexcept { return buckets_[slot / kBucketWays]; }
    const ConnBucket& bucket(uint32_t slot) const noexcept { return buckets_[slot / kBucketWays]; }
    /** The counts of a real id; out-of-range ids share the sink entry counts_[max_reals_]. */
    ConnCounts& counts_of(uint32_t real_id) noexcept {
        return counts_[real_id < max_reals_ ? real_id : max_reals_];
    }
    void add_count(uint32_t real_id, ConnState s) noexcept;
    void sub_count(uint32_t real_id, ConnState s) noexcept;
    void move_count(uint32_t real_id, bool to_active) noexcept;
    /** Empty one occupied slot and drop its count. */
    void release(ConnBucket& bk, unsigned way) noexcept;
    /** Split the next bucket of the span into itself and the bucket past the span. */
    void split_one() noexcept;
    /** size() at which the span `span` is to grow. */
    uint32_t grow_threshold(uint32_t span) const noexcept;

    // Fields used per packet.
    ConnBucket* buckets_;
    uint32_t hi_;    ///< linear hashing: 2^(L+1) - 1 (Prefetcher::hi)
    uint32_t span_;  ///< buckets in use, 2^L + split (Prefetcher::span)
    uint32_t max_reals_;
    ConnCounts* counts_;  ///< max_reals_ + 1 entries (last: sink)
    uint32_t size_ = 0;
    uint32_t grow_at_;  ///< size() from which insert() splits buckets; UINT32_MAX when grown
    uint32_t sweep_cursor_ = 0;
    uint32_t timeout_[16] = {};  ///< clamped, indexed by ConnState
    /// next_state() for every state (4 bits) and the flag bits it reads (FIN SYN RST PSH ACK).
    static constexpr unsigned kFlagIndexes = 32;
    uint8_t next_[16 * kFlagIndexes] = {};
    /// Per TCP flag byte, bit s set when next_of(s, flags) == s: lookup_update's test in one
    /// load and a bit test, indexed by the whole byte (no mask).
    uint16_t stays_[256] = {};

    // Cold.
    uint32_t bucket_count_;
    ConnTimeouts timeouts_{};
    TableAllocator allocator_;
};

}  // namespace director::lb
