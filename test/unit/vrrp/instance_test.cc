// SPDX-License-Identifier: BSD-3-Clause
// Scripted timelines for one instance, against a fake clock: every rule of RFC 5798 §6 with
// keepalived's choices (keepalived.md §2.3-2.4), with exact timings.
#include "vrrp/instance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace director::vrrp {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(const char* text) { return *net::IpAddress::parse(text); }

const TimePoint T0 = TimePoint{} + 1000s;

InstanceConfig v2_config(uint8_t priority = 100) {
    InstanceConfig c;
    c.name = "VI_1";
    c.interface = "lan0";
    c.family = net::Family::V4;
    c.version = 2;
    c.vrid = 62;
    c.priority = priority;
    c.adver_int = 1s;
    c.auth_type = AuthType::Pass;
    c.auth_data = make_auth_data("1111");
    c.vips = {ip("10.99.0.252")};
    c.src = ip("10.99.0.123");
    c.mcast_group = mcast_group_v4();
    return c;
}

InstanceConfig v3_config(uint8_t priority = 100, Duration adver_int = 100ms) {
    InstanceConfig c = v2_config(priority);
    c.version = 3;
    c.adver_int = adver_int;
    c.auth_type = AuthType::None;
    c.auth_data = {};
    return c;
}

AdvertReceived advert(const char* from, uint8_t priority, Duration adver_int = 1s,
                      uint8_t version = 2) {
    AdvertReceived e;
    e.advert.version = version;
    e.advert.vrid = 62;
    e.advert.priority = priority;
    e.advert.adver_int = adver_int;
    e.advert.addresses = {ip("10.99.0.252")};
    e.src = ip(from);
    return e;
}

std::vector<std::string> logs(const Actions& a) {
    std::vector<std::string> out;
    for (const Log& l : a.all<Log>()) {
        out.push_back(l.text);
    }
    return out;
}

bool logged(const Actions& a, const std::string& text) {
    const auto l = logs(a);
    return std::find(l.begin(), l.end(), text) != l.end();
}

/** The non-log actions, for order checks. */
std::vector<Action> effects(const Actions& a) {
    std::vector<Action> out;
    for (const Action& x : a.list) {
        if (!std::holds_alternative<Log>(x)) {
            out.push_back(x);
        }
    }
    return out;
}

/** An instance started at T0 and run to MASTER by its down timer. */
Instance master_at(InstanceConfig cfg, TimePoint& when) {
    Instance inst(std::move(cfg));
    Actions a = inst.handle(Start{}, T0);
    when = *a.next_deadline;
    inst.handle(TimerFired{}, when);
    EXPECT_EQ(inst.state().state, State::Master);
    return inst;
}

// ---- start-up ------------------------------------------------------------------------------

TEST(VrrpInstance, NonOwnerStartsInBackupAndTakesOverAfterMasterDownInterval) {
    Instance inst(v2_config(100));
    Actions a = inst.handle(Start{}, T0);
    EXPECT_EQ(effects(a), (std::vector<Action>{StateChanged{State::Init, State::Backup}}));
    EXPECT_TRUE(logged(a, "(VI_1) Entering BACKUP STATE (init)"));
    // v2, advert 1 s, priority 100: 3 + 156/256 s.
    ASSERT_EQ(a.next_deadline, T0 + 3609375us);
    EXPECT_TRUE(inst.handle(TimerFired{}, T0 + 3609374us).list.empty());  // not yet
    a = inst.handle(TimerFired{}, T0 + 3609375us);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{100}, StateChanged{State::Backup, State::Master},
                                   SendGarp{5, GarpReason::BecomeMaster}}));
    EXPECT_EQ(logs(a), (std::vector<std::string>{"(VI_1) Receive advertisement timeout",
                                                 "(VI_1) Entering MASTER STATE"}));
    EXPECT_EQ(a.next_deadline, T0 + 4609375us);  // next advert, 1 s later
}

TEST(VrrpInstance, StateMasterHintStillWaitsMasterDownInterval) {
    config::VrrpInstance vi;
    vi.name = "VI_1";
    vi.interface = "lan0";
    vi.state = config::VrrpState::Master;
    vi.virtual_router_id = 62;
    vi.priority = 200;
    auto cfg = make_instance_config(vi, ip("10.99.0.120"));
    ASSERT_TRUE(cfg);
    Instance inst(*cfg);
    Actions a = inst.handle(Start{}, T0);
    EXPECT_EQ(inst.state().state, State::Backup);
    // keepalived-netns.md §5.1: 3.22 s for priority 200 / advert 1 (3 + 56/256 = 3.21875).
    EXPECT_EQ(a.next_deadline, T0 + 3218750us);
}

