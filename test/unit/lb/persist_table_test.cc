// SPDX-License-Identifier: BSD-3-Clause
#include "lb/persist_table.h"

#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <random>
#include <vector>

#include "lb/conn_table.h"

namespace director::lb {
namespace {

using S = ConnState;

static_assert(sizeof(PersistBucket) == 64);
static_assert(alignof(PersistBucket) == 64);

std::unique_ptr<PersistTable> make_table(uint32_t capacity) {
    auto t = PersistTable::create(PersistTableConfig{.capacity = capacity});
    EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
    return t ? std::move(*t) : nullptr;
}

uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/** What the worker does: mask the IPv4 client address by the granularity, then hash it. */
uint32_t client_key(uint32_t addr_host_order, unsigned granularity) {
    const uint32_t mask = granularity == 0 ? 0 : ~0u << (32 - granularity);
    return fmix32(addr_host_order & mask);
}

uint32_t hash_in_bucket(const PersistTable& t, uint32_t bucket, uint32_t k) {
    return (k << std::countr_zero(t.bucket_count())) | bucket;
}

// ---- creation -------------------------------------------------------------------------------

TEST(PersistTable, SizedLikeTheConnTable) {
    EXPECT_EQ(make_table(1u << 18)->bucket_count(), 1u << 16);
    EXPECT_EQ(make_table(1000)->capacity(), 1024u);
    EXPECT_EQ(PersistTable::memory_bytes({.capacity = 1u << 18}), 4u << 20);
    EXPECT_FALSE(PersistTable::create({.capacity = 0}).has_value());
    EXPECT_FALSE(PersistTable::create({.capacity = kMaxTableCapacity + 1}).has_value());
    EXPECT_FALSE(PersistTable::create({.capacity = 64}, TableAllocator{}).has_value());
}

// ---- keepalived persistence_timeout semantics -----------------------------------------------

TEST(PersistTable, TemplateExpiresTSecondsAfterCreationWithoutConnections) {
    auto t = make_table(1024);
    const uint32_t key = client_key(0x0a63000a, 32);
    const InsertResult r = t->insert(key, 1, 4, 1000, 50);
    EXPECT_EQ(r.outcome, InsertOutcome::Inserted);
    t->prefetch(key);
    EXPECT_EQ(t->lookup(key, 1, 1049), r.slot);
    EXPECT_EQ(t->real_id(r.slot), 4u);
    EXPECT_EQ(t->lookup(key, 1, 1050), kNoSlot);
    EXPECT_EQ(t->size(), 0u);
}

TEST(PersistTable, EachNewConnectionRestartsTheTimer) {
    auto t = make_table(1024);
    const uint32_t key = client_key(0x0a63000a, 32);
    (void)t->insert(key, 1, 4, 0, 50);
    for (uint32_t now = 40; now <= 400; now += 40) {  // a new connection every 40 s
        const uint32_t slot = t->lookup(key, 1, now);
        ASSERT_NE(slot, kNoSlot) << now;
        t->touch(slot, now, 50);
        EXPECT_EQ(t->expires(slot), now + 50);
    }
    EXPECT_NE(t->lookup(key, 1, 449), kNoSlot);  // >= T after the last new connection
    EXPECT_EQ(t->lookup(key, 1, 450), kNoSlot);
}

TEST(PersistTable, TouchNeverShortens) {
    auto t = make_table(64);
    const uint32_t slot = t->insert(9, 0, 1, 0, 300).slot;
    t->touch(slot, 10, 50);
    EXPECT_EQ(t->expires(slot), 300u);
    t->hold(slot, 100);
    EXPECT_EQ(t->expires(slot), 300u);
}

TEST(PersistTable, GranularityIsTheCallersMaskedHash) {
    auto t = make_table(1024);
    const uint32_t a = 0x0a630011;  // 10.99.0.17
    const uint32_t b = 0x0a6300fe;  // 10.99.0.254, same /24
    (void)t->insert(client_key(a, 24), 1, 7, 0, 50);
    const uint32_t slot = t->lookup(client_key(b, 24), 1, 1);
    ASSERT_NE(slot, kNoSlot);
    EXPECT_EQ(t->real_id(slot), 7u);
    EXPECT_EQ(t->lookup(client_key(b, 32), 1, 1), kNoSlot);
    EXPECT_EQ(t->lookup(client_key(0x0a630111, 24), 1, 1), kNoSlot);  // 10.99.1.17
    EXPECT_EQ(t->lookup(client_key(a, 24), 2, 1), kNoSlot);           // other service
}

// The IPVS rule: affinity lasts >= T after the last new connection and until the last
// controlled connection ends. Drive a real ConnTable the way the worker will.
class PersistWithConnections : public ::testing::Test {
protected:
    static constexpr uint32_t kT = 50;
    static constexpr uint32_t kService = 3;

