// SPDX-License-Identifier: BSD-3-Clause
// Neighbour table timelines on a fake clock: resolution with retries and back-off, learning,
// refresh before expiry (unicast, then broadcast), a dead neighbour's MAC withdrawn with a
// version bump, static entries, and the rate limit on workers' resolution hints.
#include "neigh/neigh_table.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fixtures/packet_builder.h"
#include "neigh/nd.h"
#include "net/parse.h"

namespace director::neigh {

inline void PrintTo(LearnResult r, std::ostream* os) {
    static constexpr const char* kNames[] = {"NotWanted", "Static",   "Invalid",
                                             "Confirmed", "Resolved", "Changed"};
    *os << kNames[static_cast<int>(r)];
}
inline void PrintTo(State s, std::ostream* os) { *os << to_string(s); }

namespace {

using test::ip;
using test::mac;

constexpr uint16_t kPort = 0;
const net::IpAddress kRs = ip("10.99.0.142");
const net::IpAddress kRs2 = ip("10.99.0.173");
const net::IpAddress kRs6 = ip("fd00:99::142");
const net::MacAddress kRsMac = mac("02:00:00:00:01:42");
const net::MacAddress kNewMac = mac("02:00:00:00:01:43");

// The fake clock: seconds since an arbitrary epoch, at millisecond precision.
TimePoint at(double seconds) {
    return TimePoint{} + std::chrono::hours(1) +
           std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

std::unique_ptr<NeighbourTable> make_table(const TableConfig& config = {}) {
    auto r = NeighbourTable::create(config);
    EXPECT_TRUE(r.has_value());
    return std::move(r).value();
}

struct Sent {
    double t;
    bool unicast;
};

// Polls every 100 ms over [from, to) and records every probe for `ip`.
std::vector<Sent> run(NeighbourTable& table, double from, double to,
                      const net::IpAddress& target = kRs) {
    std::vector<Sent> sent;
    for (int64_t ms = std::llround(from * 1000); ms < std::llround(to * 1000); ms += 100) {
        const double t = static_cast<double>(ms) / 1000;
        for (const Probe& p : table.poll(at(t))) {
            if (p.target == target) {
                sent.push_back({t, p.unicast_to.has_value()});
            }
        }
    }
    return sent;
}

std::vector<double> times(const std::vector<Sent>& sent) {
    std::vector<double> out;
    for (const Sent& s : sent) {
        out.push_back(s.t);
    }
    return out;
}

TEST(NeighbourTable, ResolutionRetriesThreeTimesASecondApartThenEveryFiveSeconds) {
    auto table = make_table();
    EXPECT_TRUE(table->want(kPort, kRs, at(0)));
    EXPECT_FALSE(table->want(kPort, kRs, at(0)));  // idempotent
    const std::vector<Sent> sent = run(*table, 0, 30);
    EXPECT_EQ(times(sent), (std::vector<double>{0, 1, 2, 7, 12, 17, 22, 27}));
    for (const Sent& s : sent) {
        EXPECT_FALSE(s.unicast);
    }
    EXPECT_EQ(table->state(kPort, kRs), State::Incomplete);
    EXPECT_FALSE(table->lookup(kPort, kRs));
    EXPECT_EQ(table->version(), 0u);
    EXPECT_EQ(table->counters().probes_broadcast, 8u);
}

TEST(NeighbourTable, LearningResolvesPublishesAndBumpsVersion) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    run(*table, 0, 1.5);
    EXPECT_EQ(table->on_learn(kPort, kRs, kRsMac, at(1.5)), LearnResult::Resolved);
    EXPECT_EQ(table->state(kPort, kRs), State::Reachable);
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
    EXPECT_EQ(table->version(), 1u);
    EXPECT_EQ(table->resolved(), (std::vector<Resolved>{{kPort, kRs, kRsMac}}));
    // Reachable: quiet until the refresh at 80 % of 60 s.
    EXPECT_TRUE(run(*table, 1.5, 49.5).empty());
    EXPECT_EQ(table->counters().resolved, 1u);
}

TEST(NeighbourTable, RefreshStartsAt80PercentUnicastThenBroadcastWhileTheMacStaysPublished) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    const std::vector<Sent> sent = run(*table, 0, 54);
    EXPECT_EQ(times(sent), (std::vector<double>{48, 49, 50, 51, 52, 53}));
    ASSERT_EQ(sent.size(), 6u);
    EXPECT_TRUE(sent[0].unicast && sent[1].unicast && sent[2].unicast);
    EXPECT_FALSE(sent[3].unicast || sent[4].unicast || sent[5].unicast);
    EXPECT_EQ(table->state(kPort, kRs), State::Probe);
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
    EXPECT_EQ(table->version(), 1u);
}

TEST(NeighbourTable, UnicastRefreshProbeGoesToTheKnownMac) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    const std::vector<Probe> probes = table->poll(at(48));
    ASSERT_EQ(probes.size(), 1u);
    EXPECT_EQ(probes[0], (Probe{.port = kPort, .target = kRs, .unicast_to = kRsMac}));
    EXPECT_EQ(table->state(kPort, kRs), State::Stale);
}

