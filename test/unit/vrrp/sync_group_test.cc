// SPDX-License-Identifier: BSD-3-Clause
// Sync groups (keepalived.md §1.3, vrrp_sync.c): members move together.
#include "vrrp/sync_group.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

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

config::VrrpSyncGroup group(std::vector<std::string> members) {
    config::VrrpSyncGroup g;
    g.name = "G1";
    g.group = std::move(members);
    g.notify = "/bin/group.sh";
    return g;
}

/** VI_1 and VI_2 in G1, VI_3 alone. */
InstanceSet three() {
    std::vector<InstanceConfig> cs = {member("VI_1", 1), member("VI_2", 2), member("VI_3", 3)};
    const std::vector<config::VrrpSyncGroup> gs = {group({"VI_1", "VI_2"})};
    auto set = InstanceSet::create(std::move(cs), gs);
    EXPECT_TRUE(set) << set.error().message;
    return std::move(*set);
}

AdvertReceived advert(uint8_t vrid, uint8_t priority, const char* from = "10.99.0.120") {
    AdvertReceived e;
    e.advert.version = 2;
    e.advert.vrid = vrid;
    e.advert.priority = priority;
    e.advert.addresses = {ip("10.99.0.252")};
    e.src = ip(from);
    return e;
}

std::size_t count_state_changes(const Output& out, std::size_t i, State to) {
    std::size_t n = 0;
    for (const Action& a : out.actions_of(i)) {
        if (const auto* sc = std::get_if<StateChanged>(&a); sc && sc->to == to) {
            ++n;
        }
    }
    return n;
}

bool sent(const Output& out, std::size_t i, uint8_t priority) {
    for (const Action& a : out.actions_of(i)) {
        if (const auto* s = std::get_if<SendAdvert>(&a); s && s->priority == priority) {
            return true;
        }
    }
    return false;
}

/** Both members of G1 MASTER, via their down timers. */
InstanceSet all_master(TimePoint& when) {
    InstanceSet set = three();
    Output out = set.start(T0);
    when = *out.next_deadline;
    out = set.on_timer(when);
    EXPECT_EQ(set.state(0).state, State::Master);
    EXPECT_EQ(set.state(1).state, State::Master);
    return set;
}

TEST(VrrpSyncGroup, StartPutsMembersInBackupAndTheGroupInBackup) {
    InstanceSet set = three();
    Output out = set.start(T0);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(set.state(i).state, State::Backup);
    }
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Init, State::Backup}}));
    EXPECT_EQ(out.next_deadline, T0 + 3609375us);
    EXPECT_EQ(set.group_of(0), 0u);
    EXPECT_EQ(set.group_of(2), std::nullopt);
    EXPECT_EQ(set.config(0).sync_group, "G1");
}

TEST(VrrpSyncGroup, MemberWaitsInBackupUntilEveryMemberWantsMaster) {
    InstanceSet set = three();
    set.start(T0);
    // A peer keeps VI_2 busy (priority 200 master), so only VI_1 times out.
    set.handle(1, advert(2, 200), T0 + 3s);
    Output out = set.on_timer(T0 + 3609375us);
    EXPECT_EQ(set.state(0).state, State::Backup);  // wants MASTER, waits for VI_2
    EXPECT_TRUE(set.state(0).want_master);
    bool requested = false;
    for (const Action& a : out.actions_of(0)) {
        requested = requested || std::holds_alternative<RequestMaster>(a);
    }
    EXPECT_TRUE(requested);
    EXPECT_FALSE(sent(out, 0, 100));
    EXPECT_EQ(set.state(2).state, State::Master);  // the ungrouped one just goes
    // The peer dies: VI_2 times out too, and both go MASTER together.
    out = set.on_timer(T0 + 3s + 3609375us);
    EXPECT_EQ(set.state(0).state, State::Master);
    EXPECT_EQ(set.state(1).state, State::Master);
    EXPECT_TRUE(sent(out, 0, 100));
    EXPECT_TRUE(sent(out, 1, 100));
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Backup, State::Master}}));
}

TEST(VrrpSyncGroup, AcceptedAdvertWithdrawsTheWishToBeMaster) {
    InstanceSet set = three();
    set.start(T0);
    set.handle(1, advert(2, 200), T0 + 3s);
    set.on_timer(T0 + 3609375us);
    ASSERT_TRUE(set.state(0).want_master);
    set.handle(0, advert(1, 200), T0 + 4s);  // a master appeared for VI_1
    EXPECT_FALSE(set.state(0).want_master);
    set.on_timer(T0 + 3s + 3609375us);  // VI_2 times out: VI_1 no longer agrees
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.state(1).state, State::Backup);
}

TEST(VrrpSyncGroup, OneMemberInFaultFaultsTheGroupUntilItRecovers) {
    TimePoint t;
    InstanceSet set = all_master(t);
    Output out = set.handle(0, FaultRaised{}, t + 1s);
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_EQ(set.state(1).state, State::Fault);
    EXPECT_EQ(set.state(2).state, State::Master);  // not in the group
    EXPECT_TRUE(sent(out, 0, 0));                  // both masters announce priority 0
    EXPECT_TRUE(sent(out, 1, 0));
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Master, State::Fault}}));
    // The sibling's own link going up and down changes nothing while VI_1 is faulty.
    set.handle(1, FaultRaised{}, t + 2s);
    set.handle(1, FaultCleared{}, t + 3s);
    EXPECT_EQ(set.state(1).state, State::Fault);
    out = set.handle(0, FaultCleared{}, t + 4s);
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.state(1).state, State::Backup);
    EXPECT_EQ(count_state_changes(out, 1, State::Backup), 1u);
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Fault, State::Backup}}));
}

