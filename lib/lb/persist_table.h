// SPDX-License-Identifier: BSD-3-Clause
// PersistTable: one worker's persistence templates, (client address & granularity, service) ->
// real server, with keepalived's persistence_timeout semantics (IPVS ip_vs_core.c
// ip_vs_sched_persist(), ip_vs_conn.c ip_vs_conn_expire(); shared/reference/keepalived.md §3.3).
//
// Keying. The caller masks the client address with the service's persistence_granularity,
// hashes it (0 is folded to 1) and passes that hash with the service id; both are compared.
// Same buckets as ConnTable (four templates per 64-byte line, lazy expiry on probe, bounded
// sweep), and the same false-match note: with N live templates a new client shares another's
// template with probability about N / 2^32, which only means it gets that client's real.
//
// Semantics, and how they are kept cheaply:
//  - A new connection through a template (hit) restarts its timer: expiry >= now + T
//    (touch()). IPVS does this in ip_vs_sched_persist() via ip_vs_conn_put(ct).
//  - A template must not expire while it still controls live connections (IPVS counts them in
//    ct->n_control and re-arms the template in 60 s steps). We keep no count and no link from
//    connection to template; instead we keep the invariant
//        template.expires >= expiry of every live connection it controls
//    by extending the template (hold()) to hold_until(conn expiry), the end of that expiry's
//    kHoldGranule-second period, whenever a controlled connection is inserted and whenever
//    ConnTable::update_state() reports hold_due (its expiry moved into another period). While
//    the expiry stays in one period it stays below hold_until() of that period, so the
//    invariant holds with one template refresh per kHoldGranule seconds per connection rather
//    than per packet. Affinity therefore lasts at least T after the last new connection and
//    until the last controlled connection's entry expires (plus at most kHoldGranule seconds,
//    where IPVS allows up to 60).
//  - Invalidation is the caller's: it checks the template's real against the snapshot
//    (deleted, or weight 0 with expire_quiescent_template) and reschedules with update_real(),
//    which starts the template afresh, as IPVS unhashes the old template and creates a new one.
//  - Live templates are never evicted: a full bucket reports Full, and the caller falls back to
//    consistent hashing and counts it.
//
// Caller: the owning worker lcore only, for everything except create() and the destructor.
// Single writer, no locks, no allocation and noexcept after create().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/cacheline.h"
#include "common/result.h"
#include "lb/conn_table.h"

namespace director::lb {

/** One cache line, four templates, parallel arrays (as ConnBucket). */
struct alignas(kCacheLine) PersistBucket {
    uint32_t hash[kBucketWays];        ///< hash of the masked client address; 0 = empty
    uint32_t expires[kBucketWays];     ///< coarse seconds; wrap-safe compare
    uint32_t service_id[kBucketWays];  ///< index into the snapshot's services
    uint32_t real_id[kBucketWays];     ///< index into the snapshot's reals
};
static_assert(sizeof(PersistBucket) == kCacheLine);
static_assert(sizeof(PersistBucket) / kBucketWays <= 16);

/** A copy of one template, for dumps and tests (cold paths). */
struct PersistEntry {
    uint32_t slot = kNoSlot;
    uint32_t hash = 0;
    uint32_t expires = 0;
    uint32_t service_id = 0;
    uint32_t real_id = 0;
};

/** Init-only parameters (config `tables.persistence`). */
struct PersistTableConfig {
    uint32_t capacity = 1u << 18;  ///< slots; rounded up to 4 x a power of two
};

class PersistTable {
public:
    /**
     * Allocate and zero a table. Caller: any single thread, at init.
     *
     * @return the table, or an error if capacity is 0 or above kMaxTableCapacity, or the
     *         allocator fails.
     */
    static Result<std::unique_ptr<PersistTable>> create(
        const PersistTableConfig& config, TableAllocator allocator = TableAllocator::heap());

    /** Bytes create() will ask the allocator for. */
    static std::size_t memory_bytes(const PersistTableConfig& config) noexcept;

    ~PersistTable();
    PersistTable(const PersistTable&) = delete;
    PersistTable& operator=(const PersistTable&) = delete;

    /** Prefetch (for write) the bucket `key_hash` maps to. */
    void prefetch(uint32_t key_hash) const noexcept {
        __builtin_prefetch(&buckets_[detail::nonzero_hash(key_hash) & mask_], 1, 3);
    }

    /**
     * Find the live template for (key_hash, service_id); one found expired is removed and
     * reported as a miss.
     *
     * Caller: the owning worker lcore only. One cache line, noexcept.
     *
     * @return the template's slot, or kNoSlot
     */
    uint32_t lookup(uint32_t key_hash, uint32_t service_id, uint32_t now_s) noexcept {
        const uint32_t h = detail::nonzero_hash(key_hash);
        const uint32_t b = h & mask_;
        PersistBucket& bk = buckets_[b];
        const int way = detail::match_way(bk.hash, bk.service_id, h, service_id);
        if (way < 0) {
            return kNoSlot;
        }
        if (!time_after(bk.expires[way], now_s)) {
            release(bk, static_cast<unsigned>(way));
            return kNoSlot;
        }
        return b * kBucketWays + static_cast<uint32_t>(way);
    }