TEST(NeighbourTable, AnsweredRefreshKeepsTheMacAndRestartsTheTimer) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    ASSERT_EQ(run(*table, 0, 48.5).size(), 1u);  // the first unicast probe, at 48
    EXPECT_EQ(table->on_learn(kPort, kRs, kRsMac, at(48.5)), LearnResult::Confirmed);
    EXPECT_EQ(table->state(kPort, kRs), State::Reachable);
    EXPECT_EQ(table->version(), 1u);
    EXPECT_EQ(table->next_deadline(), at(96.5));
    EXPECT_EQ(times(run(*table, 48.5, 97)), (std::vector<double>{96.5}));
    EXPECT_EQ(table->counters().confirmed, 1u);
}

TEST(NeighbourTable, DeadNeighbourBecomesUnknownAndVersionBumps) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    run(*table, 0, 54);
    const uint64_t before = table->version();
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
    // One retrans_interval after the last broadcast probe (53 s), nobody has answered.
    EXPECT_TRUE(table->poll(at(54)).empty());
    EXPECT_FALSE(table->lookup(kPort, kRs));
    EXPECT_EQ(table->state(kPort, kRs), State::Incomplete);
    EXPECT_EQ(table->version(), before + 1);
    EXPECT_TRUE(table->resolved().empty());
    EXPECT_EQ(table->counters().expired, 1u);
    // Still wanted: resolution goes on in the slow phase, 5 s after the last probe.
    EXPECT_EQ(times(run(*table, 54.1, 70)), (std::vector<double>{58, 63, 68}));
    // The server comes back.
    EXPECT_EQ(table->on_learn(kPort, kRs, kRsMac, at(70)), LearnResult::Resolved);
    EXPECT_EQ(table->version(), before + 2);
}

TEST(NeighbourTable, AMacIsNeverPublishedLongerThanReachableTimeWithoutAnAnswer) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    run(*table, 0, 60.1);
    EXPECT_FALSE(table->lookup(kPort, kRs));
}

TEST(NeighbourTable, AChangedMacIsPublishedAtOnce) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    EXPECT_EQ(table->on_learn(kPort, kRs, kNewMac, at(10)), LearnResult::Changed);
    EXPECT_EQ(table->lookup(kPort, kRs), kNewMac);
    EXPECT_EQ(table->version(), 2u);
    EXPECT_EQ(table->counters().mac_changed, 1u);
}

TEST(NeighbourTable, ALongPollGapStillWalksTheStatesInOrder) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    // The control loop stalls for 100 s: the next poll sends the first refresh probe rather
    // than withdrawing the MAC without ever asking.
    const std::vector<Probe> probes = table->poll(at(100));
    ASSERT_EQ(probes.size(), 1u);
    EXPECT_TRUE(probes[0].unicast_to);
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
}

TEST(NeighbourTable, StaticEntriesAreNeverProbedNorOverwritten) {
    auto table = make_table();
    EXPECT_TRUE(table->want_static(kPort, kRs, kRsMac));
    EXPECT_EQ(table->version(), 1u);
    EXPECT_EQ(table->state(kPort, kRs), State::Static);
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
    EXPECT_FALSE(table->next_deadline());
    EXPECT_TRUE(run(*table, 0, 1000).empty());
    EXPECT_EQ(table->on_learn(kPort, kRs, kNewMac, at(5)), LearnResult::Static);
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
    EXPECT_FALSE(table->request(kPort, kRs, at(5)));
    EXPECT_EQ(table->counters().probes_broadcast + table->counters().probes_unicast, 0u);
    // Same MAC again: nothing to republish. Another MAC: republish.
    EXPECT_TRUE(table->want_static(kPort, kRs, kRsMac));
    EXPECT_EQ(table->version(), 1u);
    EXPECT_TRUE(table->want_static(kPort, kRs, kNewMac));
    EXPECT_EQ(table->version(), 2u);
    EXPECT_FALSE(table->want_static(kPort, kRs, mac("ff:ff:ff:ff:ff:ff")));
    EXPECT_FALSE(table->want_static(kPort, kRs, mac("00:00:00:00:00:00")));
}

TEST(NeighbourTable, StaticEntryOverridesADynamicOne) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    table->want_static(kPort, kRs, kRsMac);
    EXPECT_EQ(table->version(), 1u);  // same MAC: no change published
    EXPECT_TRUE(run(*table, 0, 200).empty());
}