TEST(VrrpInstance, OwnerBecomesMasterAtOnce) {
    Instance inst(v2_config(255));
    Actions a = inst.handle(Start{}, T0);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{255}, StateChanged{State::Init, State::Master},
                                   SendGarp{5, GarpReason::BecomeMaster}}));
    EXPECT_EQ(a.next_deadline, T0 + 1s);
}

TEST(VrrpInstance, StartTwiceIsIgnored) {
    Instance inst(v2_config());
    inst.handle(Start{}, T0);
    EXPECT_TRUE(inst.handle(Start{}, T0 + 1s).list.empty());
    EXPECT_EQ(inst.next_deadline(), T0 + 3609375us);
}

// ---- master timers -------------------------------------------------------------------------

TEST(VrrpInstance, MasterAdvertisesEveryIntervalAndGarpsAgainAfterTheDelay) {
    TimePoint t;
    Instance inst = master_at(v2_config(), t);
    Actions a = inst.handle(TimerFired{}, t + 1s);
    EXPECT_EQ(effects(a), (std::vector<Action>{SendAdvert{100}}));
    EXPECT_EQ(a.next_deadline, t + 2s);
    for (int i = 2; i < 5; ++i) {
        inst.handle(TimerFired{}, t + Duration{std::chrono::seconds(i)});
    }
    // garp_master_delay 5 s: the second burst comes with the fifth advert.
    a = inst.handle(TimerFired{}, t + 5s);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{100}, SendGarp{5, GarpReason::MasterDelay}}));
    EXPECT_FALSE(inst.state().timers.garp_delay);
    EXPECT_FALSE(inst.state().timers.garp_refresh);  // no refresh by default
}

TEST(VrrpInstance, GarpMasterDelayZeroMeansNoSecondBurst) {
    InstanceConfig c = v2_config();
    c.garp_master_delay = 0s;
    TimePoint t;
    Instance inst = master_at(c, t);
    EXPECT_FALSE(inst.state().timers.garp_delay);
    for (int i = 1; i <= 10; ++i) {
        EXPECT_FALSE(
            inst.handle(TimerFired{}, t + Duration{std::chrono::seconds(i)}).has<SendGarp>());
    }
}

TEST(VrrpInstance, GarpRefreshRepeatsWhileMaster) {
    InstanceConfig c = v2_config();
    c.garp_master_refresh = 10s;
    c.garp_master_refresh_repeat = 2;
    TimePoint t;
    Instance inst = master_at(c, t);
    int refreshes = 0;
    for (int i = 1; i <= 25; ++i) {
        for (const SendGarp& g :
             inst.handle(TimerFired{}, t + Duration{std::chrono::seconds(i)}).all<SendGarp>()) {
            if (g.reason == GarpReason::Refresh) {
                EXPECT_EQ(g.repeat, 2u);
                EXPECT_TRUE(i == 10 || i == 20) << i;
                ++refreshes;
            }
        }
    }
    EXPECT_EQ(refreshes, 2);
}

// ---- backup receiving ----------------------------------------------------------------------

TEST(VrrpInstance, BackupAcceptsHigherAndEqualPriorityAndResetsItsDownTimer) {
    Instance inst(v2_config(100));
    inst.handle(Start{}, T0);
    Actions a = inst.handle(advert("10.99.0.120", 200), T0 + 2s);
    EXPECT_TRUE(a.list.empty());
    EXPECT_EQ(a.next_deadline, T0 + 2s + 3609375us);
    EXPECT_EQ(inst.state().master_addr, ip("10.99.0.120"));
    EXPECT_EQ(inst.state().master_priority, 200);
    // Equal counts as higher in backup, whatever the addresses (no tie-break here).
    a = inst.handle(advert("10.99.0.1", 100), T0 + 3s);
    EXPECT_EQ(a.next_deadline, T0 + 3s + 3609375us);
}

