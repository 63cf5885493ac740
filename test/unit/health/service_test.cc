// SPDX-License-Identifier: BSD-3-Clause
// Real-server and virtual-server verdicts: the all-checkers rule, removal vs inhibit,
// misc_dynamic weights, quorum with hysteresis, the sorry server, notify scripts, and
// keepalived's log lines (ipwrapper.c).
#include "health/service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/addr.h"

namespace director::health {
namespace {

using Lines = std::vector<std::string>;
const std::string kVs = "[10.0.0.100]:tcp:80";

RealSpec real(int n, uint32_t weight = 1, bool inhibit = false, std::size_t checkers = 1) {
    RealSpec r;
    r.display = "[10.0.0." + std::to_string(n) + "]:tcp:80";
    r.weight = weight;
    r.inhibit = inhibit;
    r.checkers = checkers;
    return r;
}

ServiceSpec service(std::vector<RealSpec> reals, uint32_t quorum = 1, uint32_t hysteresis = 0) {
    ServiceSpec s;
    s.display = kVs;
    s.quorum = quorum;
    s.hysteresis = hysteresis;
    s.reals = std::move(reals);
    return s;
}

std::vector<std::vector<bool>> all(const ServiceSpec& s, bool up) {
    std::vector<std::vector<bool>> v;
    for (const RealSpec& r : s.reals) {
        v.emplace_back(r.checkers, up);
    }
    return v;
}

CheckerStep went(bool up) { return CheckerStep{.transition = HealthTransition::Changed, .up = up}; }

TEST(HealthService, ARealServerIsAliveOnlyIfAllItsCheckersAreUp) {
    const ServiceSpec spec = service({real(1, 1, false, 2), real(2)});
    ServiceHealth h(spec, all(spec, true));
    EXPECT_TRUE(h.start().log.empty());
    EXPECT_TRUE(h.decision().reals[0].present);

    Effects fx = h.on_checker(0, 0, went(false));
    EXPECT_EQ(fx.log, Lines{"Removing service [10.0.0.1]:tcp:80 from VS " + kVs});
    EXPECT_TRUE(fx.changed);
    EXPECT_FALSE(h.decision().reals[0].alive);
    EXPECT_FALSE(h.decision().reals[0].present);  // removed: snapshot state Down

    fx = h.on_checker(0, 1, went(false));  // second checker fails too: nothing new
    EXPECT_TRUE(fx.log.empty());
    EXPECT_FALSE(fx.changed);
    fx = h.on_checker(0, 0, went(true));  // one of two back: still dead
    EXPECT_TRUE(fx.log.empty());
    EXPECT_FALSE(h.decision().reals[0].alive);
    fx = h.on_checker(0, 1, went(true));
    EXPECT_EQ(fx.log, Lines{"Adding service [10.0.0.1]:tcp:80 to VS " + kVs});
    EXPECT_TRUE(h.decision().reals[0].present);
    EXPECT_EQ(h.decision().reals[0].weight, 1u);
}

TEST(HealthService, RealServerWithoutCheckersIsAlwaysAlive) {
    const ServiceSpec spec = service({real(1, 5, false, 0)});
    ServiceHealth h(spec, {});
    EXPECT_TRUE(h.decision().reals[0].alive);
    EXPECT_EQ(h.decision().reals[0].weight, 5u);
}

TEST(HealthService, InhibitOnFailureKeepsTheServerWithWeightZero) {
    const ServiceSpec spec = service({real(1, 7, true), real(2)});
    ServiceHealth h(spec, all(spec, true));
    Effects fx = h.on_checker(0, 0, went(false));
    EXPECT_EQ(fx.log, Lines{"Disabling service [10.0.0.1]:tcp:80 of VS " + kVs});
    EXPECT_TRUE(h.decision().reals[0].present);  // kept: existing connections continue
    EXPECT_EQ(h.decision().reals[0].weight, 0u);
    EXPECT_FALSE(h.decision().reals[0].alive);
    fx = h.on_checker(0, 0, went(true));
    EXPECT_EQ(fx.log, Lines{"Enabling service [10.0.0.1]:tcp:80 of VS " + kVs});
    EXPECT_EQ(h.decision().reals[0].weight, 7u);
}

TEST(HealthService, InhibitedServersStartInThePoolAtWeightZeroUnderAlpha) {
    const ServiceSpec spec = service({real(1, 3, true), real(2, 3, false)});
    ServiceHealth h(spec, all(spec, false));
    EXPECT_EQ(h.decision().reals[0], (RealDecision{false, true, 0}));
    EXPECT_EQ(h.decision().reals[1], (RealDecision{false, false, 0}));
}

TEST(HealthService, MiscDynamicSetsTheEffectiveWeight) {
    const ServiceSpec spec = service({real(1, 1), real(2, 1)});
    ServiceHealth h(spec, all(spec, true));
    Effects fx = h.set_weight(0, 3);
    EXPECT_EQ(fx.log, Lines{"Changing weight from 1 to 3 for active service [10.0.0.1]:tcp:80 "
                            "of VS " +
                            kVs});
    EXPECT_TRUE(fx.changed);
    EXPECT_EQ(h.decision().reals[0].weight, 3u);
    EXPECT_EQ(h.decision().live_weight, 4u);
    EXPECT_FALSE(h.set_weight(0, 3).changed);  // same weight: nothing
    h.on_checker(1, 0, went(false));
    fx = h.set_weight(1, 0);
    EXPECT_EQ(fx.log, Lines{"Changing weight from 1 to 0 for inactive service "
                            "[10.0.0.2]:tcp:80 of VS " +
                            kVs});
    EXPECT_FALSE(fx.changed);  // not in the pool: the snapshot does not change
    h.on_checker(1, 0, went(true));
    EXPECT_EQ(h.decision().reals[1], (RealDecision{true, true, 0}));  // alive, weight 0
}

TEST(HealthService, QuorumWithHysteresis) {
    ServiceSpec spec = service({real(1), real(2), real(3), real(4)}, 3, 1);
    spec.quorum_up = {"/bin/q_up", "x"};
    spec.quorum_down = {"/bin/q_down"};
    ServiceHealth h(spec, all(spec, true));
    EXPECT_TRUE(h.start().log.empty());
    EXPECT_TRUE(h.decision().quorum_up);  // 4 >= 3+1

    h.on_checker(0, 0, went(false));  // 3
    h.on_checker(1, 0, went(false));  // 2: not below 3-1
    EXPECT_TRUE(h.decision().quorum_up);
    Effects fx = h.on_checker(2, 0, went(false));  // 1 < 2: lost
    EXPECT_EQ(fx.log, (Lines{"Removing service [10.0.0.3]:tcp:80 from VS " + kVs,
                             "Lost quorum 3-1=2 > 1 for VS " + kVs}));
    ASSERT_EQ(fx.scripts.size(), 1u);
    EXPECT_EQ(fx.scripts[0], (ScriptCall{"quorum_down", {"/bin/q_down"}, kVs}));
    EXPECT_FALSE(h.decision().quorum_up);

    h.on_checker(0, 0, went(true));       // 2
    fx = h.on_checker(1, 0, went(true));  // 3: still below 3+1
    EXPECT_FALSE(h.decision().quorum_up);
    EXPECT_TRUE(fx.scripts.empty());
    fx = h.on_checker(2, 0, went(true));  // 4: gained
    EXPECT_EQ(fx.log, (Lines{"Adding service [10.0.0.3]:tcp:80 to VS " + kVs,
                             "Gained quorum 3+1=4 <= 4 for VS " + kVs}));
    ASSERT_EQ(fx.scripts.size(), 1u);
    EXPECT_EQ(fx.scripts[0].keyword, "quorum_up");
    EXPECT_EQ(fx.scripts[0].argv, (std::vector<std::string>{"/bin/q_up", "x"}));
    EXPECT_TRUE(h.decision().quorum_up);
}

TEST(HealthService, QuorumCountsWeightsNotServers) {
    const ServiceSpec spec = service({real(1, 5), real(2, 1), real(3, 1)}, 5);
    ServiceHealth h(spec, all(spec, true));
    h.on_checker(1, 0, went(false));
    h.on_checker(2, 0, went(false));
    EXPECT_TRUE(h.decision().quorum_up);  // 5 >= 5
    Effects fx = h.set_weight(0, 4);
    EXPECT_FALSE(h.decision().quorum_up);
    EXPECT_EQ(fx.log.back(), "Lost quorum 5-0=5 > 4 for VS " + kVs);
}

TEST(HealthService, SorryServerReplacesThePoolWhenQuorumIsLost) {
    ServiceSpec spec = service({real(1), real(2, 1, true)}, 2);
    spec.sorry_server = config::SorryServer{*net::IpAddress::parse("10.0.0.9"), 80};
    spec.sorry_display = "[10.0.0.9]:tcp:80";
    ServiceHealth h(spec, all(spec, true));
    EXPECT_TRUE(h.start().log.empty());
    EXPECT_FALSE(h.decision().sorry_active);

    Effects fx = h.on_checker(0, 0, went(false));
    EXPECT_EQ(fx.log, (Lines{"Removing service [10.0.0.1]:tcp:80 from VS " + kVs,
                             "Lost quorum 2-0=2 > 1 for VS " + kVs,
                             "Adding sorry server [10.0.0.9]:tcp:80 to VS " + kVs,
                             "Removing alive servers from the pool for VS " + kVs}));
    const ServiceDecision& d = h.decision();
    EXPECT_TRUE(d.sorry_active);
    ASSERT_TRUE(d.sorry_server.has_value());
    EXPECT_EQ(d.sorry_server->address.to_string(), "10.0.0.9");
    EXPECT_EQ(d.reals[0], (RealDecision{false, false, 0}));
    // Alive but out of the pool; inhibit_on_failure turns that removal into weight 0.
    EXPECT_EQ(d.reals[1], (RealDecision{true, true, 0}));

    fx = h.on_checker(0, 0, went(true));
    EXPECT_EQ(fx.log, (Lines{"Adding service [10.0.0.1]:tcp:80 to VS " + kVs,
                             "Gained quorum 2+0=2 <= 2 for VS " + kVs,
                             "Removing sorry server [10.0.0.9]:tcp:80 from VS " + kVs,
                             "Adding alive servers to the pool for VS " + kVs}));
    EXPECT_FALSE(h.decision().sorry_active);
    EXPECT_EQ(h.decision().reals[0], (RealDecision{true, true, 1}));
    EXPECT_EQ(h.decision().reals[1], (RealDecision{true, true, 1}));
}

TEST(HealthService, AlphaStartWithoutQuorumAddsTheSorryServer) {
    ServiceSpec spec = service({real(1), real(2)});
    spec.sorry_server = config::SorryServer{*net::IpAddress::parse("10.0.0.9"), 0};
    spec.sorry_display = "[10.0.0.9]:tcp:80";
    spec.quorum_down = {"/bin/down"};
    ServiceHealth h(spec, all(spec, false));
    const Effects fx = h.start();
    EXPECT_EQ(fx.log, (Lines{"Starting with quorum down 1-0=1 > 0 for VS " + kVs,
                             "Adding sorry server [10.0.0.9]:tcp:80 to VS " + kVs,
                             "Removing alive servers from the pool for VS " + kVs}));
    EXPECT_EQ(fx.scripts.size(), 1u);
    EXPECT_TRUE(h.decision().sorry_active);
    EXPECT_FALSE(h.decision().quorum_up);
}

TEST(HealthService, WithoutSorryServerQuorumOnlyDrivesScripts) {
    ServiceSpec spec = service({real(1), real(2)}, 2);
    spec.quorum_down = {"/bin/down"};
    ServiceHealth h(spec, all(spec, true));
    const Effects fx = h.on_checker(0, 0, went(false));
    EXPECT_EQ(fx.scripts.size(), 1u);
    EXPECT_FALSE(h.decision().sorry_active);
    EXPECT_EQ(h.decision().reals[1], (RealDecision{true, true, 1}));  // still serving
}

TEST(HealthService, NotifyScriptsFollowTheRealServerState) {
    RealSpec r = real(1);
    r.notify_up = {"/bin/up.sh", "rs1"};
    r.notify_down = {"/bin/down.sh"};
    const ServiceSpec spec = service({r, real(2)});
    ServiceHealth h(spec, all(spec, true));
    Effects fx = h.on_checker(0, 0, went(false));
    ASSERT_EQ(fx.scripts.size(), 1u);
    EXPECT_EQ(fx.scripts[0], (ScriptCall{"notify_down", {"/bin/down.sh"}, "[10.0.0.1]:tcp:80"}));
    fx = h.on_checker(0, 0, went(true));
    ASSERT_EQ(fx.scripts.size(), 1u);
    EXPECT_EQ(fx.scripts[0].keyword, "notify_up");
    EXPECT_EQ(fx.scripts[0].argv, (std::vector<std::string>{"/bin/up.sh", "rs1"}));
    // A failure that does not change the server (retry pending) runs nothing.
    fx = h.on_checker(0, 0, CheckerStep{.up = true});
    EXPECT_TRUE(fx.scripts.empty());
}

TEST(HealthService, AlphaFirstFailureStillNotifiesDown) {
    RealSpec r = real(1);
    r.notify_down = {"/bin/down.sh"};
    const ServiceSpec spec = service({r});
    ServiceHealth h(spec, all(spec, false));
    const Effects fx = h.on_checker(
        0, 0, CheckerStep{.up = false, .first = true, .report = CheckerReport::Failed});
    ASSERT_EQ(fx.scripts.size(), 1u);
    EXPECT_EQ(fx.scripts[0].keyword, "notify_down");
    EXPECT_TRUE(fx.log.empty());  // no pool change
}

TEST(HealthService, ReloadRestoresQuorumSorryAndDynamicWeights) {
    ServiceSpec spec = service({real(1), real(2)}, 2);
    spec.sorry_server = config::SorryServer{*net::IpAddress::parse("10.0.0.9"), 80};
    spec.sorry_display = "[10.0.0.9]:tcp:80";
    ServiceHealth h(spec, all(spec, true));
    h.set_weight(1, 4);
    h.on_checker(0, 0, went(false));
    h.on_checker(1, 0, went(false));
    const ServiceHealth::Restore saved = h.restore_state();
    EXPECT_FALSE(saved.quorum_up);
    EXPECT_TRUE(saved.sorry_active);
    ASSERT_EQ(saved.weights.size(), 2u);
    EXPECT_EQ(saved.weights[1], std::optional<uint32_t>(4));

    ServiceHealth next(spec, {{false}, {false}}, &saved);
    EXPECT_TRUE(next.start().log.empty());  // no "Starting with quorum down" again
    EXPECT_TRUE(next.decision().sorry_active);
    EXPECT_EQ(next.effective_weight(1), 4u);
}

}  // namespace
}  // namespace director::health