TEST(NeighbourTable, WantingAStaticEntryMakesItDynamicAndVerifiesItNow) {
    auto table = make_table();
    table->want_static(kPort, kRs, kRsMac);
    EXPECT_TRUE(table->want(kPort, kRs, at(0)));
    EXPECT_EQ(table->state(kPort, kRs), State::Stale);
    EXPECT_EQ(table->lookup(kPort, kRs), kRsMac);
    const std::vector<Probe> probes = table->poll(at(0));
    ASSERT_EQ(probes.size(), 1u);
    EXPECT_EQ(probes[0].unicast_to, kRsMac);
}

TEST(NeighbourTable, RequestIsRateLimitedToOneProbePerEntryPerSecond) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    ASSERT_EQ(table->poll(at(0)).size(), 1u);
    EXPECT_FALSE(table->request(kPort, kRs, at(0.5)));
    EXPECT_FALSE(table->request(kPort, kRs, at(0.9)));
    const std::optional<Probe> p = table->request(kPort, kRs, at(1.0));
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, (Probe{.port = kPort, .target = kRs, .unicast_to = std::nullopt}));
    // Many workers asking within the next second get nothing more, and the timer-driven
    // probe does not double up either.
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(table->request(kPort, kRs, at(1.0 + i * 0.009)));
    }
    EXPECT_TRUE(table->poll(at(1.5)).empty());
    EXPECT_EQ(table->counters().requests, 1u);
    EXPECT_EQ(table->counters().requests_rate_limited, 102u);
}

TEST(NeighbourTable, RequestShortensTheSlowBackOff) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    run(*table, 0, 8);  // probes at 0, 1, 2, 7; the next is due at 12
    EXPECT_TRUE(table->request(kPort, kRs, at(9)));
    EXPECT_EQ(times(run(*table, 9, 20)), (std::vector<double>{14, 19}));
}

TEST(NeighbourTable, RequestNeverCreatesEntriesNorProbesResolvedOnes) {
    auto table = make_table();
    EXPECT_FALSE(table->request(kPort, kRs, at(0)));
    EXPECT_EQ(table->size(), 0u);
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    EXPECT_FALSE(table->request(kPort, kRs, at(5)));
    EXPECT_EQ(table->counters().requests_ignored, 2u);
}

TEST(NeighbourTable, BindingsForUnwantedAddressesAreIgnored) {
    auto table = make_table();
    EXPECT_EQ(table->on_learn(kPort, kRs, kRsMac, at(0)), LearnResult::NotWanted);
    EXPECT_EQ(table->size(), 0u);
    EXPECT_EQ(table->version(), 0u);
    table->want(1, kRs, at(0));  // wanted on port 1 only
    EXPECT_EQ(table->on_learn(kPort, kRs, kRsMac, at(0)), LearnResult::NotWanted);
    EXPECT_FALSE(table->lookup(1, kRs));
    EXPECT_EQ(table->on_learn(1, kRs, mac("01:00:5e:00:00:12"), at(0)), LearnResult::Invalid);
    EXPECT_EQ(table->counters().learn_not_wanted, 2u);
    EXPECT_EQ(table->counters().learn_invalid, 1u);
}