TEST(VrrpInstance, PreemptingBackupDiscardsLowerPriorityAndTakesOverAtItsDeadline) {
    Instance inst(v2_config(200));
    inst.handle(Start{}, T0);
    const TimePoint deadline = T0 + 3218750us;
    Actions a = inst.handle(advert("10.99.0.120", 100), T0 + 1s);
    EXPECT_EQ(a.next_deadline, deadline);  // unchanged
    EXPECT_TRUE(logged(a,
                       "(VI_1) received lower priority (100) advert from 10.99.0.120 - "
                       "discarding"));
    inst.handle(advert("10.99.0.120", 100), T0 + 2s);
    a = inst.handle(TimerFired{}, deadline);
    EXPECT_EQ(inst.state().state, State::Master);
    EXPECT_EQ(a.all<SendAdvert>(), (std::vector<SendAdvert>{{200}}));
}

TEST(VrrpInstance, NopreemptBackupAcceptsAnyPriority) {
    InstanceConfig c = v2_config(200);
    c.preempt = false;
    Instance inst(c);
    inst.handle(Start{}, T0);
    for (int i = 1; i <= 10; ++i) {
        const TimePoint t = T0 + Duration{std::chrono::seconds(i)};
        Actions a = inst.handle(advert("10.99.0.120", 50), t);
        EXPECT_EQ(a.next_deadline, t + 3218750us);
        EXPECT_TRUE(inst.handle(TimerFired{}, t).list.empty());
    }
    EXPECT_EQ(inst.state().state, State::Backup);
}

TEST(VrrpInstance, PriorityZeroAdvertSetsTheDownTimerToSkewTime) {
    Instance inst(v2_config(100));
    inst.handle(Start{}, T0);
    inst.handle(advert("10.99.0.120", 200), T0 + 1s);
    Actions a = inst.handle(advert("10.99.0.120", 0), T0 + 1500ms);
    EXPECT_TRUE(logged(a, "(VI_1) Backup received priority 0 advertisement"));
    // (256 - 100) / 256 s = 0.609375 s (keepalived-netns.md §4: measured 609.9-611.4 ms).
    EXPECT_EQ(a.next_deadline, T0 + 1500ms + 609375us);
    a = inst.handle(TimerFired{}, T0 + 1500ms + 609375us);
    EXPECT_EQ(inst.state().state, State::Master);
}

TEST(VrrpInstance, V3TimersUseCentisecondIntervalsInKeepalivedsArithmetic) {
    Instance inst(v3_config(100, 100ms));
    Actions a = inst.handle(Start{}, T0);
    // 3 * 100 ms + (256 - 100) * 10 cs / 256 = 300 ms + 60.9375 ms, truncated to 60937 µs
    // (keepalived: 156 * 10 * 625 / 16 in integer µs; measured 361.4-361.9 ms).
    EXPECT_EQ(a.next_deadline, T0 + 360937us);
    a = inst.handle(advert("10.99.0.120", 200, 100ms, 3), T0 + 100ms);
    EXPECT_EQ(a.next_deadline, T0 + 100ms + 360937us);
    a = inst.handle(advert("10.99.0.120", 0, 100ms, 3), T0 + 200ms);
    EXPECT_EQ(a.next_deadline, T0 + 200ms + 60937us);  // Skew_Time only
}

TEST(VrrpInstance, V3BackupAdoptsTheMastersAdvertInterval) {
    Instance inst(v3_config(100, 1s));
    inst.handle(Start{}, T0);
    EXPECT_EQ(inst.next_deadline(), T0 + 3609375us);
    Actions a = inst.handle(advert("10.99.0.120", 200, 100ms, 3), T0 + 1s);
    EXPECT_EQ(inst.state().master_adver_int, 100ms);
    EXPECT_EQ(a.next_deadline, T0 + 1s + 360937us);
    EXPECT_TRUE(logged(a,
                       "(VI_1) advertisement interval updated to 100 milli-sec from 1000 "
                       "milli-sec"));
    // As master it advertises its own interval again.
    inst.handle(TimerFired{}, T0 + 1s + 360937us);
    EXPECT_EQ(inst.state().master_adver_int, 1s);
    EXPECT_EQ(inst.next_deadline(), T0 + 2s + 360937us);
    EXPECT_EQ(advert_spec(inst.config(), 100, mcast_group_v4(), 1).advert.adver_int, 1s);
}

TEST(VrrpInstance, V2BackupKeepsItsOwnInterval) {
    Instance inst(v2_config(100));
    inst.handle(Start{}, T0);
    inst.handle(advert("10.99.0.120", 200, 2s), T0);
    EXPECT_EQ(inst.state().master_adver_int, 1s);
}

