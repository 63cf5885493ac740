// SPDX-License-Identifier: BSD-3-Clause
// Link state of tracked ports (keepalived track_interface, weight 0) and reloads that reconcile
// instance by instance (keepalived's reload): InstanceSet::set_port_link / reconfigure and the
// per-instance vrrp::reconfigure.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "vrrp/sync_group.h"

namespace director::vrrp {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(const char* text) { return *net::IpAddress::parse(text); }

const TimePoint T0 = TimePoint{} + 1000s;

InstanceConfig member(const char* name, uint8_t vrid, uint8_t priority = 100) {
    InstanceConfig c;
    c.name = name;
    c.interface = "lan0";
    c.version = 2;
    c.vrid = vrid;
    c.priority = priority;
    c.adver_int = 1s;
    c.vips = {ip("10.99.0.252")};
    c.src = ip("10.99.0.123");
    c.mcast_group = mcast_group_v4();
    return c;
}

config::VrrpSyncGroup group(std::vector<std::string> members, const char* name = "G1") {
    config::VrrpSyncGroup g;
    g.name = name;
    g.group = std::move(members);
    return g;
}

InstanceSet make(std::vector<InstanceConfig> cs, std::vector<config::VrrpSyncGroup> gs = {}) {
    auto set = InstanceSet::create(std::move(cs), gs);
    EXPECT_TRUE(set) << set.error().message;
    return std::move(*set);
}

/** Starts the set and lets every (ungrouped or agreeing) instance time out into MASTER. */
TimePoint start_as_master(InstanceSet& set) {
    Output out = set.start(T0);
    const TimePoint t = *out.next_deadline;
    set.on_timer(t);
    return t;
}

std::vector<Action> effects(const std::vector<Action>& actions) {
    std::vector<Action> out;
    for (const Action& a : actions) {
        if (!std::holds_alternative<Log>(a)) {
            out.push_back(a);
        }
    }
    return out;
}

bool has_state_change(const Output& out) {
    for (const InstanceOutput& io : out.instances) {
        if (io.actions.has<StateChanged>()) {
            return true;
        }
    }
    return false;
}

bool sent_priority(const std::vector<Action>& actions, uint8_t priority) {
    return std::any_of(actions.begin(), actions.end(), [&](const Action& a) {
        const auto* s = std::get_if<SendAdvert>(&a);
        return s != nullptr && s->priority == priority;
    });
}

// ---- track_ports / own interface -> FAULT ---------------------------------------------------

TEST(VrrpLink, OwnPortDownFaultsAMasterWhichSendsPriorityZeroFirst) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    ASSERT_EQ(set.state(0).state, State::Master);
    Output out = set.set_port_link("lan0", false, t + 10ms);
    EXPECT_EQ(effects(out.actions_of(0)),
              (std::vector<Action>{SendAdvert{0}, StateChanged{State::Master, State::Fault}}));
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_TRUE(set.port_down("lan0"));
    EXPECT_EQ(out.next_deadline, std::nullopt);  // FAULT runs no timer
}

TEST(VrrpLink, PortBackUpLeavesFaultForBackupWithAFreshDownTimer) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    set.set_port_link("lan0", false, t);
    Output out = set.set_port_link("lan0", true, t + 5s);
    EXPECT_EQ(effects(out.actions_of(0)),
              (std::vector<Action>{StateChanged{State::Fault, State::Backup}}));
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(out.next_deadline, t + 5s + 3609375us);
    EXPECT_FALSE(set.port_down("lan0"));
}

TEST(VrrpLink, RepeatedReportsOfTheSameStateDoNothing) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    EXPECT_TRUE(set.set_port_link("lan0", true, t).instances.empty());
    EXPECT_FALSE(set.set_port_link("lan0", false, t).instances.empty());
    EXPECT_TRUE(set.set_port_link("lan0", false, t + 100ms).instances.empty());
    EXPECT_EQ(set.state(0).state, State::Fault);
}

TEST(VrrpLink, TrackedPortFaultsOnlyTheInstancesThatTrackIt) {
    InstanceConfig a = member("VI_1", 1);
    a.track_ports = {"wan0"};
    InstanceSet set = make({a, member("VI_2", 2)});
    const TimePoint t = start_as_master(set);
    Output out = set.set_port_link("wan0", false, t);
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_EQ(set.state(1).state, State::Master);
    EXPECT_TRUE(sent_priority(out.actions_of(0), 0));
    EXPECT_TRUE(out.actions_of(1).empty());
}

