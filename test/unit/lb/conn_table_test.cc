// SPDX-License-Identifier: BSD-3-Clause
#include "lb/conn_table.h"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstdlib>
#include <map>
#include <random>
#include <vector>

namespace director::lb {
namespace {

using S = ConnState;

static_assert(sizeof(ConnBucket) == 64);
static_assert(alignof(ConnBucket) == 64);
static_assert(kConnEntryBytes == 16);

std::unique_ptr<ConnTable> make_table(uint32_t capacity, uint32_t max_reals = 16,
                                      ConnTimeouts timeouts = {}) {
    auto t = ConnTable::create(
        ConnTableConfig{.capacity = capacity, .max_reals = max_reals, .timeouts = timeouts});
    EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
    return t ? std::move(*t) : nullptr;
}

/** A hash that lands in `bucket`; distinct k give distinct hashes (k >= 1 avoids 0). */
uint32_t hash_in_bucket(const ConnTable& t, uint32_t bucket, uint32_t k) {
    return (k << std::countr_zero(t.bucket_count())) | bucket;
}

uint32_t fmix32(uint32_t h) {  // murmur3 finaliser: a bijection, so distinct in, distinct out
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

uint64_t total_counts(const ConnTable& t) {
    uint64_t n = 0;
    for (const ConnCounts& c : t.counts()) {
        n += c.active + c.inactive;
    }
    return n;
}

// ---- creation -------------------------------------------------------------------------------

TEST(ConnTable, BucketCountIsCapacityOverFourRoundedUpToPowerOfTwo) {
    EXPECT_EQ(make_table(1)->bucket_count(), 1u);
    EXPECT_EQ(make_table(4)->bucket_count(), 1u);
    EXPECT_EQ(make_table(5)->bucket_count(), 2u);
    EXPECT_EQ(make_table(1000)->bucket_count(), 256u);
    EXPECT_EQ(make_table(1000)->capacity(), 1024u);
    EXPECT_EQ(make_table(1u << 20)->bucket_count(), 1u << 18);
    EXPECT_EQ(make_table(1u << 20)->capacity(), 1u << 20);
}

TEST(ConnTable, OneMillionConnectionsTakeSixteenMegabytes) {
    const ConnTableConfig c{.capacity = 1u << 20, .max_reals = 4096};
    EXPECT_EQ(ConnTable::memory_bytes(c), (16u << 20) + (4097 * 8 + 63) / 64 * 64);
}

TEST(ConnTable, CreateRejectsBadConfig) {
    auto zero = ConnTable::create({.capacity = 0});
    ASSERT_FALSE(zero.has_value());
    EXPECT_NE(zero.error().message.find("capacity 0"), std::string::npos);
    EXPECT_FALSE(ConnTable::create({.capacity = kMaxTableCapacity + 1}).has_value());
    EXPECT_FALSE(ConnTable::create({.capacity = 16, .max_reals = kMaxConnRealId + 2}).has_value());
    EXPECT_FALSE(ConnTable::create({.capacity = 16}, TableAllocator{}).has_value());
}

struct CountingArena {
    int allocs = 0;
    int frees = 0;
    std::vector<std::size_t> aligns;
};

TableAllocator counting_allocator(CountingArena* arena, bool fail_second = false) {
    static bool fail;
    fail = fail_second;
    return {.alloc = [](std::size_t bytes, std::size_t align, void* ctx) noexcept -> void* {
                auto* a = static_cast<CountingArena*>(ctx);
                if (fail && a->allocs == 1) {
                    return nullptr;
                }
                ++a->allocs;
                a->aligns.push_back(align);
                return std::aligned_alloc(align, (bytes + align - 1) / align * align);
            },
            .free =
                [](void* p, void* ctx) noexcept {
                    ++static_cast<CountingArena*>(ctx)->frees;
                    std::free(p);
                },
            .ctx = arena};
}

TEST(ConnTable, MemoryComesFromTheInjectedAllocatorOnlyAtInit) {
    CountingArena arena;
    {
        auto t = ConnTable::create({.capacity = 4096}, counting_allocator(&arena));
        ASSERT_TRUE(t.has_value());
        EXPECT_EQ(arena.allocs, 2);  // buckets + counts
        for (std::size_t a : arena.aligns) {
            EXPECT_EQ(a, kCacheLine);
        }
        ConnTable& table = **t;
        for (uint32_t i = 1; i < 5000; ++i) {
            (void)table.insert(fmix32(i), 0, i % 16, S::SynRecv, 0);
            (void)table.lookup(fmix32(i), 0, 1);
            (void)table.expire_step(100, 64);
        }
        EXPECT_EQ(arena.allocs, 2);
    }
    EXPECT_EQ(arena.frees, 2);
}

TEST(ConnTable, FailedAllocationReportsAndLeaksNothing) {
    CountingArena arena;
    auto t = ConnTable::create({.capacity = 4096}, counting_allocator(&arena, true));
    ASSERT_FALSE(t.has_value());
    EXPECT_NE(t.error().message.find("counts"), std::string::npos);
    EXPECT_EQ(arena.allocs, 1);
    EXPECT_EQ(arena.frees, 1);
}

// ---- lookup / insert ------------------------------------------------------------------------

TEST(ConnTable, InsertThenLookupFindsTheReal) {
    auto t = make_table(1024);
    const InsertResult r = t->insert(0xdeadbeef, 3, 7, S::SynRecv, 100);
    EXPECT_EQ(r.outcome, InsertOutcome::Inserted);
    ASSERT_NE(r.slot, kNoSlot);
    t->prefetch(0xdeadbeef);
    const uint32_t slot = t->lookup(0xdeadbeef, 3, 101);
    EXPECT_EQ(slot, r.slot);
    EXPECT_EQ(t->real_id(slot), 7u);
    EXPECT_EQ(t->state(slot), S::SynRecv);
    EXPECT_EQ(t->expires(slot), 160u);
    EXPECT_EQ(t->size(), 1u);
}

TEST(ConnTable, KeyIsHashAndService) {
    auto t = make_table(1024);
    (void)t->insert(0x1234, 1, 5, S::Established, 0);
    EXPECT_EQ(t->lookup(0x1234, 2, 1), kNoSlot);
    EXPECT_EQ(t->lookup(0x1235, 1, 1), kNoSlot);
    EXPECT_EQ(t->lookup(0x1234 + (1u << 20), 1, 1), kNoSlot);  // same bucket, other hash
    EXPECT_NE(t->lookup(0x1234, 1, 1), kNoSlot);
    // Same hash, two services: two entries.
    (void)t->insert(0x1234, 2, 6, S::Established, 0);
    EXPECT_EQ(t->real_id(t->lookup(0x1234, 1, 1)), 5u);
    EXPECT_EQ(t->real_id(t->lookup(0x1234, 2, 1)), 6u);
}

TEST(ConnTable, HashZeroIsStoredAsOne) {
    auto t = make_table(64);
    const InsertResult r = t->insert(0, 0, 2, S::Udp, 0);
    ASSERT_NE(r.slot, kNoSlot);
    EXPECT_EQ(t->lookup(0, 0, 1), r.slot);
    EXPECT_EQ(t->entry(r.slot).hash, 1u);
}

TEST(ConnTable, InsertOfALiveKeyOverwritesInsteadOfDuplicating) {
    auto t = make_table(64);
    const InsertResult a = t->insert(42, 0, 1, S::SynRecv, 0);
    const InsertResult b = t->insert(42, 0, 2, S::Established, 0);
    EXPECT_EQ(a.slot, b.slot);
    EXPECT_EQ(t->size(), 1u);
    EXPECT_EQ(t->real_id(t->lookup(42, 0, 1)), 2u);
    EXPECT_EQ(t->counts(1).inactive, 0u);
    EXPECT_EQ(t->counts(2).active, 1u);
}

// ---- states and timeouts --------------------------------------------------------------------

TEST(ConnTable, EachStateExpiresAfterItsTimeout) {
    const ConnTimeouts to;
    for (unsigned i = 0; i < kConnStateCount; ++i) {
        const auto s = static_cast<S>(i);
        auto t = make_table(64);
        const uint32_t now = 1000;
        (void)t->insert(99, 0, 1, s, now);
        const uint32_t timeout = to.for_state(s);
        EXPECT_NE(t->lookup(99, 0, now + timeout - 1), kNoSlot) << to_string(s);
        EXPECT_EQ(t->lookup(99, 0, now + timeout), kNoSlot) << to_string(s);
        EXPECT_EQ(t->size(), 0u) << "lazy expiry removes the entry";
        EXPECT_EQ(total_counts(*t), 0u);
    }
}

TEST(ConnTable, DrLifecycleFollowsTheTableAndReArmsEachPacket) {
    auto t = make_table(64);
    uint32_t now = 0;
    const uint32_t slot = t->insert(7, 0, 3, next_state(S::None, kTcpSyn), now).slot;
    EXPECT_EQ(t->state(slot), S::SynRecv);
    EXPECT_EQ(t->expires(slot), 60u);
    EXPECT_EQ(t->counts(3).inactive, 1u);

    now = 59;  // ACK just before the SYN_RECV timeout
    ASSERT_EQ(t->lookup(7, 0, now), slot);
    EXPECT_EQ(t->update_state(slot, kTcpAck, now).state, S::Established);
    EXPECT_EQ(t->expires(slot), 59u + 900);
    EXPECT_EQ(t->counts(3).active, 1u);
    EXPECT_EQ(t->counts(3).inactive, 0u);

    now = 900;  // data re-arms the ESTABLISHED timeout
    ASSERT_EQ(t->lookup(7, 0, now), slot);
    (void)t->update_state(slot, kTcpAck | kTcpPsh, now);
    EXPECT_EQ(t->expires(slot), 1800u);

    now = 1700;
    ASSERT_EQ(t->lookup(7, 0, now), slot);
    EXPECT_EQ(t->update_state(slot, kTcpFin | kTcpAck, now).state, S::FinWait);
    EXPECT_EQ(t->expires(slot), 1820u);
    EXPECT_EQ(t->counts(3).active, 0u);
    EXPECT_EQ(t->counts(3).inactive, 1u);

    now = 1800;
    ASSERT_EQ(t->lookup(7, 0, now), slot);
    EXPECT_EQ(t->update_state(slot, kTcpRst, now).state, S::Close);
    EXPECT_EQ(t->expires(slot), 1810u);
    EXPECT_EQ(t->lookup(7, 0, 1810), kNoSlot);
    EXPECT_EQ(total_counts(*t), 0u);
}

// update_state reads its own copy of the transition table: it must agree with next_state()
// for every state and every flag byte, and re-arm with the new state's timeout.
TEST(ConnTable, UpdateStateFollowsNextStateForEveryStateAndFlagByte) {
    auto t = make_table(64);
    const ConnTimeouts& to = t->timeouts();
    const uint32_t timeout[kConnStateCount] = {to.none,     to.established, to.syn_sent,
                                               to.syn_recv, to.fin_wait,    to.time_wait,
                                               to.close,    to.close_wait,  to.last_ack,
                                               to.listen,   to.synack,      to.udp};
    for (unsigned st = 0; st < kConnStateCount; ++st) {
        for (unsigned flags = 0; flags < 256; ++flags) {
            const uint32_t slot = t->insert(7, 0, 3, static_cast<S>(st), 100).slot;
            ASSERT_NE(slot, kNoSlot);
            const S want = next_state(static_cast<S>(st), static_cast<uint8_t>(flags));
            const ConnUpdate u = t->update_state(slot, static_cast<uint8_t>(flags), 200);
            EXPECT_EQ(u.state, want) << "state " << st << " flags " << flags;
            EXPECT_EQ(t->state(slot), want) << "state " << st << " flags " << flags;
            EXPECT_EQ(u.expires, 200 + timeout[static_cast<unsigned>(want)]);
            EXPECT_EQ(t->expires(slot), u.expires);
            t->erase(slot);
        }
    }
    EXPECT_EQ(total_counts(*t), 0u);
}

// lookup_update, the worker's fast lane, re-arms exactly the entries whose state the packet
// keeps, like update_state would; for every other packet it changes nothing, so that the
// worker's general path (lookup, update_state) applies it once.
TEST(ConnTable, LookupUpdateTakesExactlyThePacketsThatKeepTheState) {
    auto t = make_table(64);
    const ConnTimeouts& to = t->timeouts();
    ConnTable::Prefetcher bucket_of = t->prefetcher();
    const auto accept_all = [](uint32_t) { return true; };
    unsigned taken = 0;
    for (unsigned st = 0; st < kConnStateCount; ++st) {
        const auto state = static_cast<S>(st);
        for (unsigned flags = 0; flags < 256; ++flags) {
            const uint32_t slot = t->insert(7, 0, 3, state, 100).slot;
            ASSERT_NE(slot, kNoSlot);
            const ConnCounts before = t->counts(3);
            const bool keeps = next_state(state, static_cast<uint8_t>(flags)) == state;
            ConnUpdate u{};
            const bool hit = t->lookup_update(bucket_of(7), 7, 0, static_cast<uint8_t>(flags), 101,
                                              accept_all, u);
            EXPECT_EQ(hit, keeps) << "state " << st << " flags " << flags;
            EXPECT_EQ(t->state(slot), state);
            EXPECT_EQ(t->counts(3), before);
            if (hit) {
                ++taken;
                EXPECT_EQ(u.state, state);
                EXPECT_EQ(u.expires, 101 + to.for_state(state));
                EXPECT_EQ(u.hold_due,
                          hold_until(100 + to.for_state(state)) != hold_until(u.expires));
                EXPECT_EQ(t->expires(slot), u.expires);
            } else {
                EXPECT_EQ(t->expires(slot), 100 + to.for_state(state)) << "declined: unchanged";
            }
            t->erase(slot);
        }
    }
    EXPECT_GT(taken, 256u);  // ESTABLISHED's ACKs and UDP at least
    EXPECT_EQ(total_counts(*t), 0u);
}

TEST(ConnTable, LookupUpdateDeclinesMissesExpiredEntriesAndRefusedRealsUnchanged) {
    auto t = make_table(1024);
    ConnTable::Prefetcher bucket_of = t->prefetcher();
    const uint32_t h = hash_in_bucket(*t, 5, 1);
    const uint32_t slot = t->insert(h, 2, 9, S::Established, 0).slot;
    ASSERT_NE(slot, kNoSlot);
    const uint32_t expires = t->expires(slot);
    ConnUpdate u{};
    std::vector<uint32_t> asked;
    const auto accept = [&](uint32_t real) {
        asked.push_back(real);
        return false;
    };
    const auto accept_all = [](uint32_t) { return true; };
    // Another service, another hash in the same bucket: misses.
    EXPECT_FALSE(t->lookup_update(bucket_of(h), h, 3, kTcpAck, 10, accept_all, u));
    const uint32_t other = hash_in_bucket(*t, 5, 2);
    EXPECT_FALSE(t->lookup_update(bucket_of(other), other, 2, kTcpAck, 10, accept_all, u));
    // The real refused: asked once, with the entry's real, and nothing changed.
    EXPECT_FALSE(t->lookup_update(bucket_of(h), h, 2, kTcpAck, 10, accept, u));
    EXPECT_EQ(asked, std::vector<uint32_t>{9});
    EXPECT_EQ(t->expires(slot), expires);
    // Expired: declined without asking and left for lookup() to release.
    EXPECT_FALSE(t->lookup_update(bucket_of(h), h, 2, kTcpAck, expires, accept, u));
    EXPECT_EQ(asked.size(), 1u);
    EXPECT_EQ(t->size(), 1u);
    EXPECT_EQ(t->lookup(h, 2, expires), kNoSlot);
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(total_counts(*t), 0u);
}

TEST(ConnTable, LookupUpdateReportsHoldDueOncePerGranule) {
    auto t = make_table(64);
    ConnTable::Prefetcher bucket_of = t->prefetcher();
    const auto accept_all = [](uint32_t) { return true; };
    const uint32_t slot = t->insert(11, 0, 1, S::Established, 0).slot;  // expires 900
    ASSERT_NE(slot, kNoSlot);
    unsigned due = 0;
    for (uint32_t now = 1; now <= 48; ++now) {
        ConnUpdate u{};
        ASSERT_TRUE(t->lookup_update(bucket_of(11), 11, 0, kTcpAck, now, accept_all, u));
        EXPECT_EQ(u.expires, now + 900);
        EXPECT_EQ(u.hold_due, (now + 900) % kHoldGranule == 0) << now;
        due += u.hold_due ? 1 : 0;
    }
    EXPECT_EQ(due, 3u);  // 912, 928, 944
}

TEST(ConnTable, PrefetcherGivesEachHashTheBucketItsEntryIsIn) {
    auto t = make_table(1u << 16);
    ConnTable::Prefetcher bucket_of = t->prefetcher();
    std::mt19937 rng(7);
    const auto accept_all = [](uint32_t) { return true; };
    for (int round = 0; round < 8000; ++round) {
        // 0 is looked up as 1.
        const uint32_t h = round < 4
                               ? std::array<uint32_t, 4>{0, 1, 0xffffffffu, 0x80000000u}[round]
                               : static_cast<uint32_t>(rng());
        const uint32_t slot = t->insert(h, 1, 2, S::Established, 0).slot;
        ASSERT_NE(slot, kNoSlot);
        ConnUpdate u{};
        // lookup_update takes the hash as a flow hash is: never 0.
        const uint32_t flow_hash = detail::nonzero_hash(h);
        EXPECT_TRUE(t->lookup_update(bucket_of(h), flow_hash, 1, kTcpAck, 1, accept_all, u))
            << std::hex << h;
        t->erase(slot);
    }
}

TEST(ConnTable, UdpEntriesReArmOnEveryDatagram) {
    auto t = make_table(64, 16, ConnTimeouts{.udp = 30});
    const uint32_t slot = t->insert(5, 1, 2, S::Udp, 0).slot;
    for (uint32_t now = 20; now < 200; now += 20) {
        ASSERT_EQ(t->lookup(5, 1, now), slot) << now;
        EXPECT_EQ(t->update_state(slot, 0, now).state, S::Udp);
    }
    EXPECT_EQ(t->lookup(5, 1, 180 + 30), kNoSlot);
}

TEST(ConnTable, ConfiguredTimeoutsApplyAndAreClamped) {
    auto t = make_table(64, 16, ConnTimeouts{.established = 0, .syn_recv = 5, .udp = ~0u});
    EXPECT_EQ(t->expires(t->insert(1, 0, 0, S::SynRecv, 100).slot), 105u);
    EXPECT_EQ(t->expires(t->insert(2, 0, 0, S::Established, 100).slot), 101u);  // 0 -> 1
    EXPECT_EQ(t->expires(t->insert(3, 0, 0, S::Udp, 100).slot), 100u + kMaxTableTimeout);
}

TEST(ConnTable, SetTimeoutsTakesEffectOnTheNextPacket) {
    auto t = make_table(64);
    const uint32_t slot = t->insert(1, 0, 0, S::Established, 0).slot;
    EXPECT_EQ(t->expires(slot), 900u);
    t->set_timeouts(ConnTimeouts{.established = 3600});
    EXPECT_EQ(t->expires(slot), 900u);
    (void)t->update_state(slot, kTcpAck, 10);
    EXPECT_EQ(t->expires(slot), 3610u);
    EXPECT_EQ(t->timeouts().established, 3600u);
}

TEST(ConnTable, HoldIsDueOncePerGranuleOfExpiry) {
    auto t = make_table(64);
    const uint32_t slot = t->insert(1, 0, 0, S::Established, 0).slot;  // expires 900
    EXPECT_FALSE(t->update_state(slot, kTcpAck, 1).hold_due);          // 901: same period
    EXPECT_FALSE(t->update_state(slot, kTcpAck, 11).hold_due);         // 911: same period
    EXPECT_TRUE(t->update_state(slot, kTcpAck, 12).hold_due);          // 912: next period
    EXPECT_FALSE(t->update_state(slot, kTcpAck, 13).hold_due);
    EXPECT_TRUE(t->update_state(slot, kTcpFin, 14).hold_due);  // 134: moved back
    EXPECT_EQ(hold_until(912), 928u);
    EXPECT_EQ(hold_until(927), 928u);
    EXPECT_EQ(hold_until(928), 944u);
}

// ---- capacity -------------------------------------------------------------------------------

TEST(ConnTable, FillToCapacityThenEveryInsertReportsFull) {
    auto t = make_table(256);
    const uint32_t nb = t->bucket_count();
    std::vector<uint32_t> hashes;
    for (uint32_t k = 1; k <= kBucketWays; ++k) {
        for (uint32_t b = 0; b < nb; ++b) {
            hashes.push_back(hash_in_bucket(*t, b, k));
            EXPECT_EQ(t->insert(hashes.back(), 0, b % 16, S::Established, 0).outcome,
                      InsertOutcome::Inserted);
        }
    }
    EXPECT_EQ(t->size(), t->capacity());
    for (uint32_t i = 1; i <= 10000; ++i) {
        const InsertResult r = t->insert(fmix32(i) | (1u << 31), 1, 0, S::SynRecv, 1);
        EXPECT_EQ(r.outcome, InsertOutcome::Full);
        EXPECT_EQ(r.slot, kNoSlot);
    }
    EXPECT_EQ(t->size(), t->capacity());
    for (uint32_t h : hashes) {
        EXPECT_NE(t->lookup(h, 0, 2), kNoSlot);
    }
    EXPECT_EQ(total_counts(*t), t->capacity());
}

TEST(ConnTable, RandomFlowsAtFullLoadAreMostlyTracked) {
    // 4-way buckets with random hashes: ~80% tracked when offered as many flows as slots,
    // ~99.6% at a quarter (Poisson tail; documented in conn_table.h).
    auto t = make_table(1u << 16);
    uint32_t tracked = 0;
    for (uint32_t i = 1; i <= t->capacity(); ++i) {
        if (t->insert(fmix32(i), 0, 0, S::Established, 0).outcome != InsertOutcome::Full) {
            ++tracked;
        }
        if (i == t->capacity() / 4) {
            EXPECT_GT(tracked, i * 99 / 100);
        }
    }
    EXPECT_GT(tracked, t->capacity() * 3 / 4);
    EXPECT_LT(tracked, t->capacity() * 85 / 100);
    EXPECT_EQ(t->size(), tracked);
}

// ---- span -----------------------------------------------------------------------------------

TEST(ConnTable, SpanStartsSmallAndIsWholeInSmallTables) {
    EXPECT_EQ(make_table(1u << 20)->span(), kConnMinSpan);
    EXPECT_EQ(make_table(1000)->span(), 256u);  // fewer buckets than kConnMinSpan: all of them
    EXPECT_EQ(make_table(kConnMinSpan * kBucketWays)->span(), kConnMinSpan);
}

TEST(ConnTable, SpanGrowsWithTheEntriesAndKeepsEveryOneFindable) {
    // 64K buckets; 40,000 random flows take the span from 1,024 buckets to over 150,000 slots'
    // worth, through six levels of splits, each checked part way.
    auto t = make_table(1u << 18);
    const auto accept_all = [](uint32_t) { return true; };
    std::vector<uint32_t> tracked;
    uint32_t full_while_growing = 0;
    uint32_t last_span = t->span();
    for (uint32_t i = 1; i <= 40000; ++i) {
        const uint32_t h = fmix32(i);
        const InsertResult r = t->insert(h, i % 3, i % 16, S::Established, 0);
        if (r.outcome == InsertOutcome::Full) {
            full_while_growing += t->span() < t->bucket_count() ? 1 : 0;
        } else {
            ASSERT_EQ(r.outcome, InsertOutcome::Inserted);
            ASSERT_LT(r.slot / kBucketWays, t->span()) << "an insert lands inside the span";
            tracked.push_back(i);
        }
        // At most one entry per kConnGrowBucketsPerEntry buckets (plus the one just added),
        // and the span only grows, within the table.
        ASSERT_GE(uint64_t{t->span()},
                  std::min<uint64_t>(t->bucket_count(),
                                     uint64_t{kConnGrowBucketsPerEntry} * (t->size() - 1)));
        ASSERT_LE(t->span(), t->bucket_count());
        ASSERT_GE(t->span(), last_span);
        last_span = t->span();
        if (i % 4999 == 0) {
            // Every entry so far, through lookup() and through a fresh Prefetcher's bucket.
            const ConnTable::Prefetcher bucket_of = t->prefetcher();
            for (uint32_t j : tracked) {
                const uint32_t hj = fmix32(j);
                ASSERT_NE(t->lookup(hj, j % 3, 1), kNoSlot) << "flow " << j << " span " << t->span();
                ConnUpdate u{};
                ASSERT_TRUE(t->lookup_update(bucket_of(hj), hj, j % 3, kTcpAck, 1, accept_all, u))
                    << "flow " << j << " span " << t->span();
            }
        }
    }
    EXPECT_EQ(t->span(), t->bucket_count()) << "40,000 entries need more than 64K / 4 buckets";
    // About 1.3e-4 of the 16K inserts before the span is whole (after it, the table fills as
    // a fixed one does).
    EXPECT_LT(full_while_growing, 10u);
    EXPECT_EQ(t->size(), tracked.size());
    EXPECT_EQ(total_counts(*t), tracked.size()) << "a split moves entries, not counts";
    uint32_t live = 0;
    t->for_each_live(1, [&](const ConnEntry&) { ++live; });
    EXPECT_EQ(live, tracked.size());
}

TEST(ConnTable, ABucketFromBeforeASplitIsDeclinedAndLookupFindsTheEntry) {
    auto t = make_table(kConnMinSpan * kBucketWays * 4);  // 4,096 buckets, span 1,024
    ASSERT_EQ(t->span(), kConnMinSpan);
    // Bucket 1,024 of the next level: until bucket 0 splits, its entries live in bucket 0.
    const uint32_t moved = (7u << 16) | kConnMinSpan;
    const uint32_t stays = 7u << 16;
    ASSERT_NE(t->insert(moved, 1, 3, S::Established, 0).slot, kNoSlot);
    ASSERT_NE(t->insert(stays, 1, 4, S::Established, 0).slot, kNoSlot);
    const ConnTable::Prefetcher before = t->prefetcher();
    ASSERT_EQ(before(moved), before(stays)) << "both in bucket 0";
    // Entries elsewhere (never in bucket 0) until the span grows by its first split.
    for (uint32_t k = 1; t->span() == kConnMinSpan; ++k) {
        ASSERT_NE(t->insert((k << 16) | (1 + k % (kConnMinSpan - 1)), 2, 5, S::Established, 0)
                      .outcome,
                  InsertOutcome::Full);
    }
    const auto accept_all = [](uint32_t) { return true; };
    ConnUpdate u{};
    EXPECT_FALSE(t->lookup_update(before(moved), moved, 1, kTcpAck, 5, accept_all, u))
        << "the entry left bucket 0";
    EXPECT_EQ(t->expires(t->lookup(moved, 1, 5)), 900u) << "found, and left as it was";
    EXPECT_TRUE(t->lookup_update(before(stays), stays, 1, kTcpAck, 5, accept_all, u));
    const ConnTable::Prefetcher after = t->prefetcher();
    EXPECT_EQ(after(moved), before(stays) + kConnMinSpan);
    EXPECT_TRUE(t->lookup_update(after(moved), moved, 1, kTcpAck, 5, accept_all, u));
    EXPECT_EQ(t->real_id(t->lookup(moved, 1, 5)), 3u);
    EXPECT_EQ(t->counts(3), (ConnCounts{.active = 1, .inactive = 0}));
}

TEST(ConnTable, TheSweepCoversTheWholeSpanAfterGrowth) {
    auto t = make_table(1u << 16);
    for (uint32_t i = 1; i <= 8000; ++i) {
        (void)t->insert(fmix32(i), 0, 1, S::SynRecv, 0);  // 60 s
    }
    ASSERT_GT(t->span(), kConnMinSpan);
    const uint32_t size = t->size();
    // One pass of span() buckets, in steps, removes them all.
    uint32_t removed = 0;
    for (uint32_t b = 0; b < t->span(); b += 100) {
        removed += t->expire_step(60, 100);
    }
    EXPECT_EQ(removed, size);
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->counts(1), (ConnCounts{}));
}

// ---- SYN flood ------------------------------------------------------------------------------

TEST(ConnTable, NewSynEvictsTheOldestHalfOpenEntry) {
    auto t = make_table(4);  // one bucket
    ASSERT_EQ(t->bucket_count(), 1u);
    (void)t->insert(1, 0, 1, S::Established, 0);
    (void)t->insert(2, 0, 1, S::SynRecv, 10);  // expires 70
    (void)t->insert(3, 0, 1, S::SynRecv, 5);   // expires 65: oldest half-open
    (void)t->insert(4, 0, 1, S::Established, 0);
    const InsertResult r = t->insert(5, 0, 2, S::SynRecv, 20);
    EXPECT_EQ(r.outcome, InsertOutcome::EvictedHalfOpen);
    EXPECT_EQ(t->lookup(3, 0, 20), kNoSlot);
    EXPECT_NE(t->lookup(2, 0, 20), kNoSlot);
    EXPECT_NE(t->lookup(1, 0, 20), kNoSlot);
    EXPECT_NE(t->lookup(4, 0, 20), kNoSlot);
    EXPECT_EQ(t->counts(1), (ConnCounts{.active = 2, .inactive = 1}));
    EXPECT_EQ(t->counts(2), (ConnCounts{.active = 0, .inactive = 1}));
}

TEST(ConnTable, HalfOpenGoesBeforeClosingAndClosingBeforeFull) {
    auto t = make_table(4);
    (void)t->insert(1, 0, 1, S::Established, 0);
    (void)t->insert(2, 0, 1, S::FinWait, 0);  // older than the SYN_RECV below
    (void)t->insert(3, 0, 1, S::SynRecv, 50);
    (void)t->insert(4, 0, 1, S::Established, 0);
    EXPECT_EQ(t->insert(5, 0, 1, S::SynRecv, 60).outcome, InsertOutcome::EvictedHalfOpen);
    EXPECT_EQ(t->lookup(3, 0, 60), kNoSlot);
    EXPECT_NE(t->lookup(2, 0, 60), kNoSlot);
    // A new established flow (sloppy ACK) replaces the remaining half-open one, then the
    // closing one; then the bucket holds only ESTABLISHED entries and is Full.
    EXPECT_EQ(t->insert(6, 0, 1, S::Established, 61).outcome, InsertOutcome::EvictedHalfOpen);
    EXPECT_EQ(t->insert(7, 0, 1, S::Established, 62).outcome, InsertOutcome::EvictedClosing);
    EXPECT_EQ(t->insert(8, 0, 1, S::SynRecv, 63).outcome, InsertOutcome::Full);
    for (uint32_t h : {1u, 4u, 6u, 7u}) {
        EXPECT_NE(t->lookup(h, 0, 64), kNoSlot) << h;
    }
    EXPECT_EQ(t->counts(1), (ConnCounts{.active = 4, .inactive = 0}));
}

TEST(ConnTable, UdpFlowsAreNotEvicted) {
    auto t = make_table(4);
    for (uint32_t h = 1; h <= 4; ++h) {
        (void)t->insert(h, 0, 0, S::Udp, 0);
    }
    EXPECT_EQ(t->insert(9, 0, 0, S::SynRecv, 1).outcome, InsertOutcome::Full);
}

TEST(ConnTable, SynFloodKeepsEstablishedConnections) {
    auto t = make_table(4096);
    std::vector<uint32_t> established;  // two per bucket, service 0
    for (uint32_t b = 0; b < t->bucket_count(); ++b) {
        for (uint32_t k = 1; k <= 2; ++k) {
            const uint32_t h = hash_in_bucket(*t, b, k);
            const uint32_t slot = t->insert(h, 0, b % 8, S::SynRecv, 0).slot;
            ASSERT_NE(slot, kNoSlot);
            (void)t->update_state(slot, kTcpAck, 0);
            established.push_back(h);
        }
    }
    // A flood of spoofed SYNs to service 1, 50 times what the table holds, over 200 s.
    uint64_t evicted = 0;
    for (uint32_t i = 1; i <= 200000; ++i) {
        const InsertResult r = t->insert(fmix32(i), 1, 9, S::SynRecv, i / 1000);
        ASSERT_NE(r.outcome, InsertOutcome::Full) << "half-open entries are always evictable";
        evicted += r.outcome == InsertOutcome::EvictedHalfOpen;
    }
    EXPECT_GT(evicted, 100000u);
    EXPECT_EQ(t->size(), t->capacity());
    const uint32_t now = 200;
    for (uint32_t h : established) {
        const uint32_t slot = t->lookup(h, 0, now);
        ASSERT_NE(slot, kNoSlot);
        EXPECT_EQ(t->state(slot), S::Established);
    }
    uint32_t active = 0;
    for (const ConnCounts& c : t->counts()) {
        active += c.active;
    }
    EXPECT_EQ(active, established.size());
    EXPECT_EQ(t->counts(9).inactive, t->capacity() - established.size());
    // New legitimate SYNs still get a slot, at the expense of the flood.
    EXPECT_EQ(t->insert(0xabcdef01, 0, 1, S::SynRecv, now).outcome, InsertOutcome::EvictedHalfOpen);
}

TEST(ConnTable, EstablishedOnlyBucketsReportFull) {
    auto t = make_table(16);
    for (uint32_t b = 0; b < t->bucket_count(); ++b) {
        for (uint32_t k = 1; k <= kBucketWays; ++k) {
            (void)t->insert(hash_in_bucket(*t, b, k), 0, 0, S::Established, 0);
        }
    }
    for (uint32_t i = 1; i < 1000; ++i) {
        EXPECT_EQ(t->insert(fmix32(i) | (1u << 30), 0, 0, S::SynRecv, 1).outcome,
                  InsertOutcome::Full);
    }
}

TEST(ConnTable, InsertWouldFailExactlyWhenInsertReportsFull) {
    auto t = make_table(4);  // one bucket
    EXPECT_FALSE(t->insert_would_fail(9, 0)) << "empty bucket";
    for (uint32_t h = 1; h <= 3; ++h) {
        (void)t->insert(h, 0, 1, S::Established, 0);
    }
    EXPECT_FALSE(t->insert_would_fail(9, 0)) << "one way free";
    (void)t->insert(4, 0, 1, S::SynRecv, 0);
    EXPECT_FALSE(t->insert_would_fail(9, 1)) << "a half-open entry is evictable";
    (void)t->update_state(t->lookup(4, 0, 1), kTcpAck, 1);
    EXPECT_TRUE(t->insert_would_fail(9, 1)) << "four live ESTABLISHED entries";
    EXPECT_TRUE(t->insert_would_fail(0, 1)) << "every hash maps to the one bucket";
    EXPECT_EQ(t->insert(9, 0, 2, S::SynRecv, 1).outcome, InsertOutcome::Full);
    // Entries expire: an expired way is room again, without any probe or sweep.
    EXPECT_FALSE(t->insert_would_fail(9, 1 + ConnTimeouts{}.established));
    // The probe writes nothing: every entry is still there.
    EXPECT_EQ(t->size(), 4u);
    (void)t->update_state(t->lookup(2, 0, 1), kTcpFin, 1);
    EXPECT_FALSE(t->insert_would_fail(9, 1)) << "a closing entry is evictable";
    EXPECT_EQ(t->insert(9, 0, 2, S::SynRecv, 1).outcome, InsertOutcome::EvictedClosing);
    // Full of UDP flows: never evicted either.
    auto u = make_table(4);
    for (uint32_t h = 1; h <= 4; ++h) {
        (void)u->insert(h, 0, 0, S::Udp, 0);
    }
    EXPECT_TRUE(u->insert_would_fail(9, 1));
    EXPECT_EQ(u->insert(9, 0, 0, S::SynRecv, 1).outcome, InsertOutcome::Full);
}

// ---- expiry ---------------------------------------------------------------------------------

TEST(ConnTable, ExpiredSlotIsReusedByInsert) {
    auto t = make_table(4);
    for (uint32_t h = 1; h <= 4; ++h) {
        (void)t->insert(h, 0, h, S::Established, 0);
    }
    (void)t->update_state(t->lookup(2, 0, 0), kTcpRst, 0);  // CLOSE, expires 10
    const InsertResult r = t->insert(9, 0, 5, S::SynRecv, 10);
    EXPECT_EQ(r.outcome, InsertOutcome::ReplacedExpired);
    EXPECT_EQ(t->counts(2), ConnCounts{});
    EXPECT_EQ(t->counts(5).inactive, 1u);
    EXPECT_EQ(t->size(), 4u);
}

TEST(ConnTable, SweepIsBoundedAndEventuallyClearsEverything) {
    auto t = make_table(1024);
    const uint32_t nb = t->bucket_count();
    for (uint32_t b = 0; b < nb; ++b) {
        for (uint32_t k = 1; k <= kBucketWays; ++k) {
            (void)t->insert(hash_in_bucket(*t, b, k), 0, b % 16, S::SynRecv, 0);
        }
    }
    ASSERT_EQ(t->size(), 1024u);
    // Nothing has expired yet: a sweep removes nothing.
    EXPECT_EQ(t->expire_step(59, nb), 0u);
    const uint32_t now = 60;
    const uint32_t step = 10;
    uint32_t calls = 0;
    while (t->size() > 0) {
        const uint32_t before = t->size();
        const uint32_t removed = t->expire_step(now, step);
        EXPECT_LE(removed, step * kBucketWays);
        EXPECT_EQ(before - t->size(), removed);
        ++calls;
        ASSERT_LE(calls, nb / step + 1);
    }
    EXPECT_EQ(calls, (nb + step - 1) / step);
    EXPECT_EQ(total_counts(*t), 0u);
}

TEST(ConnTable, SweepVisitsBucketsRoundRobinAndLeavesLiveEntries) {
    auto t = make_table(64);                                             // 16 buckets
    (void)t->insert(hash_in_bucket(*t, 0, 1), 0, 0, S::Close, 0);        // expires 10
    (void)t->insert(hash_in_bucket(*t, 5, 1), 0, 0, S::Close, 0);        // expires 10
    (void)t->insert(hash_in_bucket(*t, 5, 2), 0, 0, S::Established, 0);  // live
    EXPECT_EQ(t->expire_step(20, 4), 1u);                                // buckets 0..3
    EXPECT_EQ(t->size(), 2u);
    EXPECT_EQ(t->expire_step(20, 4), 1u);  // buckets 4..7
    EXPECT_EQ(t->size(), 1u);
    EXPECT_EQ(t->expire_step(20, 100), 0u);  // whole table, capped at bucket_count
    EXPECT_NE(t->lookup(hash_in_bucket(*t, 5, 2), 0, 20), kNoSlot);
}

TEST(ConnTable, TimeWrapsSafelyAcross2To32Seconds) {
    auto t = make_table(64);
    const uint32_t start = 0xffffffffu - 20;
    const uint32_t slot = t->insert(77, 0, 1, S::SynRecv, start).slot;  // expires at 39
    EXPECT_EQ(t->expires(slot), 39u);
    EXPECT_EQ(t->expire_step(start + 10, 16), 0u);
    EXPECT_EQ(t->lookup(77, 0, 0xffffffffu), slot);
    EXPECT_EQ(t->lookup(77, 0, 5), slot);
    EXPECT_EQ(t->expire_step(38, 16), 0u);
    (void)t->update_state(slot, kTcpAck, 38);  // ESTABLISHED until 938
    EXPECT_EQ(t->lookup(77, 0, 937), slot);
    EXPECT_EQ(t->lookup(77, 0, 938), kNoSlot);
    EXPECT_TRUE(time_after(5, 0xfffffff0u));
    EXPECT_FALSE(time_after(0xfffffff0u, 5));
    EXPECT_FALSE(time_after(5, 5));
}

// ---- counts ---------------------------------------------------------------------------------

TEST(ConnTable, UpdateRealAndEraseMoveCounts) {
    auto t = make_table(64, 4);
    const uint32_t a = t->insert(1, 0, 1, S::Established, 0).slot;
    const uint32_t b = t->insert(2, 0, 1, S::SynRecv, 0).slot;
    t->update_real(a, 2);
    EXPECT_EQ(t->real_id(a), 2u);
    EXPECT_EQ(t->state(a), S::Established);
    EXPECT_EQ(t->counts(1), (ConnCounts{.active = 0, .inactive = 1}));
    EXPECT_EQ(t->counts(2), (ConnCounts{.active = 1, .inactive = 0}));
    t->erase(b);
    EXPECT_EQ(t->counts(1), ConnCounts{});
    EXPECT_EQ(t->lookup(2, 0, 1), kNoSlot);
    t->erase(b);  // erasing an empty slot is harmless
    EXPECT_EQ(t->size(), 1u);
}

TEST(ConnTable, RealIdsBeyondMaxRealsAreStoredButNotCounted) {
    auto t = make_table(64, 4);
    const uint32_t slot = t->insert(1, 0, 1000, S::Established, 0).slot;
    EXPECT_EQ(t->real_id(slot), 1000u);
    EXPECT_EQ(t->counts(1000), ConnCounts{});
    EXPECT_EQ(total_counts(*t), 0u);
    (void)t->update_state(slot, kTcpFin, 1);
    t->update_real(slot, 3);
    EXPECT_EQ(t->counts(3), (ConnCounts{.active = 0, .inactive = 1}));
    t->update_real(slot, kMaxConnRealId);
    EXPECT_EQ(t->real_id(slot), kMaxConnRealId);
    t->erase(slot);
    EXPECT_EQ(total_counts(*t), 0u);
}

// Property test: a random sequence of operations against a std::map reference model. The model
// mirrors what the table promises: lookups agree, inserts only take empty/expired/evictable
// slots in the documented order, the sweep removes exactly the expired entries of the buckets
// it visits, and per-real counts always equal the model's.
TEST(ConnTable, MatchesReferenceModelUnderRandomOperations) {
    struct Model {
        uint32_t real;
        S state;
        uint32_t expires;
    };
    const ConnTimeouts to{
        .established = 100, .syn_recv = 20, .fin_wait = 30, .close = 5, .udp = 50};
    constexpr uint32_t kMaxReals = 6;  // real ids 0..7: 6 and 7 go to the sink
    auto t = make_table(64, kMaxReals, to);
    const uint32_t nb = t->bucket_count();
    std::map<std::pair<uint32_t, uint32_t>, Model> model;  // (hash, service) -> entry
    std::mt19937 rng(20240611);
    auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };

