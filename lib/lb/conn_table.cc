// SPDX-License-Identifier: BSD-3-Clause
#include "lb/conn_table.h"

#include <rte_malloc.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace director::lb {

// ---- TableAllocator -----------------------------------------------------------------------

namespace {

void* heap_alloc(std::size_t bytes, std::size_t align, void* /*ctx*/) noexcept {
    // std::aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t rounded = (bytes + align - 1) / align * align;
    return std::aligned_alloc(align, rounded);
}

void heap_free(void* p, void* /*ctx*/) noexcept { std::free(p); }

void* rte_alloc(std::size_t bytes, std::size_t align, void* ctx) noexcept {
    const int socket = static_cast<int>(reinterpret_cast<intptr_t>(ctx));
    return rte_zmalloc_socket("director_lb_table", bytes, static_cast<unsigned>(align), socket);
}

void rte_free_fn(void* p, void* /*ctx*/) noexcept { rte_free(p); }

std::size_t round_to_line(std::size_t bytes) noexcept {
    return (bytes + kCacheLine - 1) / kCacheLine * kCacheLine;
}

}  // namespace

TableAllocator TableAllocator::heap() noexcept {
    return {.alloc = heap_alloc, .free = heap_free, .ctx = nullptr};
}

TableAllocator TableAllocator::rte(int socket_id) noexcept {
    return {.alloc = rte_alloc,
            .free = rte_free_fn,
            .ctx = reinterpret_cast<void*>(static_cast<intptr_t>(socket_id))};
}

// ---- ConnTable ----------------------------------------------------------------------------

namespace {

uint32_t conn_bucket_count(uint32_t capacity) noexcept {
    return std::bit_ceil((capacity + kBucketWays - 1) / kBucketWays);
}

std::size_t counts_bytes(uint32_t max_reals) noexcept {
    return round_to_line((static_cast<std::size_t>(max_reals) + 1) * sizeof(ConnCounts));
}

}  // namespace

std::size_t ConnTable::memory_bytes(const ConnTableConfig& config) noexcept {
    return static_cast<std::size_t>(conn_bucket_count(config.capacity)) * sizeof(ConnBucket) +
           counts_bytes(config.max_reals);
}

Result<std::unique_ptr<ConnTable>> ConnTable::create(const ConnTableConfig& config,
                                                     TableAllocator allocator) {
    if (config.capacity == 0 || config.capacity > kMaxTableCapacity) {
        return make_error("connection table capacity " + std::to_string(config.capacity) +
                          " out of range 1.." + std::to_string(kMaxTableCapacity));
    }
    if (config.max_reals > kMaxConnRealId + 1) {
        return make_error("connection table max_reals " + std::to_string(config.max_reals) +
                          " above " + std::to_string(kMaxConnRealId + 1));
    }
    if (allocator.alloc == nullptr || allocator.free == nullptr) {
        return make_error("connection table: allocator without alloc/free");
    }
    const uint32_t nb = conn_bucket_count(config.capacity);
    const std::size_t bucket_bytes = static_cast<std::size_t>(nb) * sizeof(ConnBucket);
    void* b = allocator.alloc(bucket_bytes, kCacheLine, allocator.ctx);
    if (b == nullptr) {
        return make_error("connection table: cannot allocate " + std::to_string(bucket_bytes) +
                          " bytes for " + std::to_string(nb) + " buckets");
    }
    const std::size_t cbytes = counts_bytes(config.max_reals);
    void* c = allocator.alloc(cbytes, kCacheLine, allocator.ctx);
    if (c == nullptr) {
        allocator.free(b, allocator.ctx);
        return make_error("connection table: cannot allocate " + std::to_string(cbytes) +
                          " bytes for per-real counts");
    }
    std::memset(b, 0, bucket_bytes);
    std::memset(c, 0, cbytes);
    std::unique_ptr<ConnTable> t(new (std::nothrow) ConnTable(
        static_cast<ConnBucket*>(b), nb, static_cast<ConnCounts*>(c), config.max_reals, allocator));
    if (!t) {
        allocator.free(c, allocator.ctx);
        allocator.free(b, allocator.ctx);
        return make_error("connection table: out of memory");
    }
    t->set_timeouts(config.timeouts);
    return t;
}

