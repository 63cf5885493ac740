// SPDX-License-Identifier: BSD-3-Clause
// One VRRP instance as a pure state machine: `step(config, state, event, now) -> {state, actions}`.
//
// The machine is RFC 5798 §6 (RFC 3768 §6 for v2) with keepalived 2.2.7's choices, because our
// peers are keepalived (keepalived.md §2.3-2.4, keepalived-netns.md §5):
//   - Start: every non-owner enters BACKUP and waits Master_Down_Interval, even with
//     `state MASTER`; the address owner (priority 255) becomes MASTER at once (§6.4.1).
//   - Backup accepts an advert whose priority is >= its own (equal counts as higher: no address
//     tie-break in backup), any advert when nopreempt, and lower ones while a preempt_delay
//     window started by the first lower advert is open. Priority 0 sets the down timer to
//     Skew_Time (§6.4.2). v3 backups adopt the master's advert interval.
//   - Master answers priority 0 with an immediate advert; a lower priority (or equal priority
//     from a numerically lower address) with an immediate advert plus a GARP burst (RFC 9568,
//     keepalived's default), staying master; a higher one (or equal from a higher address) makes
//     it BACKUP without a priority-0 advert (§6.4.3).
//   - Becoming master: advert first, then `garp_master_repeat` GARPs per VIP, again after
//     `garp_master_delay` (0 = no second burst), and every `garp_master_refresh` if set.
//   - Shutdown and fault: a master sends a priority-0 advert first (keepalived
//     vrrp_restore_interface / vrrp_state_leave_master).
//
// Timers are data: InstanceState::timers holds absolute deadlines and Actions::next_deadline the
// earliest one; the shell calls step(TimerFired) at or after it. Nothing here reads a clock,
// sends a frame or runs a script: the Actions say what to do, in the order keepalived does it.
//
// Caller: control lcore. step() allocates (the action list, log strings); no I/O, no DPDK.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "net/addr.h"
#include "vrrp/clock.h"
#include "vrrp/codec.h"
#include "vrrp/notify.h"
#include "vrrp/timers.h"

namespace director::vrrp {

/** RFC 5798 §6.4 states. Init is also where an instance returns on shutdown. */
enum class State : uint8_t { Init, Backup, Master, Fault };

/** "INIT", "BACKUP", "MASTER", "FAULT". */
const char* to_string(State s) noexcept;

/** The notify script state for entering `to` (Init = stopped: STOP). */
NotifyState notify_state(State to) noexcept;

// ---- configuration --------------------------------------------------------------------------

/** Defaults of keywords config::VrrpInstance does not carry (keepalived.md §1.1). */
inline constexpr uint32_t kDefaultGarpRefreshRepeat = 1;
inline constexpr Duration kMaxPreemptDelay = std::chrono::seconds(1000);

/** Everything one instance's machine and codec need; immutable once built. */
struct InstanceConfig {
    std::string name;
    std::string interface;   ///< port name; with family and vrid, the dispatch key
    std::string sync_group;  ///< "" = none; set by InstanceSet (members gate MASTER on the group)
    net::Family family = net::Family::V4;
    uint8_t version = 2;
    uint8_t vrid = 0;
    uint8_t priority = config::kDefaultPriority;    ///< base priority; 255 = address owner
    Duration adver_int{config::kDefaultAdvertInt};  ///< our Advertisement_Interval
    bool preempt = true;                            ///< false = keepalived nopreempt
    Duration preempt_delay{0};
    AuthType auth_type = AuthType::None;  ///< v2 only
    AuthData auth_data{};
    std::vector<net::IpAddress> vips;  ///< in advert order
    net::IpAddress src;          ///< advert source and our address in the equal-priority tie-break
    net::IpAddress mcast_group;  ///< 224.0.0.18 / ff02::12
    std::vector<net::IpAddress> unicast_peers;  ///< non-empty = unicast mode
    bool check_unicast_src = false;
    bool v3_checksum_as_v2 = false;
    Duration garp_master_delay{config::kDefaultGarpMasterDelay};
    uint32_t garp_master_repeat = config::kDefaultGarpMasterRepeat;
    Duration garp_master_refresh{0};  ///< 0 = no periodic GARP
    uint32_t garp_master_refresh_repeat = kDefaultGarpRefreshRepeat;
    Duration garp_lower_prio_delay{config::kDefaultGarpMasterDelay};     ///< = garp_master_delay
    uint32_t garp_lower_prio_repeat = config::kDefaultGarpMasterRepeat;  ///< = garp_master_repeat
    bool lower_prio_no_advert = false;     ///< true: no advert back to a lower-priority master
    bool higher_prio_send_advert = false;  ///< true: one advert before yielding to a higher one
    uint32_t down_timer_adverts = kDefaultDownTimerAdverts;
    std::vector<std::string> track_ports;  ///< the shell turns their link state into faults
    NotifyScripts notify;