TEST(VrrpLink, UntrackedPortChangesNothing) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    EXPECT_TRUE(set.set_port_link("other0", false, t).instances.empty());
    EXPECT_EQ(set.state(0).state, State::Master);
}

TEST(VrrpLink, FaultLastsUntilEveryTrackedPortIsUp) {
    InstanceConfig a = member("VI_1", 62);
    a.track_ports = {"wan0"};
    InstanceSet set = make({a});
    const TimePoint t = start_as_master(set);
    set.set_port_link("lan0", false, t);
    set.set_port_link("wan0", false, t);
    set.set_port_link("lan0", true, t + 1s);
    EXPECT_EQ(set.state(0).state, State::Fault);
    set.set_port_link("wan0", true, t + 2s);
    EXPECT_EQ(set.state(0).state, State::Backup);
}

TEST(VrrpLink, PortDownBeforeStartStartsInFault) {
    InstanceSet set = make({member("VI_1", 62)});
    set.set_port_link("lan0", false, T0);
    Output out = set.start(T0);
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_EQ(effects(out.actions_of(0)),
              (std::vector<Action>{StateChanged{State::Init, State::Fault}}));
}

TEST(VrrpLink, OwnerComesBackAsMasterAtOnce) {
    InstanceSet set = make({member("VI_1", 62, 255)});
    set.start(T0);
    ASSERT_EQ(set.state(0).state, State::Master);
    set.set_port_link("lan0", false, T0 + 1s);
    Output out = set.set_port_link("lan0", true, T0 + 2s);
    EXPECT_EQ(set.state(0).state, State::Master);
    EXPECT_TRUE(sent_priority(out.actions_of(0), 255));
}

TEST(VrrpLink, SyncGroupFollowsATrackedPortFaultAndRecoversTogether) {
    InstanceConfig a = member("VI_1", 1);
    a.track_ports = {"wan0"};
    InstanceSet set = make({a, member("VI_2", 2), member("VI_3", 3)}, {group({"VI_1", "VI_2"})});
    const TimePoint t = start_as_master(set);
    ASSERT_EQ(set.state(0).state, State::Master);
    ASSERT_EQ(set.state(1).state, State::Master);
    Output out = set.set_port_link("wan0", false, t);
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_EQ(set.state(1).state, State::Fault);
    EXPECT_EQ(set.state(2).state, State::Master);  // not in the group
    EXPECT_TRUE(sent_priority(out.actions_of(0), 0));
    EXPECT_TRUE(sent_priority(out.actions_of(1), 0));
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Master, State::Fault}}));
    out = set.set_port_link("wan0", true, t + 1s);
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.state(1).state, State::Backup);
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Fault, State::Backup}}));
}

// ---- reconfigure: kept instances --------------------------------------------------------------

TEST(VrrpReconfigure, UnchangedMasterStaysMasterSilently) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    const InstanceState before = set.state(0);
    auto r = set.reconfigure({member("VI_1", 62)}, {}, t + 300ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->removed.empty());
    EXPECT_TRUE(r->output.instances.empty());
    EXPECT_TRUE(r->vip_changes.empty());
    EXPECT_EQ(r->previous, (std::vector<std::optional<std::size_t>>{0}));
    EXPECT_EQ(set.state(0), before);  // same timers: the advert rhythm goes on
    EXPECT_TRUE(r->output.groups.empty());
}

TEST(VrrpReconfigure, MasterWithANewPriorityAdvertisesItAtOnceWithoutFlapping) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    auto r = set.reconfigure({member("VI_1", 62, 150)}, {}, t + 300ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(effects(r->output.actions_of(0)), (std::vector<Action>{SendAdvert{150}}));
    EXPECT_FALSE(has_state_change(r->output));
    EXPECT_EQ(set.state(0).state, State::Master);
    EXPECT_EQ(set.state(0).effective_priority, 150);
    EXPECT_EQ(set.state(0).timers.advert, t + 1300ms);
    EXPECT_EQ(set.config(0).priority, 150);
}