ConnTable::ConnTable(ConnBucket* buckets, uint32_t bucket_count, ConnCounts* counts,
                     uint32_t max_reals, TableAllocator allocator) noexcept
    : buckets_(buckets),
      hi_(std::min(bucket_count, kConnMinSpan) - 1),
      span_(std::min(bucket_count, kConnMinSpan)),
      max_reals_(max_reals),
      counts_(counts),
      bucket_count_(bucket_count),
      allocator_(allocator) {
    grow_at_ = grow_threshold(span_);
    for (unsigned st = 0; st < kConnStateCount; ++st) {
        for (unsigned f = 0; f < kFlagIndexes; ++f) {
            next_[st * kFlagIndexes + f] = static_cast<uint8_t>(
                next_state(static_cast<ConnState>(st), static_cast<uint8_t>(f)));
        }
    }
    static_assert(kConnStateCount <= 16, "stays_ holds a bit per state");
    for (unsigned f = 0; f < 256; ++f) {
        for (unsigned st = 0; st < kConnStateCount; ++st) {
            const auto s = static_cast<ConnState>(st);
            if (next_of(s, static_cast<uint8_t>(f)) == s) {
                stays_[f] = static_cast<uint16_t>(stays_[f] | (1u << st));
            }
        }
    }
}

ConnTable::~ConnTable() {
    allocator_.free(counts_, allocator_.ctx);
    allocator_.free(buckets_, allocator_.ctx);
}

void ConnTable::set_timeouts(const ConnTimeouts& timeouts) noexcept {
    timeouts_ = timeouts;
    for (unsigned s = 0; s < kConnStateCount; ++s) {
        timeout_[s] =
            std::clamp(timeouts.for_state(static_cast<ConnState>(s)), 1u, kMaxTableTimeout);
    }
}

namespace {

/**
 * Counts have one writer (this lcore) but may be read by the metrics thread: store through a
 * relaxed atomic_ref (a plain mov on x86-64; STYLE H6), never a read-modify-write.
 */
void add_relaxed(uint32_t& field, int32_t delta) noexcept {
    std::atomic_ref<uint32_t>(field).store(field + static_cast<uint32_t>(delta),
                                           std::memory_order_relaxed);
}

}  // namespace

void ConnTable::add_count(uint32_t real_id, ConnState s) noexcept {
    ConnCounts& c = counts_of(real_id);
    add_relaxed(is_active(s) ? c.active : c.inactive, 1);
}

void ConnTable::sub_count(uint32_t real_id, ConnState s) noexcept {
    ConnCounts& c = counts_of(real_id);
    uint32_t& field = is_active(s) ? c.active : c.inactive;
    assert(field > 0);
    add_relaxed(field, -1);
}

void ConnTable::move_count(uint32_t real_id, bool to_active) noexcept {
    ConnCounts& c = counts_of(real_id);
    assert((to_active ? c.inactive : c.active) > 0);
    add_relaxed(c.active, to_active ? 1 : -1);
    add_relaxed(c.inactive, to_active ? -1 : 1);
}

void ConnTable::release(ConnBucket& bk, unsigned way) noexcept {
    const uint32_t rs = bk.real_state[way];
    sub_count(rs & kRealMask, state_of(rs));
    bk.hash[way] = 0;
    bk.expires[way] = 0;
    bk.service_id[way] = 0;
    bk.real_state[way] = 0;
    --size_;
}

uint32_t ConnTable::grow_threshold(uint32_t span) const noexcept {
    return span == bucket_count_ ? UINT32_MAX : span / kConnGrowBucketsPerEntry;
}

void ConnTable::split_one() noexcept {
    // Linear hashing (Litwin 1980): the span's buckets split in address order, one level after
    // another, so that the buckets in use stay [0, span) and an address takes one compare
    // (Prefetcher::index). The bucket past the span is empty: nothing writes beyond it.
    if (span_ == hi_ + 1) {
        hi_ = 2 * hi_ + 1;  // the level is complete: the next one splits 0, 1, ...
    }
    ConnBucket& from = buckets_[span_ - (hi_ + 1) / 2];
    ConnBucket& to = buckets_[span_];
    for (unsigned w = 0; w < kBucketWays; ++w) {
        assert(to.hash[w] == 0);
        if (from.hash[w] != 0 && (from.hash[w] & hi_) == span_) {
            to.hash[w] = from.hash[w];
            to.expires[w] = from.expires[w];
            to.service_id[w] = from.service_id[w];
            to.real_state[w] = from.real_state[w];
            from.hash[w] = 0;
            from.expires[w] = 0;
            from.service_id[w] = 0;
            from.real_state[w] = 0;
        }
    }
    ++span_;
    grow_at_ = grow_threshold(span_);
}