    bool is_owner() const noexcept { return priority == kPriorityOwner; }
    bool unicast() const noexcept { return !unicast_peers.empty(); }
};

/**
 * Builds an instance from its configuration, applying keepalived's defaults and clean-ups:
 * nopreempt and preempt_delay are cleared for `state MASTER` or priority 255; a v3 instance
 * ignores `authentication`; the lower-priority GARP settings follow the master ones.
 *
 * Caller: control lcore, at load/reload.
 *
 * @param vi   the instance
 * @param src  the advert source: unicast_src_ip, else the interface's primary address (IPv4)
 *             or its link-local address (IPv6); see source_address()
 * @return the config, or an error naming the instance: VRID 0, version not 2/3, v2 over IPv6,
 *         mixed families, interval not representable (v2: 1..255 s; v3: 10 ms steps up to
 *         40.95 s), more VIPs than fit a 1500-byte packet, auth_type AH, preempt_delay > 1000 s,
 *         or a notify script that does not parse
 */
Result<InstanceConfig> make_instance_config(const config::VrrpInstance& vi,
                                            const net::IpAddress& src);

/**
 * The advert source keepalived would use: unicast_src_ip if set, else the address of the
 * instance's port (config::Port::address). IPv6 instances without unicast_src_ip need the
 * port's link-local address, which the configuration does not hold: that is an error here and
 * the caller passes it to make_instance_config itself.
 */
Result<net::IpAddress> source_address(const config::Config& c, const config::VrrpInstance& vi);

/** What decode() must check for this instance. The spans point into cfg. */
Expect expectations(const InstanceConfig& cfg) noexcept;

/** Where each advert goes: every unicast peer, or the multicast group. */
std::vector<net::IpAddress> advert_destinations(const InstanceConfig& cfg);

/**
 * The advert to send to one destination, for a SendAdvert action.
 *
 * @param priority  SendAdvert::priority (0 on shutdown / fault)
 * @param dst       one of advert_destinations(cfg)
 * @param ip_id     the IPv4 identification (keepalived: 1, 2, 3 ... per advert)
 */
AdvertSpec advert_spec(const InstanceConfig& cfg, uint8_t priority, const net::IpAddress& dst,
                       uint16_t ip_id);

// ---- events -------------------------------------------------------------------------------

struct Start {};  ///< leave Init (RFC 5798 §6.4.1 Startup event)
/** A validated advert for this instance (decode() accepted it). */
struct AdvertReceived {
    Advert advert;
    net::IpAddress src;  ///< IP source: the peer's primary address, used in the tie-break
};
struct TimerFired {};    ///< now >= Actions::next_deadline
struct FaultRaised {};   ///< a tracked port (or the instance's own) went down
struct FaultCleared {};  ///< ... and came back
struct Shutdown {};      ///< RFC 5798 §6.4.2/§6.4.3 Shutdown event: back to Init
/** New effective priority from trackers; clamped to 1..254, ignored for the owner. */
struct PriorityChanged {
    uint8_t priority;
};
// Sent by InstanceSet to members of a sync group (keepalived vrrp_sync.c):
struct SyncPromote {};  ///< every member wants MASTER: become master now
struct SyncDemote {};   ///< another member went BACKUP: follow it
struct SyncFault {      ///< another member is (or no longer is) in FAULT
    bool on;
};
struct SyncLowerPrioGarp {};  ///< another member saw a lower-priority master: re-GARP too

using Event = std::variant<Start, AdvertReceived, TimerFired, FaultRaised, FaultCleared, Shutdown,
                           PriorityChanged, SyncPromote, SyncDemote, SyncFault, SyncLowerPrioGarp>;

// ---- actions ------------------------------------------------------------------------------

/** Send one advert (per destination) with this priority. */
struct SendAdvert {
    uint8_t priority;
    friend bool operator==(const SendAdvert&, const SendAdvert&) = default;
};

/** Why a GARP burst is due; the count per VIP differs by reason. */
enum class GarpReason : uint8_t {
    BecomeMaster,        ///< garp_master_repeat, right after the first advert as master
    MasterDelay,         ///< garp_master_repeat again, garp_master_delay later
    Refresh,             ///< garp_master_refresh_repeat, every garp_master_refresh
    LowerPriority,       ///< garp_lower_prio_repeat, a lower-priority master was seen
    LowerPriorityDelay,  ///< garp_lower_prio_repeat again, garp_lower_prio_delay later
};

/** Send `repeat` gratuitous ARPs (IPv6: unsolicited NAs) for every VIP. */
struct SendGarp {
    uint32_t repeat;
    GarpReason reason;
    friend bool operator==(const SendGarp&, const SendGarp&) = default;
};

/**
 * The instance changed state: take or release the VIPs (answer ARP for them only as Master),
 * run notify_specs(notify_state(to)).
 */
struct StateChanged {
    State from;
    State to;
    friend bool operator==(const StateChanged&, const StateChanged&) = default;
};

/** Sync-group member's down timer expired: it waits in Backup until the group agrees. */
struct RequestMaster {
    friend bool operator==(const RequestMaster&, const RequestMaster&) = default;
};

/** A keepalived-style log line, e.g. "(VI_1) Entering MASTER STATE". */
struct Log {
    std::string text;
    friend bool operator==(const Log&, const Log&) = default;
};

using Action = std::variant<SendAdvert, SendGarp, StateChanged, RequestMaster, Log>;

/** What one step asks the shell to do, in order. */
struct Actions {
    std::vector<Action> list;
    std::optional<TimePoint> next_deadline;  ///< call step(TimerFired) then; nullopt = none