    std::unique_ptr<ConnTable> conns_ = ConnTable::create({.capacity = 1024}).value();
    std::unique_ptr<PersistTable> persist_ = make_table(1024);
    uint32_t client_ = client_key(0x0a630042, 32);

    /** First packet of a new flow of this client: template, schedule, conn entry, hold. */
    uint32_t new_connection(uint32_t flow_hash, uint32_t now, uint32_t scheduled_real) {
        uint32_t ps = persist_->lookup(client_, kService, now);
        if (ps == kNoSlot) {
            ps = persist_->insert(client_, kService, scheduled_real, now, kT).slot;
        } else {
            persist_->touch(ps, now, kT);
        }
        const uint32_t real = persist_->real_id(ps);
        const uint32_t cs =
            conns_->insert(flow_hash, kService, real, next_state(S::None, kTcpSyn), now).slot;
        persist_->hold(ps, conns_->expires(cs));
        return real;
    }

    /** A later packet of an existing flow; false if the flow has no entry any more. */
    bool packet(uint32_t flow_hash, uint8_t flags, uint32_t now) {
        const uint32_t cs = conns_->lookup(flow_hash, kService, now);
        if (cs == kNoSlot) {
            return false;
        }
        if (conns_->update_state(cs, flags, now).hold_due) {
            (void)persist_->hold(client_, kService, conns_->expires(cs), now);
        }
        return true;
    }