TEST(NeighbourTable, ForgetWithdrawsThePublishedMac) {
    auto table = make_table();
    table->want(kPort, kRs, at(0));
    table->want(kPort, kRs2, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    EXPECT_TRUE(table->forget(kPort, kRs2));  // never resolved: nothing to republish
    EXPECT_EQ(table->version(), 1u);
    EXPECT_TRUE(table->forget(kPort, kRs));
    EXPECT_EQ(table->version(), 2u);
    EXPECT_FALSE(table->forget(kPort, kRs));
    EXPECT_EQ(table->size(), 0u);
    EXPECT_FALSE(table->next_deadline());
}

TEST(NeighbourTable, ResolvedListsPublishedBindingsInPortAddressOrder) {
    auto table = make_table();
    table->want(1, kRs, at(0));
    table->want(kPort, kRs2, at(0));
    table->want(kPort, kRs, at(0));
    table->want(kPort, kRs6, at(0));
    table->want_static(kPort, ip("10.99.0.150"), kNewMac);
    table->on_learn(1, kRs, kRsMac, at(0));
    table->on_learn(kPort, kRs2, kNewMac, at(0));
    EXPECT_EQ(table->resolved(),
              (std::vector<Resolved>{
                  {kPort, ip("10.99.0.150"), kNewMac}, {kPort, kRs2, kNewMac}, {1, kRs, kRsMac}}));
}

TEST(NeighbourTable, NextDeadlineIsTheEarliestTimer) {
    auto table = make_table();
    EXPECT_FALSE(table->next_deadline());
    table->want(kPort, kRs, at(0));
    EXPECT_EQ(table->next_deadline(), at(0));
    table->poll(at(0));
    EXPECT_EQ(table->next_deadline(), at(1));
    table->on_learn(kPort, kRs, kRsMac, at(0.5));
    EXPECT_EQ(table->next_deadline(), at(48.5));
    table->want(kPort, kRs2, at(10));
    EXPECT_EQ(table->next_deadline(), at(10));
}

TEST(NeighbourTable, Ipv6EntriesProbeWithNeighbourSolicitations) {
    auto table = make_table();
    table->want(kPort, kRs6, at(0));
    const std::vector<Probe> probes = table->poll(at(0));
    ASSERT_EQ(probes.size(), 1u);
    std::array<uint8_t, kMaxFrameLen> buf{};
    const Link link{.mac = mac("02:00:00:00:01:20")};
    const uint32_t len = build_probe(buf, link, ip("fd00:99::120"), probes[0]);
    ASSERT_EQ(len, kNdFrameLen);
    net::ParsedPacket p;
    ASSERT_EQ(net::parse_frame(buf.data(), len, p), net::Verdict::Ok);
    NdPacket ns;
    ASSERT_EQ(parse_nd(std::span<const uint8_t>(buf.data(), len), p, ns), NdError::None);
    EXPECT_TRUE(ns.is_ns());
    EXPECT_EQ(ns.target, kRs6);
    EXPECT_EQ(ns.dst, solicited_node(kRs6));
    // A unicast refresh goes to the target itself at its cached MAC.
    const Probe refresh{.port = kPort, .target = kRs6, .unicast_to = kRsMac};
    ASSERT_EQ(build_probe(buf, link, ip("fd00:99::120"), refresh), kNdFrameLen);
    ASSERT_EQ(net::parse_frame(buf.data(), kNdFrameLen, p), net::Verdict::Ok);
    ASSERT_EQ(parse_nd(std::span<const uint8_t>(buf.data(), kNdFrameLen), p, ns), NdError::None);
    EXPECT_EQ(ns.dst, kRs6);
    EXPECT_EQ(ns.eth_dst, kRsMac);
    // No IPv4 source for an IPv6 probe.
    EXPECT_EQ(build_probe(buf, link, ip("10.99.0.120"), refresh), 0u);
}

TEST(NeighbourTable, ConfigIsValidated) {
    EXPECT_TRUE(validate(TableConfig{}).has_value());
    TableConfig c;
    c.refresh_percent = 95;  // 57 s + 6 probes * 1 s > 60 s
    ASSERT_FALSE(validate(c).has_value());
    EXPECT_NE(validate(c).error().message.find("reachable_time"), std::string::npos);
    EXPECT_FALSE(NeighbourTable::create(c).has_value());
    c = TableConfig{};
    c.retrans_interval = Duration{0};
    EXPECT_FALSE(validate(c).has_value());
    c = TableConfig{};
    c.unicast_probes = 0;
    c.broadcast_probes = 0;
    EXPECT_FALSE(validate(c).has_value());
    c = TableConfig{};
    c.resolve_slow_interval = std::chrono::milliseconds(500);
    EXPECT_FALSE(validate(c).has_value());
    c = TableConfig{};
    c.refresh_percent = 0;
    EXPECT_FALSE(validate(c).has_value());
    // Only unicast refresh probes: the MAC goes after them.
    c = TableConfig{};
    c.broadcast_probes = 0;
    ASSERT_TRUE(validate(c).has_value());
    auto table = make_table(c);
    table->want(kPort, kRs, at(0));
    table->on_learn(kPort, kRs, kRsMac, at(0));
    EXPECT_EQ(times(run(*table, 0, 51.5)), (std::vector<double>{48, 49, 50}));
    EXPECT_FALSE(table->lookup(kPort, kRs));
}

TEST(NeighbourTable, CounterCatalogueNamesEveryField) {
    std::set<std::string> names;
    TableCounters c;
    c.expired = 5;
    uint64_t sum = 0;
    for (const TableCounterInfo& info : kTableCounterInfo) {
        EXPECT_TRUE(names.insert(info.name).second) << info.name;
        EXPECT_STRNE(info.help, "");
        sum += c.*(info.field);
    }
    EXPECT_EQ(sum, 5u);
    EXPECT_EQ(names.size() * sizeof(uint64_t), sizeof(TableCounters));
}

TEST(NeighbourTable, StateNames) {
    EXPECT_STREQ(to_string(State::Incomplete), "Incomplete");
    EXPECT_STREQ(to_string(State::Static), "Static");
    EXPECT_STREQ(to_string(static_cast<State>(99)), "Invalid");
}

}  // namespace
}  // namespace director::neigh