    /** The actions of type T, in order. */
    template <class T>
    std::vector<T> all() const {
        std::vector<T> out;
        for (const Action& a : list) {
            if (const T* t = std::get_if<T>(&a)) {
                out.push_back(*t);
            }
        }
        return out;
    }
    /** Whether an action of type T is present. */
    template <class T>
    bool has() const {
        for (const Action& a : list) {
            if (std::holds_alternative<T>(a)) {
                return true;
            }
        }
        return false;
    }
};

// ---- state --------------------------------------------------------------------------------

/** Absolute deadlines; nullopt = not running. */
struct Timers {
    std::optional<TimePoint> advert;       ///< Master: Adver_Timer (RFC 5798 §6.2)
    std::optional<TimePoint> master_down;  ///< Backup: Master_Down_Timer (RFC 5798 §6.2)
    /// Backup: end of the preempt_delay window (keepalived preempt_time). Data only: lower
    /// adverts are accepted until then, so it never needs a wake-up of its own.
    std::optional<TimePoint> preempt_until;
    std::optional<TimePoint> garp_delay;       ///< Master: second GARP burst
    std::optional<TimePoint> garp_refresh;     ///< Master: next periodic GARP
    std::optional<TimePoint> garp_lower_prio;  ///< Master: second lower-priority GARP burst

    friend bool operator==(const Timers&, const Timers&) = default;
};

struct InstanceState {
    State state = State::Init;
    uint8_t base_priority = config::kDefaultPriority;  ///< configured; 254 after an owner clash
    uint8_t effective_priority = config::kDefaultPriority;  ///< advertised and compared
    Duration master_adver_int{config::kDefaultAdvertInt};   ///< v3: learned from the master
    Timers timers;
    bool own_fault = false;    ///< FaultRaised without FaultCleared
    bool sync_fault = false;   ///< a sync-group sibling is in fault
    bool want_master = false;  ///< sync member waiting for the group (RequestMaster sent)
    std::optional<net::IpAddress> master_addr;  ///< last accepted master (for status)
    uint8_t master_priority = 0;