TEST(VrrpInstance, PreemptDelayAcceptsALowerMasterForThatLong) {
    InstanceConfig c = v2_config(200);
    c.preempt_delay = 10s;
    Instance inst(c);
    inst.handle(Start{}, T0);
    // The first lower advert opens the window (keepalived "start preempt delay").
    for (int i = 1; i <= 10; ++i) {
        const TimePoint t = T0 + Duration{std::chrono::seconds(i)};
        Actions a = inst.handle(advert("10.99.0.120", 100), t);
        EXPECT_EQ(a.next_deadline, t + 3218750us) << i;
    }
    EXPECT_EQ(inst.state().timers.preempt_until, T0 + 11s);
    // At T0 + 11 s the window has closed: discarded, the down timer runs out.
    Actions a = inst.handle(advert("10.99.0.120", 100), T0 + 11s);
    EXPECT_EQ(a.next_deadline, T0 + 10s + 3218750us);
    EXPECT_TRUE(a.has<Log>());
    inst.handle(TimerFired{}, T0 + 10s + 3218750us);
    EXPECT_EQ(inst.state().state, State::Master);
}

TEST(VrrpInstance, HigherPriorityAdvertStopsThePreemptDelay) {
    InstanceConfig c = v2_config(200);
    c.preempt_delay = 10s;
    Instance inst(c);
    inst.handle(Start{}, T0);
    inst.handle(advert("10.99.0.120", 100), T0 + 1s);
    EXPECT_TRUE(inst.state().timers.preempt_until);
    inst.handle(advert("10.99.0.121", 250), T0 + 2s);
    EXPECT_FALSE(inst.state().timers.preempt_until);
    EXPECT_EQ(inst.next_deadline(), T0 + 2s + 3218750us);  // preempt_until is not a wake-up
}

// ---- master receiving ----------------------------------------------------------------------

TEST(VrrpInstance, MasterAnswersPriorityZeroWithAnAdvertAndStays) {
    TimePoint t;
    Instance inst = master_at(v2_config(), t);
    Actions a = inst.handle(advert("10.99.0.120", 0), t + 300ms);
    EXPECT_EQ(effects(a), (std::vector<Action>{SendAdvert{100}}));
    EXPECT_TRUE(logged(a, "(VI_1) Master received priority 0 message"));
    EXPECT_EQ(inst.state().state, State::Master);
    EXPECT_EQ(a.next_deadline, t + 1s);  // the advert timer is not moved
}

TEST(VrrpInstance, MasterAnswersLowerPriorityWithAdvertAndGarpBurst) {
    TimePoint t;
    Instance inst = master_at(v2_config(100), t);
    Actions a = inst.handle(advert("10.99.0.200", 50), t + 300ms);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{100}, SendGarp{5, GarpReason::LowerPriority}}));
    EXPECT_TRUE(logged(a,
                       "(VI_1) Received advert from 10.99.0.200 with lower priority 50, "
                       "ours 100, forcing new election"));
    EXPECT_EQ(inst.state().state, State::Master);
    EXPECT_EQ(inst.state().timers.garp_lower_prio, t + 5300ms);
    // garp_lower_prio_delay (= garp_master_delay, 5 s) later: the second lower-prio burst.
    EXPECT_FALSE(inst.handle(TimerFired{}, t + 5s).all<SendGarp>().empty());  // MasterDelay
    a = inst.handle(TimerFired{}, t + 5300ms);
    EXPECT_EQ(a.all<SendGarp>(), (std::vector<SendGarp>{{5, GarpReason::LowerPriorityDelay}}));
}

TEST(VrrpInstance, MasterTieBreaksEqualPriorityByNumericAddress) {
    // Our address 10.99.0.123. "10.99.0.2" sorts after it as text but is numerically lower.
    TimePoint t;
    Instance inst = master_at(v2_config(100), t);
    Actions a = inst.handle(advert("10.99.0.2", 100), t + 100ms);
    EXPECT_EQ(inst.state().state, State::Master);
    EXPECT_TRUE(a.has<SendAdvert>());
    a = inst.handle(advert("10.99.0.124", 100), t + 200ms);
    EXPECT_EQ(inst.state().state, State::Backup);
    EXPECT_TRUE(logged(a,
                       "(VI_1) Master received advert from 10.99.0.124 with same priority "
                       "100 but higher IP address than ours"));
}