InsertResult ConnTable::insert(uint32_t hash, uint32_t service_id, uint32_t real_id,
                               ConnState state, uint32_t now_s) noexcept {
    assert(real_id <= kMaxConnRealId);
    // Grow before choosing the slot, so that the slot returned stays where it is.
    for (unsigned i = 0; i < kConnGrowBucketsPerEntry && size_ >= grow_at_; ++i) {
        split_one();
    }
    const uint32_t h = detail::nonzero_hash(hash);
    const uint32_t b = prefetcher().index(h);
    ConnBucket& bk = buckets_[b];

    // Choose the slot (see the header for the order of preference).
    int way = detail::match_way(bk.hash, bk.service_id, h, service_id);
    InsertOutcome outcome = InsertOutcome::Inserted;
    if (way < 0) {
        int empty = -1;
        int expired = -1;
        int victim = -1;
        unsigned victim_rank = 0;
        for (unsigned w = 0; w < kBucketWays; ++w) {
            if (bk.hash[w] == 0) {
                empty = static_cast<int>(w);
                break;
            }
            if (!time_after(bk.expires[w], now_s)) {
                expired = expired < 0 ? static_cast<int>(w) : expired;
                continue;
            }
            // ip_vs_conn.c ip_vs_random_dropentry(): SYN_RECV/SYNACK go first; we never drop
            // ESTABLISHED (rank 0). Oldest = earliest expiry within the best rank.
            const unsigned rank = evict_rank(state_of(bk.real_state[w]));
            if (rank > victim_rank || (rank != 0 && rank == victim_rank &&
                                       time_after(bk.expires[victim], bk.expires[w]))) {
                victim = static_cast<int>(w);
                victim_rank = rank;
            }
        }
        if (empty >= 0) {
            way = empty;
        } else if (expired >= 0) {
            way = expired;
            outcome = InsertOutcome::ReplacedExpired;
        } else if (victim >= 0) {
            way = victim;
            outcome =
                victim_rank == 2 ? InsertOutcome::EvictedHalfOpen : InsertOutcome::EvictedClosing;
        } else {
            return {kNoSlot, InsertOutcome::Full};
        }
    }
    const auto w = static_cast<unsigned>(way);
    if (bk.hash[w] != 0) {
        release(bk, w);
    }
    bk.hash[w] = h;
    bk.expires[w] = now_s + timeout_[static_cast<uint8_t>(state)];
    bk.service_id[w] = service_id;
    bk.real_state[w] = pack(real_id, state);
    add_count(real_id & kRealMask, state);
    ++size_;
    return {b * kBucketWays + w, outcome};
}

void ConnTable::update_real(uint32_t slot, uint32_t real_id) noexcept {
    assert(real_id <= kMaxConnRealId);
    ConnBucket& bk = bucket(slot);
    const unsigned way = slot % kBucketWays;
    const uint32_t rs = bk.real_state[way];
    const ConnState s = state_of(rs);
    sub_count(rs & kRealMask, s);
    add_count(real_id & kRealMask, s);
    bk.real_state[way] = pack(real_id, s);
}

void ConnTable::erase(uint32_t slot) noexcept {
    ConnBucket& bk = bucket(slot);
    const unsigned way = slot % kBucketWays;
    if (bk.hash[way] != 0) {
        release(bk, way);
    }
}

uint32_t ConnTable::expire_step(uint32_t now_s, uint32_t max_buckets) noexcept {
    return detail::sweep_buckets(buckets_, span_, sweep_cursor_, now_s, max_buckets,
                                 [this](ConnBucket& bk, unsigned way) { release(bk, way); });
}

ConnEntry ConnTable::entry(uint32_t slot) const noexcept {
    const ConnBucket& bk = bucket(slot);
    const unsigned way = slot % kBucketWays;
    return {.slot = slot,
            .hash = bk.hash[way],
            .expires = bk.expires[way],
            .service_id = bk.service_id[way],
            .real_id = bk.real_state[way] & kRealMask,
            .state = state_of(bk.real_state[way])};
}

}  // namespace director::lb