    bool faulted() const noexcept { return own_fault || sync_fault; }
    friend bool operator==(const InstanceState&, const InstanceState&) = default;
};

/** The state before Start: Init, base priority, own advert interval. */
InstanceState initial_state(const InstanceConfig& cfg) noexcept;

/** Earliest running deadline (preempt_until excluded), or nullopt. */
std::optional<TimePoint> next_deadline(const InstanceState& s) noexcept;

/** A step's result: the next state and what to do. */
struct Step {
    InstanceState state;
    Actions actions;
};

/**
 * The transition function.
 *
 * Caller: control lcore. Pure: same inputs, same outputs.
 *
 * @param cfg    the instance's configuration
 * @param state  its current state
 * @param event  what happened
 * @param now    when (also the base of every new deadline)
 * @return the next state and the actions, with actions.next_deadline == next_deadline(state)
 */
Step step(const InstanceConfig& cfg, const InstanceState& state, const Event& event, TimePoint now);

/** Whether two configurations describe the same instance: same name, interface, VRID,
 * version and family (keepalived's reload keeps such an instance's state). */
bool same_identity(const InstanceConfig& a, const InstanceConfig& b) noexcept;

/**
 * Carries an instance's state across a reload that changed its configuration in place
 * (same_identity(from, to) holds). Nothing flaps: a MASTER stays MASTER, a BACKUP keeps
 * listening, FAULT and INIT stay, and no priority-0 advert is sent. What changed applies:
 *   - priority: the new base (and effective) priority; an owner clash reduction (254) is kept
 *     while the configured priority is unchanged;
 *   - a MASTER whose advert changes (priority, interval, VIPs, auth) sends one at once with the
 *     new content, and its Adver_Timer restarts from now with the new interval;
 *   - a BACKUP re-arms Master_Down_Timer no later than the new interval allows (v2 adopts the
 *     new interval; v3 keeps the one learned from the master); a BACKUP that became address
 *     owner (255, no sync group) times out at once, as keepalived's 1 µs owner timer;
 *   - GARP timers follow garp_master_delay / repeat / refresh (0 = off);
 *   - preempt_delay 0 closes an open preempt window; leaving a sync group drops want_master.
 * Faults (own or sync) are not touched here: InstanceSet re-derives them from link state and
 * the new track_ports, and sends FaultRaised / FaultCleared / SyncFault through step().
 *
 * Caller: control lcore. Pure.
 *
 * @return the carried state, and actions (an advert, log lines) with next_deadline
 */
Step reconfigure(const InstanceConfig& from, const InstanceConfig& to, const InstanceState& state,
                 TimePoint now);

/** Convenience owner of one config and its state. */
class Instance {
public:
    explicit Instance(InstanceConfig cfg) : cfg_(std::move(cfg)), state_(initial_state(cfg_)) {}

    const InstanceConfig& config() const noexcept { return cfg_; }
    const InstanceState& state() const noexcept { return state_; }

    /** step() applied to the held state. Caller: control lcore. */
    Actions handle(const Event& e, TimePoint now) {
        Step s = vrrp::step(cfg_, state_, e, now);
        state_ = std::move(s.state);
        return std::move(s.actions);
    }

    /** decode() against this instance's expectations. */
    Result<Received, Reject> decode(std::span<const uint8_t> ip, bool l2_multicast) const {
        return vrrp::decode(ip, l2_multicast, expectations(cfg_));
    }

    std::optional<TimePoint> next_deadline() const noexcept { return vrrp::next_deadline(state_); }

    /** Takes over a reloaded instance's state: vrrp::reconfigure(previous, config(), ...). */
    Actions carry_from(const Instance& previous, TimePoint now) {
        Step s = vrrp::reconfigure(previous.cfg_, cfg_, previous.state_, now);
        state_ = std::move(s.state);
        return std::move(s.actions);
    }

private:
    InstanceConfig cfg_;
    InstanceState state_;
};

}  // namespace director::vrrp