TEST(VrrpInstance, MasterYieldsToHigherPriorityWithoutPriorityZero) {
    TimePoint t;
    Instance inst = master_at(v2_config(100), t);
    Actions a = inst.handle(advert("10.99.0.120", 200), t + 400ms);
    EXPECT_EQ(effects(a), (std::vector<Action>{StateChanged{State::Master, State::Backup}}));
    EXPECT_EQ(logs(a), (std::vector<std::string>{
                           "(VI_1) Master received advert from 10.99.0.120 with higher "
                           "priority 200, ours 100",
                           "(VI_1) Entering BACKUP STATE"}));
    EXPECT_EQ(a.next_deadline, t + 400ms + 3609375us);
    EXPECT_FALSE(inst.state().timers.advert);
    EXPECT_FALSE(inst.state().timers.garp_delay);
}

TEST(VrrpInstance, V3MasterYieldingAdoptsTheNewMastersInterval) {
    TimePoint t;
    Instance inst = master_at(v3_config(100, 1s), t);
    Actions a = inst.handle(advert("10.99.0.120", 200, 100ms, 3), t + 10ms);
    EXPECT_EQ(inst.state().master_adver_int, 100ms);
    EXPECT_EQ(a.next_deadline, t + 10ms + 360937us);
}

TEST(VrrpInstance, EqualPriorityFromOurOwnAddressIsIgnored) {
    TimePoint t;
    Instance inst = master_at(v2_config(100), t);
    Actions a = inst.handle(advert("10.99.0.123", 100), t + 10ms);
    EXPECT_TRUE(effects(a).empty());
    EXPECT_EQ(inst.state().state, State::Master);
}

TEST(VrrpInstance, TwoOwnersTheLowerAddressDropsTo254) {
    Instance inst(v2_config(255));
    inst.handle(Start{}, T0);
    Actions a = inst.handle(advert("10.99.0.200", 255), T0 + 1ms);
    EXPECT_EQ(inst.state().state, State::Backup);
    EXPECT_EQ(inst.state().effective_priority, 254);
    EXPECT_TRUE(a.has<Log>());
    // The higher address keeps MASTER and answers as for a lower priority.
    Instance high(v2_config(255));
    high.handle(Start{}, T0);
    a = high.handle(advert("10.99.0.2", 255), T0 + 1ms);
    EXPECT_EQ(high.state().state, State::Master);
    EXPECT_EQ(high.state().effective_priority, 255);
}

TEST(VrrpInstance, LowerPrioNoAdvertAndHigherPrioSendAdvertOptions) {
    InstanceConfig c = v2_config(100);
    c.lower_prio_no_advert = true;
    c.higher_prio_send_advert = true;
    TimePoint t;
    Instance inst = master_at(c, t);
    Actions a = inst.handle(advert("10.99.0.200", 50), t + 1ms);
    EXPECT_FALSE(a.has<SendAdvert>());
    EXPECT_TRUE(a.has<SendGarp>());
    a = inst.handle(advert("10.99.0.200", 150), t + 2ms);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{100}, StateChanged{State::Master, State::Backup}}));
}

// ---- shutdown, fault, priority ---------------------------------------------------------------

TEST(VrrpInstance, ShutdownFromMasterSendsPriorityZero) {
    TimePoint t;
    Instance inst = master_at(v2_config(), t);
    Actions a = inst.handle(Shutdown{}, t + 100ms);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{0}, StateChanged{State::Master, State::Init}}));
    EXPECT_TRUE(logged(a, "(VI_1) sent 0 priority"));
    EXPECT_FALSE(a.next_deadline);
    EXPECT_EQ(notify_state(State::Init), NotifyState::Stop);
}

TEST(VrrpInstance, ShutdownFromBackupSendsNothing) {
    Instance inst(v2_config());
    inst.handle(Start{}, T0);
    Actions a = inst.handle(Shutdown{}, T0 + 1s);
    EXPECT_EQ(effects(a), (std::vector<Action>{StateChanged{State::Backup, State::Init}}));
    EXPECT_TRUE(inst.handle(Shutdown{}, T0 + 2s).list.empty());
}

TEST(VrrpInstance, FaultFromMasterSendsPriorityZeroThenFault) {
    TimePoint t;
    Instance inst = master_at(v2_config(), t);
    Actions a = inst.handle(FaultRaised{}, t + 100ms);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{0}, StateChanged{State::Master, State::Fault}}));
    EXPECT_TRUE(logged(a, "(VI_1) Entering FAULT STATE"));
    EXPECT_FALSE(a.next_deadline);
    // Adverts are ignored in FAULT.
    EXPECT_TRUE(inst.handle(advert("10.99.0.120", 1), t + 200ms).list.empty());
    a = inst.handle(FaultCleared{}, t + 1s);
    EXPECT_EQ(effects(a), (std::vector<Action>{StateChanged{State::Fault, State::Backup}}));
    EXPECT_EQ(a.next_deadline, t + 1s + 3609375us);
}