TEST(VrrpSyncGroup, MemberGoingBackupTakesTheOthersWithoutPriorityZero) {
    TimePoint t;
    InstanceSet set = all_master(t);
    Output out = set.handle(0, advert(1, 200), t + 500ms);
    EXPECT_EQ(set.state(0).state, State::Backup);
    EXPECT_EQ(set.state(1).state, State::Backup);
    EXPECT_EQ(count_state_changes(out, 1, State::Backup), 1u);
    EXPECT_FALSE(sent(out, 1, 0));
    EXPECT_EQ(set.state(1).timers.master_down, t + 500ms + 3609375us);
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Master, State::Backup}}));
}

TEST(VrrpSyncGroup, LowerPriorityGarpsSpreadToTheOtherMembers) {
    TimePoint t;
    InstanceSet set = all_master(t);
    Output out = set.handle(0, advert(1, 50), t + 500ms);
    auto garps = [&](std::size_t i) {
        std::vector<SendGarp> g;
        for (const Action& a : out.actions_of(i)) {
            if (const auto* s = std::get_if<SendGarp>(&a)) {
                g.push_back(*s);
            }
        }
        return g;
    };
    EXPECT_EQ(garps(0), (std::vector<SendGarp>{{5, GarpReason::LowerPriority}}));
    EXPECT_EQ(garps(1), (std::vector<SendGarp>{{5, GarpReason::LowerPriority}}));
    EXPECT_TRUE(sent(out, 0, 100));  // only the receiver answers with an advert
    EXPECT_FALSE(sent(out, 1, 100));
}

TEST(VrrpSyncGroup, ShutdownStopsEveryoneAndTheGroup) {
    TimePoint t;
    InstanceSet set = all_master(t);
    Output out = set.shutdown(t + 1s);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(set.state(i).state, State::Init);
        EXPECT_TRUE(sent(out, i, 0));
    }
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Master, State::Init}}));
    EXPECT_EQ(notify_specs(set.group(0).notify, NotifyScope::Group, set.group(0).name,
                           notify_state(out.groups[0].to), 0),
              (std::vector<NotifySpec>{{"notify", {"/bin/group.sh", "GROUP", "G1", "STOP", "0"}}}));
    EXPECT_FALSE(out.next_deadline);
}

TEST(VrrpSyncGroup, FaultBeforeStartKeepsTheWholeGroupInFault) {
    InstanceSet set = three();
    set.handle(1, FaultRaised{}, T0);
    Output out = set.start(T0);
    EXPECT_EQ(set.state(0).state, State::Fault);
    EXPECT_EQ(set.state(1).state, State::Fault);
    EXPECT_EQ(set.state(2).state, State::Backup);
    EXPECT_EQ(out.groups, (std::vector<GroupStateChanged>{{0, State::Init, State::Fault}}));
}

TEST(VrrpSyncGroup, DispatchFindsInstancesByInterfaceFamilyAndVrid) {
    InstanceSet set = three();
    EXPECT_EQ(set.find("lan0", net::Family::V4, 2), 1u);
    EXPECT_EQ(set.find("lan1", net::Family::V4, 2), std::nullopt);
    EXPECT_EQ(set.find("lan0", net::Family::V6, 2), std::nullopt);
    EXPECT_EQ(set.find("VI_3"), 2u);
    EXPECT_EQ(set.find("VI_9"), std::nullopt);
}

TEST(VrrpSyncGroup, CreateRefusesInconsistentGroups) {
    auto make = [](std::vector<InstanceConfig> cs, std::vector<config::VrrpSyncGroup> gs) {
        return InstanceSet::create(std::move(cs), gs);
    };
    EXPECT_FALSE(make({member("VI_1", 1)}, {group({"VI_1", "VI_9"})}));
    config::VrrpSyncGroup g2 = group({"VI_1"});
    g2.name = "G2";
    EXPECT_FALSE(make({member("VI_1", 1), member("VI_2", 2)}, {group({"VI_1", "VI_2"}), g2}));
    EXPECT_FALSE(make({member("VI_1", 1), member("VI_2", 1)}, {}));  // same VRID, same port
    EXPECT_FALSE(make({member("VI_1", 1), member("VI_1", 2)}, {}));
    InstanceConfig other_port = member("VI_2", 1);
    other_port.interface = "lan1";
    EXPECT_TRUE(make({member("VI_1", 1), other_port}, {}));
    config::VrrpSyncGroup bad = group({"VI_1"});
    bad.notify = "'unterminated";
    EXPECT_FALSE(make({member("VI_1", 1)}, {bad}));
}

TEST(VrrpSyncGroup, CreateFromAConfiguration) {
    config::Config c;
    config::Port p;
    p.name = "lan0";
    p.address = *net::Prefix::parse("10.99.0.120/24");
    c.ports.push_back(p);
    for (uint8_t vrid : {1, 2}) {
        config::VrrpInstance vi;
        vi.name = "VI_" + std::to_string(vrid);
        vi.interface = "lan0";
        vi.virtual_router_id = vrid;
        c.vrrp_instances.push_back(vi);
    }
    c.vrrp_sync_groups.push_back(group({"VI_1", "VI_2"}));
    auto set = InstanceSet::create(c);
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->size(), 2u);
    EXPECT_EQ(set->config(1).src, ip("10.99.0.120"));
    EXPECT_EQ(set->group_count(), 1u);
    EXPECT_EQ(set->group(0).members, (std::vector<std::size_t>{0, 1}));
    c.ports.clear();
    EXPECT_FALSE(InstanceSet::create(c));
}

}  // namespace
}  // namespace director::vrrp
