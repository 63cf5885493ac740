// SPDX-License-Identifier: BSD-3-Clause
#include "lb/persist_table.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <string>

namespace director::lb {

namespace {

uint32_t persist_bucket_count(uint32_t capacity) noexcept {
    return std::bit_ceil((capacity + kBucketWays - 1) / kBucketWays);
}

}  // namespace

std::size_t PersistTable::memory_bytes(const PersistTableConfig& config) noexcept {
    return static_cast<std::size_t>(persist_bucket_count(config.capacity)) * sizeof(PersistBucket);
}

Result<std::unique_ptr<PersistTable>> PersistTable::create(const PersistTableConfig& config,
                                                           TableAllocator allocator) {
    if (config.capacity == 0 || config.capacity > kMaxTableCapacity) {
        return make_error("persistence table capacity " + std::to_string(config.capacity) +
                          " out of range 1.." + std::to_string(kMaxTableCapacity));
    }
    if (allocator.alloc == nullptr || allocator.free == nullptr) {
        return make_error("persistence table: allocator without alloc/free");
    }
    const uint32_t nb = persist_bucket_count(config.capacity);
    const std::size_t bytes = static_cast<std::size_t>(nb) * sizeof(PersistBucket);
    void* b = allocator.alloc(bytes, kCacheLine, allocator.ctx);
    if (b == nullptr) {
        return make_error("persistence table: cannot allocate " + std::to_string(bytes) +
                          " bytes for " + std::to_string(nb) + " buckets");
    }
    std::memset(b, 0, bytes);
    std::unique_ptr<PersistTable> t(
        new (std::nothrow) PersistTable(static_cast<PersistBucket*>(b), nb, allocator));
    if (!t) {
        allocator.free(b, allocator.ctx);
        return make_error("persistence table: out of memory");
    }
    return t;
}

PersistTable::PersistTable(PersistBucket* buckets, uint32_t bucket_count,
                           TableAllocator allocator) noexcept
    : buckets_(buckets), mask_(bucket_count - 1), allocator_(allocator) {}

PersistTable::~PersistTable() { allocator_.free(buckets_, allocator_.ctx); }

void PersistTable::release(PersistBucket& bk, unsigned way) noexcept {
    bk.hash[way] = 0;
    bk.expires[way] = 0;
    bk.service_id[way] = 0;
    bk.real_id[way] = 0;
    --size_;
}

InsertResult PersistTable::insert(uint32_t key_hash, uint32_t service_id, uint32_t real_id,
                                  uint32_t now_s, uint32_t timeout_s) noexcept {
    const uint32_t h = detail::nonzero_hash(key_hash);
    const uint32_t b = h & mask_;
    PersistBucket& bk = buckets_[b];
    int way = detail::match_way(bk.hash, bk.service_id, h, service_id);
    InsertOutcome outcome = InsertOutcome::Inserted;
    if (way < 0) {
        int expired = -1;
        for (unsigned w = 0; w < kBucketWays; ++w) {
            if (bk.hash[w] == 0) {
                way = static_cast<int>(w);
                break;
            }
            if (expired < 0 && !time_after(bk.expires[w], now_s)) {
                expired = static_cast<int>(w);
            }
        }
        if (way < 0) {
            if (expired < 0) {
                // A live template is an affinity promise: never evicted (unlike half-open
                // connections). The caller forwards by consistent hash.
                return {kNoSlot, InsertOutcome::Full};
            }
            way = expired;
            outcome = InsertOutcome::ReplacedExpired;
        }
    }
    const auto w = static_cast<unsigned>(way);
    if (bk.hash[w] == 0) {
        ++size_;
    }
    bk.hash[w] = h;
    bk.expires[w] = now_s + clamp_timeout(timeout_s);
    bk.service_id[w] = service_id;
    bk.real_id[w] = real_id;
    return {b * kBucketWays + w, outcome};
}

void PersistTable::update_real(uint32_t slot, uint32_t real_id, uint32_t now_s,
                               uint32_t timeout_s) noexcept {
    PersistBucket& bk = bucket(slot);
    const unsigned way = slot % kBucketWays;
    bk.real_id[way] = real_id;
    bk.expires[way] = now_s + clamp_timeout(timeout_s);
}

void PersistTable::erase(uint32_t slot) noexcept {
    PersistBucket& bk = bucket(slot);
    const unsigned way = slot % kBucketWays;
    if (bk.hash[way] != 0) {
        release(bk, way);
    }
}

uint32_t PersistTable::expire_step(uint32_t now_s, uint32_t max_buckets) noexcept {
    return detail::sweep_buckets(buckets_, mask_ + 1, sweep_cursor_, now_s, max_buckets,
                                 [this](PersistBucket& bk, unsigned way) { release(bk, way); });
}

PersistEntry PersistTable::entry(uint32_t slot) const noexcept {
    const PersistBucket& bk = bucket(slot);
    const unsigned way = slot % kBucketWays;
    return {.slot = slot,
            .hash = bk.hash[way],
            .expires = bk.expires[way],
            .service_id = bk.service_id[way],
            .real_id = bk.real_id[way]};
}

}  // namespace director::lb
