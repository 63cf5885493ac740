// SPDX-License-Identifier: BSD-3-Clause
// The IPVS schedulers over a Snapshot (lib/lb/scheduler.cc): exact rr/wrr sequences, the
// lc/wlc/sed/nq formulas on handcrafted counts, sh/dh bucket layout, Maglev (mh) stability,
// distributions over 100k flows and the weight-0 rule for every scheduler.
#include "lb/scheduler.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "lb/snapshot.h"

namespace director::lb {
namespace {

constexpr uint32_t kIdBase = 100;  // real_id = kIdBase + slot, so ids and slots differ

struct R {
    uint32_t weight = 1;
    RealState state = RealState::Up;
    bool mac = true;
    uint32_t last_weight = 0;
};

ServiceSpec service_spec(SchedulerKind kind, const std::vector<R>& reals, uint32_t generation = 1,
                         uint32_t maglev_size = 0) {
    ServiceSpec s;
    s.vip = net::IpAddress::v4(0x0a6300fcu);  // 10.99.0.252
    s.port = 80;
    s.proto = Protocol::Tcp;
    s.scheduler = kind;
    s.service_id = 7;
    s.generation = generation;
    s.maglev_size = maglev_size;
    for (uint32_t i = 0; i < reals.size(); ++i) {
        RealSpec r;
        r.real_id = kIdBase + i;
        r.addr = net::IpAddress::v4(0x0a630000u + 10 + i);
        r.port = 80;
        r.weight = reals[i].weight;
        r.state = reals[i].state;
        r.last_weight = reals[i].last_weight;
        if (reals[i].mac) {
            r.mac = net::MacAddress{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(i)}};
        }
        s.reals.push_back(r);
    }
    return s;
}

std::unique_ptr<Snapshot> one_service(SchedulerKind kind, const std::vector<R>& reals,
                                      uint32_t generation = 1, uint32_t maglev_size = 0) {
    const ServiceSpec spec = service_spec(kind, reals, generation, maglev_size);
    auto snap = SnapshotBuilder::build(std::span<const ServiceSpec>(&spec, 1));
    EXPECT_TRUE(snap.has_value()) << (snap ? "" : snap.error().message);
    return std::move(snap).value();
}

std::vector<R> weights(std::initializer_list<uint32_t> ws) {
    std::vector<R> out;
    for (const uint32_t w : ws) {
        out.push_back(R{w});
    }
    return out;
}

// Letters for slots: A = slot 0; '-' = kNoReal.
std::string sequence(const Snapshot& snap, SchedState& st, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
        const uint32_t slot = schedule(snap, 0, SchedInput{}, st);
        out += slot == kNoReal ? '-' : static_cast<char>('A' + slot);
    }
    return out;
}

SchedInput random_input(std::mt19937& rng) {
    return SchedInput{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
                      static_cast<uint32_t>(rng())};
}

// ---- rr ----------------------------------------------------------------------------------

TEST(Rr, CyclesThroughUsableRealsInListOrder) {
    auto snap = one_service(SchedulerKind::Rr, weights({1, 5, 1}));
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 7), "ABCABCA");  // weights ignored
}

TEST(Rr, SkipsZeroWeightDownAndUnresolvedRealsAndWraps) {
    auto snap = one_service(SchedulerKind::Rr,
                            {R{1}, R{0}, R{1, RealState::Down}, R{1}, R{1, RealState::Up, false}});
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 5), "ADADA");
}

TEST(Rr, SingleUsableRealIsChosenEveryTime) {
    auto snap = one_service(SchedulerKind::Rr, weights({0, 3, 0}));
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 3), "BBB");
}

TEST(Rr, NoUsableRealGivesNoReal) {
    auto snap = one_service(SchedulerKind::Rr, weights({0, 0}));
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 2), "--");
    auto empty = one_service(SchedulerKind::Rr, {});
    EXPECT_EQ(sequence(*empty, st, 1), "-");
}

TEST(Rr, GenerationChangeRestartsFromListHead) {
    auto gen1 = one_service(SchedulerKind::Rr, weights({1, 1, 1}), 1);
    auto gen1_again = one_service(SchedulerKind::Rr, weights({1, 1, 1}), 1);
    auto gen2 = one_service(SchedulerKind::Rr, weights({1, 1, 1}), 2);
    SchedState st;
    EXPECT_EQ(sequence(*gen1, st, 2), "AB");
    EXPECT_EQ(sequence(*gen1_again, st, 1), "C");  // same generation: state carries on
    EXPECT_EQ(sequence(*gen1, st, 1), "A");
    EXPECT_EQ(sequence(*gen2, st, 2), "AB");  // new generation: back to the head
}