    std::vector<uint32_t> pool;  // 300 keys over 16 buckets: plenty of contention
    for (uint32_t i = 1; i <= 300; ++i) {
        pool.push_back(fmix32(i));
    }
    const std::array<uint8_t, 8> flags = {kTcpSyn, kTcpAck, kTcpAck | kTcpPsh, kTcpFin | kTcpAck,
                                          kTcpRst, 0,       kTcpSyn | kTcpAck, kTcpAck};
    uint32_t now = 0xffffffffu - 3000;  // the run crosses the 2^32 wrap
    uint32_t cursor = 0;
    std::array<uint32_t, 5> outcomes{};  // by InsertOutcome
    auto live = [&](const Model& m) { return time_after(m.expires, now); };
    auto in_bucket = [&](uint32_t h) { return h & (nb - 1); };

    auto check_counts = [&](int op) {
        std::vector<ConnCounts> want(kMaxReals);
        for (const auto& [k, m] : model) {
            if (m.real < kMaxReals) {
                (is_active(m.state) ? want[m.real].active : want[m.real].inactive)++;
            }
        }
        for (uint32_t r = 0; r < kMaxReals; ++r) {
            ASSERT_EQ(t->counts(r), want[r]) << "real " << r << " after op " << op;
        }
        ASSERT_EQ(t->size(), model.size()) << "after op " << op;
    };