    bool template_live(uint32_t now) { return persist_->lookup(client_, kService, now) != kNoSlot; }
};

TEST_F(PersistWithConnections, HeldWhileAControlledConnectionLives) {
    EXPECT_EQ(new_connection(101, 0, 2), 2u);
    ASSERT_TRUE(packet(101, kTcpAck, 1));  // ESTABLISHED, 900 s
    // An hour of traffic every 10 s, far beyond T.
    for (uint32_t now = 10; now <= 3600; now += 10) {
        ASSERT_TRUE(packet(101, kTcpAck | kTcpPsh, now));
        ASSERT_TRUE(template_live(now)) << now;
    }
    // A second connection of the same client still goes to real 2, not to the scheduler's 5.
    EXPECT_EQ(new_connection(102, 3600, 5), 2u);
    // The connection goes idle: its entry lives until 4500; the template must outlive it.
    for (uint32_t now = 3601; now < 4500; now += 7) {
        ASSERT_NE(conns_->lookup(101, kService, now), kNoSlot);
        ASSERT_TRUE(template_live(now)) << now;
    }
    EXPECT_EQ(conns_->lookup(101, kService, 4500), kNoSlot);
    // ... and expire at most kHoldGranule after it.
    EXPECT_FALSE(template_live(4500 + kHoldGranule));
}

TEST_F(PersistWithConnections, ExpiresAboutTAfterAnUnansweredSyn) {
    (void)new_connection(201, 0, 1);  // SYN_RECV until 60: template held to 64
    EXPECT_TRUE(template_live(63));
    EXPECT_FALSE(template_live(64));
}

TEST_F(PersistWithConnections, HoldTakenForAnEstablishedConnectionOutlivesItsEarlyClose) {
    // The documented over-approximation: a hold covers the expiry the connection had when it
    // was taken (ESTABLISHED: last packet + 900 s) and cannot shrink when the connection
    // closes early; IPVS would drop the template within 60 s of the close.
    (void)new_connection(301, 0, 1);
    ASSERT_TRUE(packet(301, kTcpAck, 1));  // ESTABLISHED until 901: held to 912
    ASSERT_TRUE(packet(301, kTcpRst, 2));  // CLOSE: entry gone at 12
    EXPECT_EQ(conns_->lookup(301, kService, 12), kNoSlot);
    EXPECT_TRUE(template_live(911));
    EXPECT_FALSE(template_live(912));
}

TEST_F(PersistWithConnections, InvariantHoldsForRandomTraffic) {
    // Several connections of one client with random packets and gaps; at every step each live
    // controlled connection's entry expires no later than the template.
    std::mt19937 rng(7);
    std::vector<uint32_t> flows;
    uint32_t now = 0xffffffffu - 5000;  // across the wrap, too
    for (int step = 0; step < 5000; ++step) {
        now += std::uniform_int_distribution<uint32_t>(0, 20)(rng);
        const uint32_t dice = std::uniform_int_distribution<uint32_t>(0, 9)(rng);
        if (dice == 0 || flows.empty()) {
            flows.push_back(1000 + step);
            (void)new_connection(flows.back(), now, 1);
        } else {
            const uint32_t f =
                flows[std::uniform_int_distribution<size_t>(0, flows.size() - 1)(rng)];
            constexpr uint8_t kFlags[] = {kTcpAck, kTcpAck, kTcpAck, kTcpFin, kTcpRst, kTcpSyn};
            (void)packet(f, kFlags[std::uniform_int_distribution<int>(0, 5)(rng)], now);
        }
        const uint32_t ps = persist_->lookup(client_, kService, now);
        for (uint32_t f : flows) {
            const uint32_t cs = conns_->lookup(f, kService, now);
            if (cs != kNoSlot) {
                ASSERT_NE(ps, kNoSlot) << "template gone while flow " << f << " lives";
                ASSERT_FALSE(time_after(conns_->expires(cs), persist_->expires(ps))) << step;
            }
        }
    }
}

// ---- table behaviour ------------------------------------------------------------------------

TEST(PersistTable, LiveTemplatesAreNeverEvicted) {
    auto t = make_table(4);
    for (uint32_t h = 1; h <= 4; ++h) {
        (void)t->insert(h, 0, h, 0, 100);
    }
    EXPECT_EQ(t->insert(5, 0, 5, 1, 100).outcome, InsertOutcome::Full);
    EXPECT_EQ(t->insert(5, 0, 5, 1, 100).slot, kNoSlot);
    const InsertResult r = t->insert(5, 0, 5, 100, 100);  // all four expired at 100
    EXPECT_EQ(r.outcome, InsertOutcome::ReplacedExpired);
    EXPECT_EQ(t->size(), 4u);
}

TEST(PersistTable, UpdateRealReschedulesAndStartsAfresh) {
    auto t = make_table(64);
    const uint32_t slot = t->insert(11, 0, 1, 0, 300).slot;
    t->update_real(slot, 2, 100, 50);
    EXPECT_EQ(t->real_id(slot), 2u);
    EXPECT_EQ(t->expires(slot), 150u);
    EXPECT_EQ(t->lookup(11, 0, 150), kNoSlot);
}

TEST(PersistTable, HoldByKeyReportsMissingTemplate) {
    auto t = make_table(64);
    EXPECT_FALSE(t->hold(11, 0, 500, 0));
    const uint32_t slot = t->insert(11, 0, 1, 0, 50).slot;
    EXPECT_TRUE(t->hold(11, 0, 500, 0));
    EXPECT_EQ(t->expires(slot), hold_until(500));
}

TEST(PersistTable, EraseAndSweep) {
    auto t = make_table(256);
    const uint32_t nb = t->bucket_count();
    for (uint32_t b = 0; b < nb; ++b) {
        for (uint32_t k = 1; k <= kBucketWays; ++k) {
            (void)t->insert(hash_in_bucket(*t, b, k), 0, 0, 0, k * 10);
        }
    }
    t->erase(t->lookup(hash_in_bucket(*t, 0, 4), 0, 0));
    EXPECT_EQ(t->size(), 255u);
    EXPECT_EQ(t->expire_step(10, nb), nb);  // k == 1 templates
    EXPECT_EQ(t->expire_step(20, 8), 8u);   // bounded: 8 buckets
    uint32_t calls = 0;
    while (t->size() > 0) {
        EXPECT_LE(t->expire_step(40, 8), 8 * kBucketWays);
        ASSERT_LE(++calls, nb / 8 + 1);
    }
}

TEST(PersistTable, TimeWrapsSafely) {
    auto t = make_table(64);
    const uint32_t slot = t->insert(3, 0, 1, 0xffffffffu - 10, 50).slot;
    EXPECT_EQ(t->expires(slot), 39u);
    EXPECT_EQ(t->expire_step(0xffffffffu, 16), 0u);
    EXPECT_EQ(t->lookup(3, 0, 38), slot);
    t->touch(slot, 38, 50);
    EXPECT_EQ(t->expires(slot), 88u);
    EXPECT_EQ(t->lookup(3, 0, 88), kNoSlot);
}

TEST(PersistTable, MatchesReferenceModelUnderRandomOperations) {
    struct Model {
        uint32_t real;
        uint32_t expires;
    };
    auto t = make_table(32);  // 8 buckets
    const uint32_t nb = t->bucket_count();
    std::map<std::pair<uint32_t, uint32_t>, Model> model;
    std::mt19937 rng(99);
    auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
    uint32_t now = 0xffffffffu - 2000;
    uint32_t cursor = 0;
    auto live = [&](const Model& m) { return time_after(m.expires, now); };
    for (int op = 0; op < 20000; ++op) {
        const uint32_t h = fmix32(1 + pick(100));
        const uint32_t svc = pick(2);
        const auto key = std::make_pair(h, svc);
        const auto it = model.find(key);
        switch (pick(6)) {
            case 0:
            case 1: {
                const uint32_t slot = t->lookup(h, svc, now);
                if (it == model.end() || !live(it->second)) {
                    ASSERT_EQ(slot, kNoSlot) << op;
                    if (it != model.end()) {
                        model.erase(it);
                    }
                    break;
                }
                ASSERT_NE(slot, kNoSlot) << op;
                ASSERT_EQ(t->real_id(slot), it->second.real) << op;
                ASSERT_EQ(t->expires(slot), it->second.expires) << op;
                if (pick(2) == 0) {
                    const uint32_t timeout = 1 + pick(40);
                    t->touch(slot, now, timeout);
                    if (time_after(now + timeout, it->second.expires)) {
                        it->second.expires = now + timeout;
                    }
                } else {
                    const uint32_t until = now + pick(60);
                    t->hold(slot, until);
                    if (time_after(hold_until(until), it->second.expires)) {
                        it->second.expires = hold_until(until);
                    }
                }
                break;
            }
            case 2: {
                if (it != model.end() && live(it->second)) {
                    break;  // the worker only inserts after a miss
                }
                std::vector<std::pair<uint32_t, uint32_t>> in_bucket;
                for (const auto& [k, m] : model) {
                    if ((k.first & (nb - 1)) == (h & (nb - 1))) {
                        in_bucket.push_back(k);
                    }
                }
                const uint32_t real = pick(8);
                const uint32_t timeout = 1 + pick(40);
                const InsertResult r = t->insert(h, svc, real, now, timeout);
                if (r.outcome == InsertOutcome::Full) {
                    ASSERT_EQ(in_bucket.size(), kBucketWays) << op;
                    for (const auto& k : in_bucket) {
                        ASSERT_TRUE(live(model[k])) << op;
                    }
                    break;
                }
                const PersistEntry e = t->entry(r.slot);
                ASSERT_EQ(e.hash, h == 0 ? 1u : h);
                for (const auto& k : in_bucket) {
                    if (k != key && !live(model[k])) {
                        // The slot may have been reused; drop the model entry if it is gone.
                        bool still_there = false;
                        for (uint32_t w = 0; w < kBucketWays; ++w) {
                            const PersistEntry o = t->entry((h & (nb - 1)) * kBucketWays + w);
                            still_there |= o.hash == k.first && o.service_id == k.second;
                        }
                        if (!still_there) {
                            ASSERT_EQ(r.outcome, InsertOutcome::ReplacedExpired) << op;
                            model.erase(k);
                        }
                    } else if (k != key) {
                        ASSERT_TRUE(live(model[k]));  // live templates survive any insert
                    }
                }
                model[key] = Model{real, now + timeout};
                break;
            }
            case 3: {
                const uint32_t n = 1 + pick(3);
                const uint32_t removed = t->expire_step(now, n);
                uint32_t want = 0;
                for (uint32_t i = 0; i < n; ++i) {
                    const uint32_t b = (cursor + i) % nb;
                    for (auto m = model.begin(); m != model.end();) {
                        if ((m->first.first & (nb - 1)) == b && !live(m->second)) {
                            m = model.erase(m);
                            ++want;
                        } else {
                            ++m;
                        }
                    }
                }
                cursor = (cursor + n) % nb;
                ASSERT_EQ(removed, want) << op;
                break;
            }
            default:
                now += pick(6);
                break;
        }
        ASSERT_EQ(t->size(), model.size()) << op;
    }
}

}  // namespace
}  // namespace director::lb