TEST(Rr, UsableSetChangeAlsoRestarts) {
    auto all_up = one_service(SchedulerKind::Rr, weights({1, 1, 1}), 1);
    auto b_down = one_service(SchedulerKind::Rr, {R{1}, R{1, RealState::Down}, R{1}}, 1);
    SchedState st;
    EXPECT_EQ(sequence(*all_up, st, 2), "AB");
    EXPECT_EQ(sequence(*b_down, st, 3), "ACA");
}

TEST(Rr, StateFromALongerListIsClamped) {
    auto snap = one_service(SchedulerKind::Rr, weights({1, 1}));
    SchedState st;
    st.key = snap->service(0).sched_key;  // pretend the key matches but the cursor is stale
    st.cursor = 40;
    EXPECT_EQ(sequence(*snap, st, 2), "AB");
}

// ---- wrr ---------------------------------------------------------------------------------

TEST(Wrr, IpvsInterleavedSequenceForA4B3C2) {
    auto snap = one_service(SchedulerKind::Wrr, weights({4, 3, 2}));
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 18), "AABABCABCAABABCABC");
}

TEST(Wrr, IpvsSequencesForOtherWeightSets) {
    struct Case {
        std::vector<uint32_t> w;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{1, 1, 1}, "ABCABC"},
        {{5, 1}, "AAAAABAAAAAB"},
        {{2, 3}, "BABABBABAB"},
        // gcd 2: mw = 4 - (2 - 1) = 3, passes at cw 3 and 1.
        {{4, 2}, "AABAAB"},
        // gcd 2: mw = 5, passes at cw 5, 3, 1: the same as weights 3:2:1.
        {{6, 4, 2}, "AABABCAABABC"},
        // gcd 3, single real.
        {{3}, "AAA"},
    };
    for (const Case& c : cases) {
        std::vector<R> reals;
        for (const uint32_t w : c.w) {
            reals.push_back(R{w});
        }
        auto snap = one_service(SchedulerKind::Wrr, reals);
        SchedState st;
        EXPECT_EQ(sequence(*snap, st, static_cast<int>(c.expected.size())), c.expected)
            << "weights[0]=" << c.w[0];
    }
}

TEST(Wrr, ZeroWeightMemberIsSkippedAndIgnoredByGcd) {
    // gcd over positive weights only (2): mw = 3; B never appears.
    auto snap = one_service(SchedulerKind::Wrr, weights({4, 0, 2}));
    EXPECT_EQ(snap->service(0).wrr_di, 2);
    EXPECT_EQ(snap->service(0).wrr_mw, 3);
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 6), "AACAAC");
}

TEST(Wrr, DownMemberIsTreatedAsDeleted) {
    auto snap = one_service(SchedulerKind::Wrr, {R{4, RealState::Down}, R{3}, R{2}});
    SchedState st;
    // As IPVS with A deleted: weights B3 C2 => B B C B C.
    EXPECT_EQ(sequence(*snap, st, 10), "BBCBCBBCBC");
}

TEST(Wrr, AllZeroWeightsGiveNoReal) {
    auto snap = one_service(SchedulerKind::Wrr, weights({0, 0}));
    SchedState st;
    EXPECT_EQ(sequence(*snap, st, 2), "--");
}

TEST(Wrr, GenerationChangeClampsCwAndRestartsFromHead) {
    auto gen1 = one_service(SchedulerKind::Wrr, weights({4, 3, 2}), 1);
    auto gen2 = one_service(SchedulerKind::Wrr, weights({2, 1}), 2);
    SchedState st;
    EXPECT_EQ(sequence(*gen1, st, 1), "A");  // cw = 4
    // ip_vs_wrr_dest_changed: cw 4 > mw 2 => cw = 2, position = list head.
    EXPECT_EQ(sequence(*gen2, st, 6), "AABAAB");
}

TEST(Wrr, GenerationChangeRoundsCwToTheNewGcd) {
    auto gen1 = one_service(SchedulerKind::Wrr, weights({4, 3, 2}), 1);
    auto gen2 = one_service(SchedulerKind::Wrr, weights({4, 2}), 2);
    SchedState st;
    EXPECT_EQ(sequence(*gen1, st, 3), "AAB");  // cw = 3
    // di = 2, mw = 3: cw = (3 / 2) * 2 + 1 = 3, from the head.
    EXPECT_EQ(sequence(*gen2, st, 3), "AAB");
    EXPECT_EQ(st.cw, 1);
}