TEST(VrrpReconfigure, MasterWithChangedVipsReportsThemAndAdvertisesTheNewSet) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    InstanceConfig next = member("VI_1", 62);
    next.vips = {ip("10.99.0.253"), ip("10.99.0.254")};
    auto r = set.reconfigure({next}, {}, t + 1ms);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->vip_changes.size(), 1u);
    EXPECT_EQ(r->vip_changes[0].instance, 0u);
    EXPECT_EQ(r->vip_changes[0].added,
              (std::vector<net::IpAddress>{ip("10.99.0.253"), ip("10.99.0.254")}));
    EXPECT_EQ(r->vip_changes[0].removed, (std::vector<net::IpAddress>{ip("10.99.0.252")}));
    EXPECT_TRUE(sent_priority(r->output.actions_of(0), 100));
    EXPECT_EQ(set.state(0).state, State::Master);
    EXPECT_EQ(set.config(0).vips, next.vips);
}

TEST(VrrpReconfigure, MasterKeepsItsGarpTimersUnlessTheyAreSwitchedOff) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    ASSERT_EQ(set.state(0).timers.garp_delay, t + 5s);
    InstanceConfig next = member("VI_1", 62);
    next.garp_master_refresh = 60s;
    ASSERT_TRUE(set.reconfigure({next}, {}, t + 1s));
    EXPECT_EQ(set.state(0).timers.garp_delay, t + 5s);
    EXPECT_EQ(set.state(0).timers.garp_refresh, t + 61s);
    next.garp_master_delay = 0s;
    next.garp_master_refresh = 0s;
    ASSERT_TRUE(set.reconfigure({next}, {}, t + 2s));
    EXPECT_EQ(set.state(0).timers.garp_delay, std::nullopt);
    EXPECT_EQ(set.state(0).timers.garp_refresh, std::nullopt);
}

TEST(VrrpReconfigure, MasterWithAShorterIntervalAdvertisesOnTheNewRhythm) {
    InstanceConfig c = member("VI_1", 62);
    c.version = 3;
    c.adver_int = 1s;
    InstanceSet set = make({c});
    const TimePoint t = start_as_master(set);
    c.adver_int = 100ms;
    auto r = set.reconfigure({c}, {}, t + 500ms);
    ASSERT_TRUE(r);
    EXPECT_TRUE(sent_priority(r->output.actions_of(0), 100));
    EXPECT_EQ(set.state(0).timers.advert, t + 600ms);
    EXPECT_EQ(set.state(0).master_adver_int, 100ms);
}

TEST(VrrpReconfigure, BackupKeepsListeningAndItsDownTimerNeverMovesLater) {
    InstanceSet set = make({member("VI_1", 62)});
    set.start(T0);
    AdvertReceived adv;
    adv.advert.version = 2;
    adv.advert.vrid = 62;
    adv.advert.priority = 200;
    adv.advert.adver_int = 1s;
    adv.advert.addresses = {ip("10.99.0.252")};
    adv.src = ip("10.99.0.120");
    set.handle(0, adv, T0 + 1s);
    ASSERT_EQ(set.state(0).timers.master_down, T0 + 1s + 3609375us);
    // Priority 100 -> 50: the new Master_Down_Interval (3.804 s from now) is later; keep ours.
    auto r = set.reconfigure({member("VI_1", 62, 50)}, {}, T0 + 1500ms);
    ASSERT_TRUE(r);
    EXPECT_FALSE(has_state_change(r->output));
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.state(0).timers.master_down, T0 + 1s + 3609375us);
    EXPECT_EQ(set.state(0).master_addr, ip("10.99.0.120"));
    // The master's next advert re-arms with the new priority's skew.
    set.handle(0, adv, T0 + 2s);
    EXPECT_EQ(set.state(0).timers.master_down, T0 + 2s + 3s + 804687us);
}

TEST(VrrpReconfigure, V3BackupKeepsTheIntervalLearnedFromItsMaster) {
    InstanceConfig c = member("VI_1", 62);
    c.version = 3;
    c.adver_int = 100ms;
    InstanceSet set = make({c});
    set.start(T0);
    AdvertReceived adv;
    adv.advert.version = 3;
    adv.advert.vrid = 62;
    adv.advert.priority = 200;
    adv.advert.adver_int = 1s;
    adv.advert.addresses = {ip("10.99.0.252")};
    adv.src = ip("10.99.0.120");
    set.handle(0, adv, T0 + 10ms);
    ASSERT_EQ(set.state(0).master_adver_int, 1s);
    c.adver_int = 200ms;
    ASSERT_TRUE(set.reconfigure({c}, {}, T0 + 20ms));
    EXPECT_EQ(set.state(0).master_adver_int, 1s);
    EXPECT_EQ(set.state(0).state, State::Backup);
}