    for (int op = 0; op < 30000; ++op) {
        const uint32_t h = pool[pick(pool.size())];
        const uint32_t svc = pick(2);
        const auto key = std::make_pair(h, svc);
        switch (pick(10)) {
            case 0:
            case 1:
            case 2: {  // packet: lookup, then state update on a hit
                const uint32_t slot = t->lookup(h, svc, now);
                const auto it = model.find(key);
                if (it == model.end() || !live(it->second)) {
                    ASSERT_EQ(slot, kNoSlot) << op;
                    if (it != model.end()) {
                        model.erase(it);  // lazy expiry
                    }
                    break;
                }
                ASSERT_NE(slot, kNoSlot) << op;
                ASSERT_EQ(t->real_id(slot), it->second.real) << op;
                ASSERT_EQ(t->state(slot), it->second.state) << op;
                ASSERT_EQ(t->expires(slot), it->second.expires) << op;
                const uint8_t f = flags[pick(flags.size())];
                const ConnUpdate u = t->update_state(slot, f, now);
                it->second.state = next_state(it->second.state, f);
                it->second.expires = now + to.for_state(it->second.state);
                ASSERT_EQ(u.state, it->second.state) << op;
                break;
            }
            case 3:
            case 4:
            case 5: {  // new flow
                const uint32_t real = pick(8);
                const S st = pick(4) == 0 ? S::Udp : next_state(S::None, flags[pick(2)]);
                // What the bucket holds before the insert, by slot.
                std::map<uint32_t, std::pair<std::pair<uint32_t, uint32_t>, Model>> before;
                for (const auto& [k, m] : model) {
                    if (in_bucket(k.first) == in_bucket(h)) {
                        for (uint32_t w = 0; w < kBucketWays; ++w) {
                            const ConnEntry e = t->entry(in_bucket(h) * kBucketWays + w);
                            if (e.hash == k.first && e.service_id == k.second) {
                                before[e.slot] = {k, m};
                            }
                        }
                    }
                }
                ASSERT_LE(before.size(), kBucketWays);
                const InsertResult r = t->insert(h, svc, real, st, now);
                ++outcomes[static_cast<unsigned>(r.outcome)];
                const bool had_key = model.count(key) != 0;
                if (r.outcome == InsertOutcome::Full) {
                    ASSERT_FALSE(had_key);
                    ASSERT_EQ(before.size(), kBucketWays) << op;
                    for (const auto& [slot, km] : before) {
                        ASSERT_TRUE(live(km.second)) << op;
                        ASSERT_EQ(evict_rank(km.second.state), 0u) << op;
                    }
                    break;
                }
                ASSERT_EQ(in_bucket(h), r.slot / kBucketWays);
                const auto old = before.find(r.slot);
                switch (r.outcome) {
                    case InsertOutcome::Inserted:
                        ASSERT_TRUE(old == before.end() || old->second.first == key) << op;
                        break;
                    case InsertOutcome::ReplacedExpired:
                        ASSERT_TRUE(old != before.end() && !live(old->second.second)) << op;
                        break;
                    case InsertOutcome::EvictedHalfOpen:
                    case InsertOutcome::EvictedClosing: {
                        ASSERT_TRUE(old != before.end() && live(old->second.second)) << op;
                        ASSERT_EQ(before.size(), kBucketWays) << op;
                        const unsigned rank = evict_rank(old->second.second.state);
                        ASSERT_EQ(rank, r.outcome == InsertOutcome::EvictedHalfOpen ? 2u : 1u);
                        for (const auto& [slot, km] : before) {
                            ASSERT_TRUE(live(km.second)) << "expired slots go first, op " << op;
                            ASSERT_LE(evict_rank(km.second.state), rank) << op;
                            if (evict_rank(km.second.state) == rank) {  // oldest of its rank
                                ASSERT_FALSE(
                                    time_after(old->second.second.expires, km.second.expires))
                                    << op;
                            }
                        }
                        break;
                    }
                    case InsertOutcome::Full:
                        break;
                }
                if (old != before.end()) {
                    model.erase(old->second.first);
                }
                model[key] = Model{real, st, now + to.for_state(st)};
                break;
            }
            case 6: {  // erase through a hit
                const uint32_t slot = t->lookup(h, svc, now);
                const auto it = model.find(key);
                if (slot != kNoSlot) {
                    t->erase(slot);
                }
                if (it != model.end()) {
                    model.erase(it);
                }
                break;
            }
            case 7: {  // control plane re-points a flow
                const uint32_t slot = t->lookup(h, svc, now);
                const auto it = model.find(key);
                if (slot != kNoSlot) {
                    const uint32_t real = pick(8);
                    t->update_real(slot, real);
                    it->second.real = real;
                } else if (it != model.end()) {
                    model.erase(it);
                }
                break;
            }
            case 8: {  // bounded sweep
                const uint32_t n = 1 + pick(6);
                const uint32_t removed = t->expire_step(now, n);
                uint32_t want = 0;
                for (uint32_t i = 0; i < n; ++i) {
                    const uint32_t b = (cursor + i) % nb;
                    for (auto it = model.begin(); it != model.end();) {
                        if (in_bucket(it->first.first) == b && !live(it->second)) {
                            it = model.erase(it);
                            ++want;
                        } else {
                            ++it;
                        }
                    }
                }
                cursor = (cursor + n) % nb;
                ASSERT_EQ(removed, want) << op;
                break;
            }
            case 9:  // time passes
                now += pick(8);
                break;
        }
        check_counts(op);
        if (HasFatalFailure()) {
            return;
        }
    }
    EXPECT_LT(now, 0x10000u) << "the run must have crossed the wrap";
    for (uint32_t n : outcomes) {
        EXPECT_GT(n, 20u) << "every insert outcome must be exercised";
    }
}

}  // namespace
}  // namespace director::lb