// ---- lc / wlc / sed / nq -----------------------------------------------------------------

// Per-real counts indexed by real_id, as ConnTable::counts() provides them.
struct Counts {
    std::vector<ConnCounts> by_id = std::vector<ConnCounts>(kIdBase + 16);
    void set(uint32_t slot, uint32_t a, uint32_t i) { by_id[kIdBase + slot] = ConnCounts{a, i}; }
    ConnCounts& of(uint32_t slot) { return by_id[kIdBase + slot]; }
};

uint32_t pick(const Snapshot& snap, const Counts& c) {
    SchedState st;
    return schedule(snap, 0, SchedInput{}, st, c.by_id);
}

TEST(Lc, PicksLeastOverheadIgnoringWeight) {
    auto snap = one_service(SchedulerKind::Lc, weights({1, 5, 1}));
    Counts c;
    c.set(0, 1, 0);    // 256
    c.set(1, 0, 300);  // 300
    c.set(2, 0, 10);   // 10
    EXPECT_EQ(pick(*snap, c), 2u);
    c.set(2, 0, 300);  // A 256 < B 300 = C 300
    EXPECT_EQ(pick(*snap, c), 0u);
}

TEST(Lc, TiesKeepListOrder) {
    auto snap = one_service(SchedulerKind::Lc, weights({1, 1, 1}));
    Counts c;
    c.set(0, 0, 20);
    c.set(1, 0, 10);
    c.set(2, 0, 10);
    EXPECT_EQ(pick(*snap, c), 1u);
}

TEST(Lc, SkipsZeroWeightEvenWhenIdle) {
    auto snap = one_service(SchedulerKind::Lc, weights({0, 1}));
    Counts c;
    c.set(1, 50, 50);
    EXPECT_EQ(pick(*snap, c), 1u);
}

TEST(Lc, MissingCountsMeanIdle) {
    auto snap = one_service(SchedulerKind::Lc, weights({0, 2, 1}));
    SchedState st;
    EXPECT_EQ(schedule(*snap, 0, SchedInput{}, st), 1u);
    const std::vector<ConnCounts> too_short = {ConnCounts{5, 5}};  // ids >= size are idle
    EXPECT_EQ(schedule(*snap, 0, SchedInput{}, st, too_short), 1u);
}

TEST(Wlc, MinimisesOverheadPerWeightByCrossMultiplication) {
    auto snap = one_service(SchedulerKind::Wlc, weights({1, 3, 0}));
    Counts c;
    c.set(0, 1, 0);   // 256 / 1
    c.set(1, 2, 50);  // 562 / 3 = 187.3
    EXPECT_EQ(pick(*snap, c), 1u);
    c.set(1, 2, 300);  // 812 / 3 = 270.7
    EXPECT_EQ(pick(*snap, c), 0u);
}

TEST(Wlc, TiesKeepListOrder) {
    auto snap = one_service(SchedulerKind::Wlc, weights({1, 2}));
    Counts c;
    c.set(0, 0, 100);  // 100 / 1
    c.set(1, 0, 200);  // 200 / 2
    EXPECT_EQ(pick(*snap, c), 0u);
}

TEST(Sed, UsesActivePlusOneOverWeightAndIgnoresInactive) {
    auto snap = one_service(SchedulerKind::Sed, weights({1, 3}));
    Counts c;
    c.set(0, 0, 1000);  // (0 + 1) / 1 = 1
    c.set(1, 2, 0);     // (2 + 1) / 3 = 1: tie, list order
    EXPECT_EQ(pick(*snap, c), 0u);
    c.set(1, 1, 0);  // 2 / 3
    EXPECT_EQ(pick(*snap, c), 1u);
}

TEST(Nq, TakesTheFirstIdleRealWhateverItsWeight) {
    auto snap = one_service(SchedulerKind::Nq, weights({5, 1, 1}));
    Counts c;
    c.set(0, 3, 0);
    c.set(1, 0, 99);  // idle: no active connection, inactive ignored
    c.set(2, 0, 0);
    EXPECT_EQ(pick(*snap, c), 1u);
}