TEST(VrrpInstance, FaultFromBackupIsSilent) {
    Instance inst(v2_config());
    inst.handle(Start{}, T0);
    Actions a = inst.handle(FaultRaised{}, T0 + 1s);
    EXPECT_EQ(effects(a), (std::vector<Action>{StateChanged{State::Backup, State::Fault}}));
    EXPECT_TRUE(inst.handle(FaultRaised{}, T0 + 2s).list.empty());
}

TEST(VrrpInstance, FaultBeforeStartEntersFaultInit) {
    Instance inst(v2_config());
    EXPECT_TRUE(inst.handle(FaultRaised{}, T0).list.empty());
    Actions a = inst.handle(Start{}, T0);
    EXPECT_EQ(effects(a), (std::vector<Action>{StateChanged{State::Init, State::Fault}}));
    EXPECT_TRUE(logged(a, "(VI_1) Entering FAULT STATE (init)"));
}

TEST(VrrpInstance, OwnerLeavingFaultBecomesMasterAtOnce) {
    Instance inst(v2_config(255));
    inst.handle(Start{}, T0);
    inst.handle(FaultRaised{}, T0 + 1s);
    Actions a = inst.handle(FaultCleared{}, T0 + 2s);
    EXPECT_EQ(effects(a),
              (std::vector<Action>{SendAdvert{255}, StateChanged{State::Fault, State::Master},
                                   SendGarp{5, GarpReason::BecomeMaster}}));
}

TEST(VrrpInstance, PriorityChangeIsClampedAndNeverTouchesTheOwner) {
    Instance inst(v2_config(100));
    inst.handle(PriorityChanged{0}, T0);
    EXPECT_EQ(inst.state().effective_priority, 1);
    inst.handle(PriorityChanged{255}, T0);
    EXPECT_EQ(inst.state().effective_priority, 254);
    inst.handle(PriorityChanged{150}, T0);
    inst.handle(Start{}, T0);
    EXPECT_EQ(inst.next_deadline(), T0 + 3s + 414062us);  // skew (256-150)/256 s
    Instance owner(v2_config(255));
    owner.handle(PriorityChanged{100}, T0);
    EXPECT_EQ(owner.state().effective_priority, 255);
}

TEST(VrrpInstance, StepIsPure) {
    const InstanceConfig c = v2_config();
    const InstanceState s0 = initial_state(c);
    const Step a = step(c, s0, Start{}, T0);
    const Step b = step(c, s0, Start{}, T0);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.actions.list, b.actions.list);
    EXPECT_EQ(s0.state, State::Init);
    EXPECT_EQ(a.actions.next_deadline, next_deadline(a.state));
}

// ---- two machines over the codec: keepalived-netns.md §4's timings ----------------------------

/** Carries the adverts of one instance's actions to another, through encode and decode. */
class Wire {
public:
    bool up = true;
    uint16_t ip_id = 0;

    /** Returns the events the receiver gets for the sender's actions. */
    std::vector<AdvertReceived> carry(const InstanceConfig& from, const InstanceConfig& to,
                                      const Actions& a) {
        std::vector<AdvertReceived> out;
        for (const SendAdvert& s : a.all<SendAdvert>()) {
            for (const net::IpAddress& dst : advert_destinations(from)) {
                auto bytes = encode_ip(advert_spec(from, s.priority, dst, ++ip_id));
                EXPECT_TRUE(bytes);
                if (!up) {
                    continue;
                }
                auto r = decode(*bytes, dst.is_multicast(), expectations(to));
                EXPECT_TRUE(r) << to_string(r.error());
                out.push_back(AdvertReceived{r->advert, r->src});
            }
        }
        return out;
    }
};