TEST(VrrpReconfigure, BackupThatBecomesAddressOwnerTakesOverAtOnce) {
    InstanceSet set = make({member("VI_1", 62)});
    set.start(T0);
    auto r = set.reconfigure({member("VI_1", 62, 255)}, {}, T0 + 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->output.next_deadline, T0 + 1s);
    set.on_timer(T0 + 1s);
    EXPECT_EQ(set.state(0).state, State::Master);
}

// ---- reconfigure: removed, added, re-indexed ----------------------------------------------------

TEST(VrrpReconfigure, RemovedMasterShutsDownWithPriorityZero) {
    InstanceSet set = make({member("VI_1", 1), member("VI_2", 2)});
    const TimePoint t = start_as_master(set);
    auto r = set.reconfigure({member("VI_2", 2)}, {}, t + 1ms);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->removed.size(), 1u);
    EXPECT_EQ(r->removed[0].previous, 0u);
    EXPECT_EQ(r->removed[0].config.name, "VI_1");
    EXPECT_EQ(effects(r->removed[0].actions.list),
              (std::vector<Action>{SendAdvert{0}, StateChanged{State::Master, State::Init}}));
    ASSERT_EQ(set.size(), 1u);
    EXPECT_EQ(set.config(0).name, "VI_2");
    EXPECT_EQ(set.state(0).state, State::Master);  // re-indexed, untouched
    EXPECT_EQ(r->previous, (std::vector<std::optional<std::size_t>>{1}));
    EXPECT_FALSE(has_state_change(r->output));
}

TEST(VrrpReconfigure, NewInstanceStartsInBackup) {
    InstanceSet set = make({member("VI_1", 1)});
    const TimePoint t = start_as_master(set);
    auto r = set.reconfigure({member("VI_0", 9), member("VI_1", 1)}, {}, t + 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->previous, (std::vector<std::optional<std::size_t>>{std::nullopt, 0}));
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.state(0).timers.master_down, t + 1s + 3609375us);
    EXPECT_EQ(set.state(1).state, State::Master);
    EXPECT_EQ(effects(r->output.actions_of(0)),
              (std::vector<Action>{StateChanged{State::Init, State::Backup}}));
    EXPECT_TRUE(r->output.actions_of(1).empty());
}

TEST(VrrpReconfigure, BeforeStartNewInstancesWaitForStart) {
    InstanceSet set = make({member("VI_1", 1)});
    auto r = set.reconfigure({member("VI_1", 1), member("VI_2", 2)}, {}, T0);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->output.instances.empty());
    EXPECT_EQ(set.state(1).state, State::Init);
    set.start(T0);
    EXPECT_EQ(set.state(1).state, State::Backup);
}

TEST(VrrpReconfigure, ChangedIdentityIsARemovalAndAnAddition) {
    InstanceSet set = make({member("VI_1", 1)});
    const TimePoint t = start_as_master(set);
    auto r = set.reconfigure({member("VI_1", 7)}, {}, t + 1s);  // new VRID
    ASSERT_TRUE(r);
    ASSERT_EQ(r->removed.size(), 1u);
    EXPECT_TRUE(sent_priority(r->removed[0].actions.list, 0));
    EXPECT_EQ(r->previous, (std::vector<std::optional<std::size_t>>{std::nullopt}));
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.config(0).vrid, 7);
}

TEST(VrrpReconfigure, AnInvalidSetChangesNothing) {
    InstanceSet set = make({member("VI_1", 1)});
    const TimePoint t = start_as_master(set);
    const InstanceState before = set.state(0);
    // Two instances sharing VRID 1 on lan0.
    auto r = set.reconfigure({member("VI_1", 1, 50), member("VI_2", 1)}, {}, t + 1s);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("share virtual_router_id 1"), std::string::npos)
        << r.error().message;
    ASSERT_EQ(set.size(), 1u);
    EXPECT_EQ(set.state(0), before);
    EXPECT_EQ(set.config(0).priority, 100);
    auto g = set.reconfigure({member("VI_1", 1)}, std::vector{group({"VI_9"})}, t + 1s);
    EXPECT_FALSE(g);
    EXPECT_EQ(set.group_count(), 0u);
}