TEST(Nq, FallsBackToSedWhenNoneIsIdle) {
    auto snap = one_service(SchedulerKind::Nq, weights({1, 4}));
    Counts c;
    c.set(0, 1, 0);  // 2 / 1
    c.set(1, 3, 0);  // 4 / 4
    EXPECT_EQ(pick(*snap, c), 1u);
}

// ---- sh / dh / mh ------------------------------------------------------------------------

TEST(Sh, BucketsFollowIpvsFill) {
    // A2 B1 C0: A takes two consecutive buckets, B one, C (weight 0) still one.
    auto snap = one_service(SchedulerKind::Sh, weights({2, 1, 0}));
    const auto sh = snap->sh_table(0);
    const std::vector<uint16_t> head(sh.begin(), sh.begin() + 8);
    EXPECT_EQ(head, (std::vector<uint16_t>{0, 0, 1, 2, 0, 0, 1, 2}));
}

TEST(Sh, BucketsAreWeightProportional) {
    auto snap = one_service(SchedulerKind::Sh, weights({1, 2, 3, 4}));
    std::array<uint32_t, 4> count{};
    for (const uint16_t slot : snap->sh_table(0)) {
        ++count.at(slot);
    }
    // 25 full rounds of 10 buckets plus A1 B2 C3.
    EXPECT_EQ(count, (std::array<uint32_t, 4>{26, 52, 78, 100}));
}

TEST(Sh, SameClientAlwaysSameRealThroughIpvsHash) {
    auto snap = one_service(SchedulerKind::Sh, weights({1, 1, 1}));
    SchedState st;
    std::mt19937 rng(1);
    for (int i = 0; i < 1000; ++i) {
        SchedInput in = random_input(rng);
        const uint32_t slot = schedule(*snap, 0, in, st);
        EXPECT_EQ(slot, snap->sh_table(0)[sh_bucket(in.src_fold)]);
        in.flow_hash ^= 0xdeadbeef;  // another connection of the same client
        EXPECT_EQ(schedule(*snap, 0, in, st), slot);
    }
    // hash_32(val, 8) from include/linux/hash.h
    EXPECT_EQ(sh_bucket(0x0a000001u), (0x0a000001u * 0x61C88647u) >> 24);
}

TEST(Sh, UnusableOwnerFallsBackAndOtherClientsStay) {
    auto up = one_service(SchedulerKind::Sh, weights({1, 1, 1}));
    auto b_down = one_service(SchedulerKind::Sh, {R{1}, R{1, RealState::Down}, R{1}});
    SchedState st;
    std::mt19937 rng(2);
    for (int i = 0; i < 5000; ++i) {
        const SchedInput in = random_input(rng);
        const uint32_t before = schedule(*up, 0, in, st);
        const uint32_t after = schedule(*b_down, 0, in, st);
        ASSERT_NE(after, kNoReal);  // IPVS would drop without sh-fallback
        EXPECT_NE(after, 1u);
        if (before != 1u) {
            EXPECT_EQ(after, before);
        }
    }
}

TEST(Dh, OneBucketPerRealIgnoringWeight) {
    auto snap = one_service(SchedulerKind::Dh, weights({5, 1, 1}));
    const auto dh = snap->dh_table(0);
    for (uint32_t i = 0; i < kDhBuckets; ++i) {
        EXPECT_EQ(dh[i], i % 3);
    }
    EXPECT_EQ(dh_bucket(0x0a000001u), (0x0a000001u * 2654435761u) & 255u);
}

TEST(Dh, SameDestinationAlwaysSameRealSoOneRealPerVip) {
    auto snap = one_service(SchedulerKind::Dh, weights({1, 1, 1}));
    SchedState st;
    std::mt19937 rng(3);
    const uint32_t vip_fold = addr_fold(snap->vip(0));
    uint32_t first = kNoReal;
    for (int i = 0; i < 1000; ++i) {
        SchedInput in = random_input(rng);
        in.dst_fold = vip_fold;
        const uint32_t slot = schedule(*snap, 0, in, st);
        if (first == kNoReal) {
            first = slot;
        }
        EXPECT_EQ(slot, first);
    }
}