    /** Real id of a live template. */
    uint32_t real_id(uint32_t slot) const noexcept {
        return bucket(slot).real_id[slot % kBucketWays];
    }
    /** Expiry (coarse seconds) of a live template. */
    uint32_t expires(uint32_t slot) const noexcept {
        return bucket(slot).expires[slot % kBucketWays];
    }

    /**
     * A new connection went through this template: restart its timer, expiry =
     * max(expiry, now + timeout) (ip_vs_core.c ip_vs_sched_persist()).
     *
     * @param timeout_s  the service's persistence_timeout, seconds (clamped to
     *                   [1, kMaxTableTimeout])
     */
    void touch(uint32_t slot, uint32_t now_s, uint32_t timeout_s) noexcept {
        extend(bucket(slot), slot % kBucketWays, now_s + clamp_timeout(timeout_s));
    }

    /**
     * A connection this template controls now expires at `conn_expires`: keep the template
     * at least until hold_until(conn_expires). Call after inserting a controlled connection
     * and whenever ConnTable::update_state() returns hold_due for one.
     */
    void hold(uint32_t slot, uint32_t conn_expires) noexcept {
        extend(bucket(slot), slot % kBucketWays, hold_until(conn_expires));
    }

    /**
     * lookup() then hold(), for the per-packet refresh of an existing connection.
     *
     * @return false when there is no live template (nothing to hold)
     */
    bool hold(uint32_t key_hash, uint32_t service_id, uint32_t conn_expires,
              uint32_t now_s) noexcept {
        const uint32_t slot = lookup(key_hash, service_id, now_s);
        if (slot == kNoSlot) {
            return false;
        }
        hold(slot, conn_expires);
        return true;
    }

    /**
     * Add a template after lookup() missed and the scheduler chose `real_id`; it expires at
     * now + timeout_s unless touched or held. Takes an empty slot, else an expired one; live
     * templates are never evicted.
     *
     * Caller: the owning worker lcore only. One cache line, noexcept.
     *
     * @return slot and Inserted / ReplacedExpired, or {kNoSlot, Full}
     */
    InsertResult insert(uint32_t key_hash, uint32_t service_id, uint32_t real_id, uint32_t now_s,
                        uint32_t timeout_s) noexcept;

    /**
     * Reschedule an invalidated template to `real_id` and start it afresh: expiry = now +
     * timeout_s exactly (IPVS drops the old template and creates a new one).
     */
    void update_real(uint32_t slot, uint32_t real_id, uint32_t now_s, uint32_t timeout_s) noexcept;

    /** Remove a template. */
    void erase(uint32_t slot) noexcept;

    /**
     * Sweep the next `max_buckets` buckets and remove expired templates; bounded work, a full
     * pass takes bucket_count() / max_buckets calls.
     *
     * @return number of templates removed
     */
    uint32_t expire_step(uint32_t now_s, uint32_t max_buckets) noexcept;

    /** Occupied slots, including expired templates not yet swept. */
    uint32_t size() const noexcept { return size_; }
    uint32_t capacity() const noexcept { return (mask_ + 1) * kBucketWays; }
    uint32_t bucket_count() const noexcept { return mask_ + 1; }

    /** A copy of the template in `slot` (empty slots give hash 0). Cold path. */
    PersistEntry entry(uint32_t slot) const noexcept;

    /** Call f(const PersistEntry&) for every live template. Cold path: O(capacity). */
    template <class F>
    void for_each_live(uint32_t now_s, F&& f) const {
        for (uint32_t slot = 0; slot < capacity(); ++slot) {
            const PersistBucket& bk = bucket(slot);
            const unsigned way = slot % kBucketWays;
            if (bk.hash[way] != 0 && time_after(bk.expires[way], now_s)) {
                f(entry(slot));
            }
        }
    }

private:
    PersistTable(PersistBucket* buckets, uint32_t bucket_count, TableAllocator allocator) noexcept;

    static constexpr uint32_t clamp_timeout(uint32_t t) noexcept {
        return t < 1 ? 1 : (t > kMaxTableTimeout ? kMaxTableTimeout : t);
    }
    static void extend(PersistBucket& bk, unsigned way, uint32_t until) noexcept {
        if (time_after(until, bk.expires[way])) {
            bk.expires[way] = until;
        }
    }
    PersistBucket& bucket(uint32_t slot) noexcept { return buckets_[slot / kBucketWays]; }
    const PersistBucket& bucket(uint32_t slot) const noexcept {
        return buckets_[slot / kBucketWays];
    }
    void release(PersistBucket& bk, unsigned way) noexcept;

    // Fields used per packet.
    PersistBucket* buckets_;
    uint32_t mask_;  ///< bucket_count - 1
    uint32_t size_ = 0;
    uint32_t sweep_cursor_ = 0;

    // Cold.
    TableAllocator allocator_;
};

}  // namespace director::lb