// ---- reconfigure: track_ports and sync groups ---------------------------------------------------

TEST(VrrpReconfigure, NewlyTrackedDownPortFaultsTheMasterAndDroppingItRecovers) {
    InstanceSet set = make({member("VI_1", 62)});
    const TimePoint t = start_as_master(set);
    set.set_port_link("wan0", false, t);  // not tracked yet
    ASSERT_EQ(set.state(0).state, State::Master);
    InstanceConfig next = member("VI_1", 62);
    next.track_ports = {"wan0"};
    auto r = set.reconfigure({next}, {}, t + 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_EQ(effects(r->output.actions_of(0)),
              (std::vector<Action>{SendAdvert{0}, StateChanged{State::Master, State::Fault}}));
    r = set.reconfigure({member("VI_1", 62)}, {}, t + 2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(set.state(0).state, State::Backup);
}

TEST(VrrpReconfigure, NewInstanceOnADownPortStartsInFault) {
    InstanceSet set = make({member("VI_1", 1)});
    set.start(T0);
    InstanceConfig b = member("VI_2", 2);
    b.interface = "lan1";
    set.set_port_link("lan1", false, T0);
    auto r = set.reconfigure({member("VI_1", 1), b}, {}, T0 + 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(set.state(1).state, State::Fault);
}

TEST(VrrpReconfigure, JoiningAGroupInFaultFaultsTheNewMember) {
    InstanceConfig a = member("VI_1", 1);
    a.track_ports = {"wan0"};
    InstanceSet set = make({a, member("VI_2", 2), member("VI_3", 3)}, {group({"VI_1", "VI_2"})});
    const TimePoint t = start_as_master(set);
    set.set_port_link("wan0", false, t);
    ASSERT_EQ(set.state(2).state, State::Master);
    auto r = set.reconfigure({a, member("VI_2", 2), member("VI_3", 3)},
                             std::vector{group({"VI_1", "VI_2", "VI_3"})}, t + 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(set.state(2).state, State::Fault);
    EXPECT_TRUE(sent_priority(r->output.actions_of(2), 0));
    EXPECT_EQ(set.config(2).sync_group, "G1");
    EXPECT_TRUE(r->output.groups.empty());  // G1 was and is FAULT: no group notify
}

TEST(VrrpReconfigure, LeavingAFaultedGroupClearsTheSiblingFault) {
    InstanceConfig a = member("VI_1", 1);
    a.track_ports = {"wan0"};
    InstanceSet set = make({a, member("VI_2", 2)}, {group({"VI_1", "VI_2"})});
    const TimePoint t = start_as_master(set);
    set.set_port_link("wan0", false, t);
    ASSERT_EQ(set.state(1).state, State::Fault);
    auto r = set.reconfigure({a, member("VI_2", 2)}, {}, t + 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(set.state(0).state, State::Fault);   // its own port is still down
    EXPECT_EQ(set.state(1).state, State::Backup);  // no longer follows VI_1
    EXPECT_EQ(set.group_count(), 0u);
}

TEST(VrrpReconfigure, UnchangedGroupKeepsItsStateWithoutNotify) {
    InstanceSet set = make({member("VI_1", 1), member("VI_2", 2)}, {group({"VI_1", "VI_2"})});
    const TimePoint t = start_as_master(set);
    ASSERT_EQ(set.group_state(0), State::Master);
    auto r = set.reconfigure({member("VI_2", 2), member("VI_1", 1, 120)},
                             std::vector{group({"VI_2", "VI_1"})}, t + 1s);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->output.groups.empty());
    EXPECT_EQ(set.group_state(0), State::Master);
    EXPECT_EQ(set.state(0).state, State::Master);
    EXPECT_EQ(set.state(1).state, State::Master);
    EXPECT_EQ(set.config(1).priority, 120);
}

TEST(VrrpReconfigure, LinkStateSurvivesAReload) {
    InstanceSet set = make({member("VI_1", 1)});
    const TimePoint t = start_as_master(set);
    set.set_port_link("lan0", false, t);
    ASSERT_TRUE(set.reconfigure({member("VI_1", 1, 150)}, {}, t + 1s));
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_TRUE(set.port_down("lan0"));
    set.set_port_link("lan0", true, t + 2s);
    EXPECT_EQ(set.state(0).state, State::Backup);
}

}  // namespace
}  // namespace director::vrrp