TEST(Mh, SameClientSameRealAndAFailedRealMovesOnlyItsClients) {
    auto up = one_service(SchedulerKind::Mh, weights({1, 1, 1, 1}));
    auto c_down = one_service(SchedulerKind::Mh, {R{1}, R{1}, R{1, RealState::Down}, R{1}});
    SchedState st;
    std::mt19937 rng(4);
    for (int i = 0; i < 5000; ++i) {
        const SchedInput in = random_input(rng);
        const uint32_t before = schedule(*up, 0, in, st);
        EXPECT_EQ(schedule(*up, 0, in, st), before);
        const uint32_t after = schedule(*c_down, 0, in, st);
        EXPECT_NE(after, 2u);
        if (before != 2u) {
            EXPECT_EQ(after, before);
        }
    }
}

TEST(Mh, QuiescingWithLastWeightKeepsTheTableAndNeverPicksTheDrainingReal) {
    auto up = one_service(SchedulerKind::Mh, weights({2, 2, 2}));
    auto quiesced = one_service(SchedulerKind::Mh, {R{2}, R{0, RealState::Up, true, 2}, R{2}});
    const auto a = up->maglev_table(0);
    const auto b = quiesced->maglev_table(0);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    SchedState st;
    std::mt19937 rng(5);
    for (int i = 0; i < 5000; ++i) {
        const SchedInput in = random_input(rng);
        EXPECT_NE(schedule(*quiesced, 0, in, st), 1u);
        // A mid-flow packet without state may still go to the draining real.
        const uint32_t existing = quiesced->consistent_pick(0, in.src_fold, PickFor::ExistingFlow);
        EXPECT_EQ(existing, schedule(*up, 0, in, st));
    }
}

TEST(ConsistentPick, NoUsableRealGivesNoReal) {
    auto snap =
        one_service(SchedulerKind::Mh, {R{0}, R{1, RealState::Down}, R{1, RealState::Up, false}});
    EXPECT_EQ(snap->consistent_pick(0, 12345), kNoReal);
    EXPECT_EQ(snap->consistent_pick(0, 12345, PickFor::ExistingFlow), 0u);  // draining A
    auto empty = one_service(SchedulerKind::Mh, {});
    EXPECT_EQ(empty->consistent_pick(0, 1), kNoReal);
}

TEST(ConsistentPick, FindsTheLastUsableRealAmongManyDownOnes) {
    std::vector<R> reals(200, R{1, RealState::Down});
    reals[137] = R{1};
    auto snap = one_service(SchedulerKind::Mh, reals);
    for (uint32_t key = 0; key < 2000; ++key) {
        ASSERT_EQ(snap->consistent_pick(0, key), 137u);
    }
}

// ---- distributions over 100k new flows -----------------------------------------------------

struct Distribution {
    SchedulerKind kind;
    std::vector<uint32_t> weights;
    std::vector<double> expected;  // share per slot
    double tolerance;              // absolute, on the share
};

std::vector<double> run_flows(SchedulerKind kind, const std::vector<uint32_t>& ws, int flows) {
    std::vector<R> reals;
    for (const uint32_t w : ws) {
        reals.push_back(R{w});
    }
    auto snap = one_service(kind, reals);
    Counts c;
    SchedState st;
    std::mt19937 rng(42);
    std::vector<double> share(ws.size(), 0);
    for (int i = 0; i < flows; ++i) {
        const uint32_t slot = schedule(*snap, 0, random_input(rng), st, c.by_id);
        EXPECT_NE(slot, kNoReal);
        if (slot == kNoReal) {
            break;
        }
        share[slot] += 1.0 / flows;
        // Model connection bookkeeping: wlc/lc see a new (inactive) connection, sed/nq an
        // established one.
        if (kind == SchedulerKind::Sed || kind == SchedulerKind::Nq) {
            ++c.of(slot).active;
        } else {
            ++c.of(slot).inactive;
        }
    }
    return share;
}

TEST(Distribution, EverySchedulerFollowsItsWeightsOver100kFlows) {
    const std::vector<uint32_t> w = {1, 2, 3, 4, 0};
    const std::vector<double> by_weight = {0.1, 0.2, 0.3, 0.4, 0.0};
    const std::vector<double> equal = {0.25, 0.25, 0.25, 0.25, 0.0};
    const std::vector<Distribution> cases = {
        {SchedulerKind::Rr, w, equal, 0.001},  // rr ignores weights
        {SchedulerKind::Wrr, w, by_weight, 0.001},
        {SchedulerKind::Lc, w, equal, 0.001},  // lc ignores weights
        {SchedulerKind::Wlc, w, by_weight, 0.001},
        {SchedulerKind::Sed, w, by_weight, 0.001},
        {SchedulerKind::Nq, w, by_weight, 0.001},
        {SchedulerKind::Sh, w, by_weight, 0.015},  // 256 buckets + sampling noise
        {SchedulerKind::Mh, w, by_weight, 0.015},  // table granularity + sampling noise
    };
    for (const Distribution& d : cases) {
        const auto share = run_flows(d.kind, d.weights, 100000);
        for (size_t i = 0; i < share.size(); ++i) {
            EXPECT_NEAR(share[i], d.expected[i], d.tolerance)
                << scheduler_name(d.kind) << " slot " << i;
        }
    }
}