TEST(VrrpInstance, TwoPeersElectTheHigherPriorityAndFailOverOnTime) {
    InstanceConfig ca = v2_config(200);
    ca.name = "A";
    ca.src = ip("10.99.0.120");
    InstanceConfig cb = v2_config(100);
    cb.name = "B";
    Instance a(ca);
    Instance b(cb);
    Wire wire;
    a.handle(Start{}, T0);
    b.handle(Start{}, T0);
    TimePoint now = T0;
    TimePoint a_last_advert{};
    TimePoint b_master_at{};
    auto run_until = [&](TimePoint end) {
        while (true) {
            auto da = a.next_deadline();
            auto db = b.next_deadline();
            TimePoint next = end;
            if (da && *da < next) {
                next = *da;
            }
            if (db && *db < next) {
                next = *db;
            }
            if (next >= end) {
                break;
            }
            now = next;
            if (da && *da == now) {
                Actions out = a.handle(TimerFired{}, now);
                if (out.has<SendAdvert>() && wire.up) {
                    a_last_advert = now;
                }
                for (const auto& e : wire.carry(ca, cb, out)) {
                    b.handle(e, now);
                }
            }
            if (db && *db == now) {
                Actions out = b.handle(TimerFired{}, now);
                if (out.has<StateChanged>() && b.state().state == State::Master) {
                    b_master_at = now;
                }
                for (const auto& e : wire.carry(cb, ca, out)) {
                    a.handle(e, now);
                }
            }
        }
    };
    run_until(T0 + 10s);
    EXPECT_EQ(a.state().state, State::Master);  // A took over at 3.21875 s ...
    EXPECT_EQ(b.state().state, State::Backup);  // ... and B kept resetting its timer.
    // Crash A: B's first advert as master comes 3 + 156/256 s after A's last one.
    wire.up = false;
    run_until(T0 + 20s);
    wire.up = true;
    EXPECT_EQ(b.state().state, State::Master);
    EXPECT_EQ(b_master_at - a_last_advert, 3609375us);
}

TEST(VrrpInstance, GracefulStopHandsOverAfterSkewTime) {
    InstanceConfig ca = v2_config(200);
    ca.src = ip("10.99.0.120");
    InstanceConfig cb = v2_config(100);
    TimePoint t;
    Instance a = master_at(ca, t);
    Instance b(cb);
    b.handle(Start{}, t);
    Wire wire;
    for (const auto& e : wire.carry(ca, cb, a.handle(TimerFired{}, t + 1s))) {
        b.handle(e, t + 1s);
    }
    for (const auto& e : wire.carry(ca, cb, a.handle(Shutdown{}, t + 1500ms))) {
        EXPECT_EQ(e.advert.priority, 0);
        b.handle(e, t + 1500ms);
    }
    // keepalived-netns.md §4: prio-0 advert -> first B advert after 609.4 ms.
    EXPECT_EQ(b.next_deadline(), t + 1500ms + 609375us);
    Actions out = b.handle(TimerFired{}, t + 1500ms + 609375us);
    EXPECT_EQ(out.all<SendAdvert>(), (std::vector<SendAdvert>{{100}}));
}

// ---- configuration -------------------------------------------------------------------------

config::VrrpInstance config_instance() {
    config::VrrpInstance vi;
    vi.name = "VI_1";
    vi.interface = "lan0";
    vi.virtual_router_id = 62;
    vi.priority = 100;
    vi.authentication = config::Authentication{config::AuthType::Pass, "1111"};
    vi.virtual_ipaddress = {config::VirtualIp{*net::Prefix::parse("10.99.0.252/24"), "", ""}};
    vi.notify_master = "/etc/director/master.sh 'VI 1'";
    return vi;
}

TEST(VrrpInstanceConfig, CarriesKeepalivedDefaultsAndTheAdvertBytes) {
    auto c = make_instance_config(config_instance(), ip("10.99.0.120"));
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->family, net::Family::V4);
    EXPECT_EQ(c->mcast_group, mcast_group_v4());
    EXPECT_EQ(c->vips, (std::vector<net::IpAddress>{ip("10.99.0.252")}));
    EXPECT_EQ(c->garp_master_repeat, 5u);
    EXPECT_EQ(c->garp_master_delay, 5s);
    EXPECT_EQ(c->garp_lower_prio_repeat, 5u);
    EXPECT_EQ(c->down_timer_adverts, 3u);
    EXPECT_EQ(c->notify.master, (std::vector<std::string>{"/etc/director/master.sh", "VI 1"}));
    EXPECT_EQ(advert_destinations(*c), (std::vector<net::IpAddress>{mcast_group_v4()}));
    // The keepalived capture of keepalived-netns.md §3, from the configuration.
    config::VrrpInstance vi = config_instance();
    vi.priority = 200;
    auto ka = make_instance_config(vi, ip("10.99.0.120"));
    auto bytes = encode_ip(advert_spec(*ka, 200, mcast_group_v4(), 1));
    ASSERT_TRUE(bytes);
    EXPECT_EQ((*bytes)[26], 0xa7);
    EXPECT_EQ((*bytes)[27], 0xfd);
}

TEST(VrrpInstanceConfig, UnicastPeersGetOneAdvertEach) {
    config::VrrpInstance vi = config_instance();
    vi.unicast_src_ip = ip("10.99.0.120");
    vi.unicast_peers = {ip("10.99.0.123"), ip("10.99.0.124")};
    auto c = make_instance_config(vi, ip("10.99.0.120"));
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->unicast());
    EXPECT_EQ(advert_destinations(*c), vi.unicast_peers);
    EXPECT_TRUE(expectations(*c).unicast);
}

TEST(VrrpInstanceConfig, StateMasterClearsNopreemptAndPreemptDelay) {
    config::VrrpInstance vi = config_instance();
    vi.state = config::VrrpState::Master;
    vi.preempt = false;
    vi.preempt_delay = 10s;
    auto c = make_instance_config(vi, ip("10.99.0.120"));
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->preempt);
    EXPECT_EQ(c->preempt_delay, 0s);
    vi.state = config::VrrpState::Backup;
    c = make_instance_config(vi, ip("10.99.0.120"));
    EXPECT_FALSE(c->preempt);
    EXPECT_EQ(c->preempt_delay, 10s);
}

TEST(VrrpInstanceConfig, V3IgnoresAuthentication) {
    config::VrrpInstance vi = config_instance();
    vi.version = 3;
    auto c = make_instance_config(vi, ip("10.99.0.120"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->auth_type, AuthType::None);
}

TEST(VrrpInstanceConfig, RefusesWhatCannotBeSpoken) {
    auto fails = [](auto mutate, const char* src = "10.99.0.120") {
        config::VrrpInstance vi = config_instance();
        mutate(vi);
        auto c = make_instance_config(vi, ip(src));
        return !c.has_value() && c.error().message.find("VI_1") != std::string::npos;
    };
    EXPECT_TRUE(fails([](auto& vi) { vi.virtual_router_id = 0; }));
    EXPECT_TRUE(fails([](auto& vi) { vi.version = 4; }));
    EXPECT_TRUE(fails([](auto& vi) { vi.advert_int = 1500ms; }));
    EXPECT_TRUE(fails([](auto& vi) {
        vi.version = 3;
        vi.advert_int = 41s;
    }));
    EXPECT_TRUE(fails([](auto& vi) { vi.authentication->type = config::AuthType::Ah; }));
    EXPECT_TRUE(fails([](auto& vi) { vi.preempt_delay = 1001s; }));
    EXPECT_TRUE(fails([](auto& vi) { vi.notify_backup = "/bin/x 'unterminated"; }));
    EXPECT_TRUE(fails([](auto& vi) { vi.unicast_peers = {*net::IpAddress::parse("fe80::1")}; }));
    EXPECT_TRUE(fails([](auto&) {}, "fe80::1"));  // IPv4 VIPs, IPv6 source
    EXPECT_TRUE(fails(
        [](auto& vi) {  // VRRPv2 over IPv6
            vi.virtual_ipaddress = {config::VirtualIp{*net::Prefix::parse("fe80::252"), "", ""}};
        },
        "fe80::1"));
    EXPECT_TRUE(
        fails([](auto& vi) { vi.virtual_ipaddress.assign(400, vi.virtual_ipaddress.front()); }));
}

TEST(VrrpInstanceConfig, SourceAddressIsUnicastSrcElseThePortAddress) {
    config::Config c;
    config::Port p;
    p.name = "lan0";
    p.address = *net::Prefix::parse("10.99.0.120/24");
    c.ports.push_back(p);
    config::VrrpInstance vi = config_instance();
    EXPECT_EQ(*source_address(c, vi), ip("10.99.0.120"));
    vi.unicast_src_ip = ip("10.99.0.121");
    EXPECT_EQ(*source_address(c, vi), ip("10.99.0.121"));
    vi.unicast_src_ip.reset();
    vi.interface = "lan9";
    EXPECT_FALSE(source_address(c, vi));
    vi.interface = "lan0";
    vi.virtual_ipaddress = {config::VirtualIp{*net::Prefix::parse("2001:db8::1"), "", ""}};
    EXPECT_FALSE(source_address(c, vi));  // IPv6: the link-local address is the caller's
}

}  // namespace
}  // namespace director::vrrp