TEST(Distribution, DhSpreadsDestinationsEquallyIgnoringWeights) {
    auto snap = one_service(SchedulerKind::Dh, weights({1, 2, 3, 4}));
    SchedState st;
    std::mt19937 rng(7);
    std::vector<double> share(4, 0);
    for (int i = 0; i < 100000; ++i) {
        share[schedule(*snap, 0, random_input(rng), st)] += 1e-5;
    }
    for (const double s : share) {
        EXPECT_NEAR(s, 0.25, 0.015);
    }
}

// ---- weight 0 is never chosen ---------------------------------------------------------------

TEST(AllSchedulers, NeverChooseWeightZeroDownOrUnresolvedReals) {
    std::mt19937 rng(99);
    const std::array<uint32_t, 7> weight_pool = {0, 0, 1, 2, 3, 5, 10};
    for (uint8_t k = 0; k <= static_cast<uint8_t>(SchedulerKind::Mh); ++k) {
        const auto kind = static_cast<SchedulerKind>(k);
        for (int config = 0; config < 40; ++config) {
            std::vector<R> reals(1 + rng() % 12);
            uint32_t usable = 0;
            for (R& r : reals) {
                r.weight = weight_pool[rng() % weight_pool.size()];
                r.state = rng() % 10 == 0 ? RealState::Down : RealState::Up;
                r.mac = rng() % 20 != 0;
                r.last_weight = rng() % 2 == 0 ? 3 : 0;
                usable += r.weight > 0 && r.state == RealState::Up && r.mac ? 1 : 0;
            }
            auto snap = one_service(kind, reals, config);
            Counts c;
            for (uint32_t i = 0; i < reals.size(); ++i) {
                c.set(i, rng() % 4, rng() % 100);
            }
            SchedState st;
            for (int i = 0; i < 200; ++i) {
                const uint32_t slot = schedule(*snap, 0, random_input(rng), st, c.by_id);
                if (usable == 0) {
                    ASSERT_EQ(slot, kNoReal) << scheduler_name(kind);
                    continue;
                }
                ASSERT_LT(slot, reals.size()) << scheduler_name(kind);
                EXPECT_GT(reals[slot].weight, 0u) << scheduler_name(kind);
                EXPECT_EQ(reals[slot].state, RealState::Up) << scheduler_name(kind);
                EXPECT_TRUE(reals[slot].mac) << scheduler_name(kind);
            }
        }
    }
}

// ---- helpers -------------------------------------------------------------------------------

TEST(AddrFold, MatchesIpvsFoldForV4AndV6) {
    EXPECT_EQ(addr_fold(*net::IpAddress::parse("10.0.0.1")), 0x0a000001u);
    EXPECT_EQ(addr_fold(*net::IpAddress::parse("::1")), 1u);
    EXPECT_EQ(addr_fold(*net::IpAddress::parse("2001:db8::1:0:0:1")),
              0x20010db8u ^ 0x00000000u ^ 0x00010000u ^ 0x00000001u);
    const auto in = make_sched_input(*net::IpAddress::parse("10.0.0.1"),
                                     *net::IpAddress::parse("10.0.0.2"), 77);
    EXPECT_EQ(in.src_fold, 0x0a000001u);
    EXPECT_EQ(in.dst_fold, 0x0a000002u);
    EXPECT_EQ(in.flow_hash, 77u);
}

TEST(SchedulerName, RoundTripsEveryKind) {
    for (uint8_t k = 0; k <= static_cast<uint8_t>(SchedulerKind::Mh); ++k) {
        const auto kind = static_cast<SchedulerKind>(k);
        EXPECT_EQ(parse_scheduler_kind(scheduler_name(kind)), kind);
    }
    EXPECT_EQ(parse_scheduler_kind("lblc"), std::nullopt);
    EXPECT_EQ(parse_scheduler_kind("WRR"), std::nullopt);
}

}  // namespace
}  // namespace director::lb
