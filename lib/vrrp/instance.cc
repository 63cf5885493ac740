// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/instance.h"

#include <algorithm>
#include <string>

namespace director::vrrp {

const char* to_string(State s) noexcept {
    switch (s) {
        case State::Init:
            return "INIT";
        case State::Backup:
            return "BACKUP";
        case State::Master:
            return "MASTER";
        case State::Fault:
            return "FAULT";
    }
    return "INVALID";
}

NotifyState notify_state(State to) noexcept {
    switch (to) {
        case State::Master:
            return NotifyState::Master;
        case State::Backup:
            return NotifyState::Backup;
        case State::Fault:
            return NotifyState::Fault;
        case State::Init:
            break;
    }
    return NotifyState::Stop;
}

// ---- configuration ------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxPacket = 1500;  // one advert per Ethernet MTU (keepalived.md §1.2)

std::string instance_error(const config::VrrpInstance& vi, const std::string& what) {
    return "vrrp_instance " + vi.name + ": " + what;
}

}  // namespace

Result<InstanceConfig> make_instance_config(const config::VrrpInstance& vi,
                                            const net::IpAddress& src) {
    InstanceConfig c;
    c.name = vi.name;
    c.interface = vi.interface;
    c.family = src.family();
    c.version = vi.version;
    c.vrid = vi.virtual_router_id;
    c.priority = vi.priority;
    c.adver_int = vi.advert_int;
    c.src = src;
    c.mcast_group = mcast_group(c.family);

    if (c.vrid == 0) {
        return make_error(instance_error(vi, "virtual_router_id must be 1..255"));
    }
    if (c.version != 2 && c.version != 3) {
        return make_error(instance_error(vi, "version must be 2 or 3"));
    }
    if (c.priority == 0) {
        return make_error(instance_error(vi, "priority must be 1..255"));
    }
    if (c.version == 2 && c.family == net::Family::V6) {
        return make_error(instance_error(vi, "VRRPv2 is IPv4 only (RFC 3768); use version 3"));
    }
    for (const config::VirtualIp& vip : vi.virtual_ipaddress) {
        if (vip.address.address.family() != c.family) {
            return make_error(instance_error(vi, "virtual address " + vip.address.to_string() +
                                                     " is not of the source address's family"));
        }
        c.vips.push_back(vip.address.address);  // only the address goes into adverts
    }
    for (const net::IpAddress& peer : vi.unicast_peers) {
        if (peer.family() != c.family) {
            return make_error(instance_error(
                vi, "unicast peer " + peer.to_string() + " is not of the source address's family"));
        }
    }
    c.unicast_peers = vi.unicast_peers;
    if (vrrp_length(c.version, c.family, c.vips.size()) +
            (c.family == net::Family::V4 ? kIpv4HeaderLen : kIpv6HeaderLen) >
        kMaxPacket) {
        return make_error(instance_error(
            vi, std::to_string(c.vips.size()) + " virtual addresses do not fit one advert"));
    }
    const Duration unit = c.version == 2 ? Duration{std::chrono::seconds(1)}
                                         : Duration{std::chrono::milliseconds(10)};
    const int64_t max_units = c.version == 2 ? kMaxV2IntervalS : kMaxV3IntervalCs;
    if (c.adver_int <= Duration::zero() || c.adver_int % unit != Duration::zero() ||
        c.adver_int / unit > max_units) {
        return make_error(instance_error(
            vi, c.version == 2 ? "advert_int must be 1..255 whole seconds for VRRPv2"
                               : "advert_int must be 0.01..40.95 s in 10 ms steps for VRRPv3"));
    }
    // keepalived: v3 + authentication -> "does not support authentication. Ignoring."
    if (vi.authentication && c.version == 2) {
        if (vi.authentication->type == config::AuthType::Ah) {
            return make_error(instance_error(vi, "auth_type AH is not supported"));
        }
        c.auth_type = AuthType::Pass;
        c.auth_data = make_auth_data(vi.authentication->pass);
    }
    c.preempt = vi.preempt;
    c.preempt_delay = vi.preempt_delay;
    if (c.preempt_delay < Duration::zero() || c.preempt_delay > kMaxPreemptDelay) {
        return make_error(instance_error(vi, "preempt_delay must be 0..1000 s"));
    }
    // keepalived vrrp_complete_instance: nopreempt / preempt_delay make no sense for an
    // instance that starts as (or owns the address of) the master; it clears them with a warning.
    if (vi.state == config::VrrpState::Master || c.is_owner()) {
        c.preempt = true;
        c.preempt_delay = Duration::zero();
    }
    c.garp_master_delay = vi.garp_master_delay;
    c.garp_master_repeat = vi.garp_master_repeat;
    c.garp_master_refresh = vi.garp_master_refresh;
    c.garp_lower_prio_delay = vi.garp_master_delay;
    c.garp_lower_prio_repeat = vi.garp_master_repeat;
    c.v3_checksum_as_v2 = vi.v3_checksum_as_v2;
    c.track_ports = vi.track_ports;
    auto scripts = NotifyScripts::create(vi.notify_master, vi.notify_backup, vi.notify_fault,
                                         vi.notify_stop, vi.notify);
    if (!scripts) {
        return make_error(instance_error(vi, scripts.error().message));
    }
    c.notify = std::move(*scripts);
    return c;
}

Result<net::IpAddress> source_address(const config::Config& c, const config::VrrpInstance& vi) {
    if (vi.unicast_src_ip) {
        return *vi.unicast_src_ip;
    }
    net::Family family = net::Family::V4;
    if (!vi.virtual_ipaddress.empty()) {
        family = vi.virtual_ipaddress.front().address.address.family();
    } else if (!vi.unicast_peers.empty()) {
        family = vi.unicast_peers.front().family();
    }
    if (family == net::Family::V6) {
        return make_error(
            instance_error(vi,
                           "an IPv6 instance advertises from the port's link-local address; set "
                           "unicast_src_ip or pass the link-local address"));
    }
    for (const config::Port& p : c.ports) {
        if (p.name == vi.interface) {
            if (p.address && p.address->address.is_v4()) {
                return p.address->address;
            }
            return make_error(
                instance_error(vi, "port " + p.name + " has no IPv4 address to advertise from"));
        }
    }
    return make_error(instance_error(vi, "unknown interface " + vi.interface));
}

Expect expectations(const InstanceConfig& cfg) noexcept {
    Expect e;
    e.family = cfg.family;
    e.version = cfg.version;
    e.vrid = cfg.vrid;
    e.auth_type = cfg.auth_type;
    e.auth_data = cfg.auth_data;
    e.adver_int = cfg.adver_int;
    e.unicast = cfg.unicast();
    e.check_unicast_src = cfg.check_unicast_src;
    e.unicast_peers = cfg.unicast_peers;
    e.v3_checksum_as_v2 = cfg.v3_checksum_as_v2;
    e.vips = cfg.vips;
    return e;
}

std::vector<net::IpAddress> advert_destinations(const InstanceConfig& cfg) {
    if (cfg.unicast()) {
        return cfg.unicast_peers;
    }
    return {cfg.mcast_group};
}

AdvertSpec advert_spec(const InstanceConfig& cfg, uint8_t priority, const net::IpAddress& dst,
                       uint16_t ip_id) {
    AdvertSpec s;
    s.advert.version = cfg.version;
    s.advert.vrid = cfg.vrid;
    s.advert.priority = priority;
    s.advert.auth_type = cfg.auth_type;
    s.advert.auth_data = cfg.auth_type == AuthType::Pass ? cfg.auth_data : AuthData{};
    s.advert.adver_int = cfg.adver_int;  // a master always sends its own (RFC 5798 §6.4.3)
    s.advert.addresses = cfg.vips;
    s.src = cfg.src;
    s.dst = dst;
    s.ip_id = ip_id;
    s.v3_checksum_as_v2 = cfg.v3_checksum_as_v2;
    return s;
}

// ---- the machine --------------------------------------------------------------------------

InstanceState initial_state(const InstanceConfig& cfg) noexcept {
    InstanceState s;
    s.base_priority = cfg.priority;
    s.effective_priority = cfg.priority;
    s.master_adver_int = cfg.adver_int;
    return s;
}

std::optional<TimePoint> next_deadline(const InstanceState& s) noexcept {
    std::optional<TimePoint> best;
    for (const auto& t : {s.timers.advert, s.timers.master_down, s.timers.garp_delay,
                          s.timers.garp_refresh, s.timers.garp_lower_prio}) {
        if (t && (!best || *t < *best)) {
            best = t;
        }
    }
    return best;
}

namespace {

bool due(const std::optional<TimePoint>& t, TimePoint now) { return t && *t <= now; }

/** One step in progress: the config, the state being changed, the actions so far. */
class Machine {
public:
    Machine(const InstanceConfig& cfg, const InstanceState& s, TimePoint now)
        : cfg_(cfg), s_(s), now_(now) {}

    Step finish() && {
        a_.next_deadline = next_deadline(s_);
        return Step{std::move(s_), std::move(a_)};
    }

    void operator()(const Start&) {
        if (s_.state != State::Init) {
            return;
        }
        if (s_.faulted()) {
            log("Entering FAULT STATE (init)");
            change(State::Fault);
            return;
        }
        s_.master_adver_int = cfg_.adver_int;
        // RFC 5798 §6.4.1: the owner goes MASTER at once (keepalived: 1 µs down timer).
        if (cfg_.is_owner() && !grouped()) {
            become_master();
            return;
        }
        log("Entering BACKUP STATE (init)");
        enter_backup();
    }

    void operator()(const AdvertReceived& e) {
        if (s_.state == State::Backup) {
            backup_rx(e);
        } else if (s_.state == State::Master) {
            master_rx(e);
        }
        // Init and Fault ignore adverts.
    }

    void operator()(const TimerFired&) {
        if (s_.state == State::Backup && due(s_.timers.master_down, now_)) {
            // RFC 5798 §6.4.2: Master_Down_Timer fired.
            log("Receive advertisement timeout");
            if (grouped()) {
                // keepalived vrrp_state_goto_master: a sync member only goes MASTER when every
                // member wants to; until then it stays BACKUP and re-arms its timer.
                s_.want_master = true;
                s_.timers.master_down = now_ + master_down();
                a_.list.emplace_back(RequestMaster{});
            } else {
                become_master();
            }
            return;
        }
        if (s_.state != State::Master) {
            return;
        }
        if (due(s_.timers.advert, now_)) {
            // RFC 5798 §6.4.3: Adver_Timer fired. Re-armed from now, as keepalived does.
            send_advert(s_.effective_priority);
            s_.timers.advert = now_ + cfg_.adver_int;
        }
        if (due(s_.timers.garp_delay, now_)) {
            s_.timers.garp_delay.reset();
            garp(cfg_.garp_master_repeat, GarpReason::MasterDelay);
        }
        if (due(s_.timers.garp_refresh, now_)) {
            s_.timers.garp_refresh = now_ + cfg_.garp_master_refresh;
            garp(cfg_.garp_master_refresh_repeat, GarpReason::Refresh);
        }
        if (due(s_.timers.garp_lower_prio, now_)) {
            s_.timers.garp_lower_prio.reset();
            garp(cfg_.garp_lower_prio_repeat, GarpReason::LowerPriorityDelay);
        }
    }

    void operator()(const FaultRaised&) {
        s_.own_fault = true;
        update_fault();
    }

    void operator()(const FaultCleared&) {
        s_.own_fault = false;
        update_fault();
    }

    void operator()(const SyncFault& e) {
        s_.sync_fault = e.on;
        update_fault();
    }

    void operator()(const Shutdown&) {
        if (s_.state == State::Init) {
            return;
        }
        if (s_.state == State::Master) {
            // RFC 5798 §6.4.3 Shutdown: "send an ADVERTISEMENT with Priority = 0".
            send_advert(kPriorityStop);
            log("sent 0 priority");
        }
        change(State::Init);
        s_.want_master = false;
    }

    void operator()(const PriorityChanged& e) {
        if (s_.base_priority == kPriorityOwner) {
            return;  // keepalived: trackers never change an owner's 255
        }
        s_.effective_priority = std::clamp<uint8_t>(e.priority, 1, kPriorityOwner - 1);
    }

    void operator()(const SyncPromote&) {
        if (s_.state == State::Backup && !s_.faulted()) {
            become_master();
        }
    }

    void operator()(const SyncDemote&) {
        if (s_.state == State::Master) {
            s_.master_adver_int = cfg_.adver_int;
            log("Entering BACKUP STATE");
            enter_backup();
        } else if (s_.state == State::Backup) {
            s_.want_master = false;
        }
    }

    void operator()(const SyncLowerPrioGarp&) {
        if (s_.state == State::Master) {
            lower_prio_garp();
        }
    }

private:
    bool grouped() const { return !cfg_.sync_group.empty(); }

    Duration skew() const {
        return skew_time(cfg_.version, s_.effective_priority, s_.master_adver_int);
    }

    Duration master_down() const {
        return master_down_interval(cfg_.version, s_.effective_priority, s_.master_adver_int,
                                    cfg_.down_timer_adverts);
    }

    void log(const std::string& text) { a_.list.emplace_back(Log{"(" + cfg_.name + ") " + text}); }

    void change(State to) {
        a_.list.emplace_back(StateChanged{s_.state, to});
        s_.state = to;
        s_.timers = Timers{};
    }

    void send_advert(uint8_t priority) { a_.list.emplace_back(SendAdvert{priority}); }

    void garp(uint32_t repeat, GarpReason why) {
        if (repeat != 0) {
            a_.list.emplace_back(SendGarp{repeat, why});
        }
    }

    void lower_prio_garp() {
        garp(cfg_.garp_lower_prio_repeat, GarpReason::LowerPriority);
        if (cfg_.garp_lower_prio_repeat != 0 && cfg_.garp_lower_prio_delay > Duration::zero()) {
            s_.timers.garp_lower_prio = now_ + cfg_.garp_lower_prio_delay;
        }
    }

    /** Into Backup with a fresh Master_Down_Timer (RFC 5798 §6.4.1 / §6.4.3). */
    void enter_backup() {
        change(State::Backup);
        s_.timers.master_down = now_ + master_down();
        s_.want_master = false;
        if (cfg_.is_owner() && grouped()) {
            // An owner wants MASTER at once; in a sync group it has to ask.
            s_.want_master = true;
            a_.list.emplace_back(RequestMaster{});
        }
    }

    /** keepalived vrrp_state_goto_master + vrrp_state_master_tx (keepalived.md §2.4). */
    void become_master() {
        s_.master_adver_int = cfg_.adver_int;  // "using locally configured advertisement interval"
        send_advert(s_.effective_priority);    // first, so the old master drops the VIPs
        log("Entering MASTER STATE");
        change(State::Master);
        s_.want_master = false;
        s_.master_addr.reset();
        garp(cfg_.garp_master_repeat, GarpReason::BecomeMaster);
        s_.timers.advert = now_ + cfg_.adver_int;
        if (cfg_.garp_master_repeat != 0 && cfg_.garp_master_delay > Duration::zero()) {
            s_.timers.garp_delay = now_ + cfg_.garp_master_delay;
        }
        if (cfg_.garp_master_refresh > Duration::zero()) {
            s_.timers.garp_refresh = now_ + cfg_.garp_master_refresh;
        }
    }

    void update_fault() {
        if (s_.state == State::Init) {
            return;  // Start looks at the flags
        }
        if (s_.faulted() && s_.state != State::Fault) {
            if (s_.state == State::Master) {
                // keepalived vrrp_state_leave_master(FAULT): priority 0 so a backup takes over
                // after Skew_Time instead of Master_Down_Interval.
                send_advert(kPriorityStop);
            }
            log("Entering FAULT STATE");
            change(State::Fault);
            s_.want_master = false;
            s_.master_adver_int = cfg_.adver_int;
        } else if (!s_.faulted() && s_.state == State::Fault) {
            // keepalived vrrp_state_leave_fault / try_up_instance.
            s_.master_adver_int = cfg_.adver_int;
            if (cfg_.is_owner() && !grouped()) {
                become_master();
                return;
            }
            log("Entering BACKUP STATE");
            enter_backup();
        }
    }

    std::string from(const AdvertReceived& e) const { return e.src.to_string(); }

    /** RFC 5798 §6.4.2 "MUST do the following" on an ADVERTISEMENT, keepalived's variant. */
    void backup_rx(const AdvertReceived& e) {
        const uint8_t prio = e.advert.priority;
        if (prio == kPriorityStop) {
            log("Backup received priority 0 advertisement");
            s_.timers.master_down = now_ + skew();
            return;
        }
        const bool preempt_window = cfg_.preempt_delay > Duration::zero() &&
                                    (!s_.timers.preempt_until || *s_.timers.preempt_until > now_);
        if (!cfg_.preempt || prio >= s_.effective_priority || preempt_window) {
            if (cfg_.version == 3 && e.advert.adver_int != s_.master_adver_int) {
                // RFC 5798 §6.4.2: "Set Master_Adver_Interval to Adver Interval contained in
                // the ADVERTISEMENT".
                log("advertisement interval updated to " +
                    std::to_string(e.advert.adver_int.count() / 1000) + " milli-sec from " +
                    std::to_string(s_.master_adver_int.count() / 1000) + " milli-sec");
                s_.master_adver_int = e.advert.adver_int;
            }
            s_.timers.master_down = now_ + master_down();
            s_.master_addr = e.src;
            s_.master_priority = prio;
            s_.want_master = false;
            if (cfg_.preempt_delay > Duration::zero()) {
                if (prio >= s_.effective_priority) {
                    s_.timers.preempt_until.reset();  // "stop preempt delay"
                } else if (!s_.timers.preempt_until) {
                    s_.timers.preempt_until = now_ + cfg_.preempt_delay;  // "start preempt delay"
                }
            }
            return;
        }
        // Preempting: ignore it and let Master_Down_Timer run out.
        log("received lower priority (" + std::to_string(prio) + ") advert from " + from(e) +
            " - discarding");
        s_.master_addr = e.src;
    }

    /** RFC 5798 §6.4.3 (RFC 9568 for the lower-priority answer), keepalived's variant. */
    void master_rx(const AdvertReceived& e) {
        const uint8_t prio = e.advert.priority;
        const auto cmp = e.src <=> cfg_.src;  // numeric, as keepalived's vrrp_saddr_cmp
        const bool higher =
            prio > s_.effective_priority || (prio == s_.effective_priority && cmp > 0);
        if (prio == kPriorityStop) {
            log("Master received priority 0 message");
            send_advert(s_.effective_priority);
            return;
        }
        if (prio == s_.effective_priority && cmp == 0) {
            log("WARNING - equal priority advert received from remote host with our IP address.");
            return;
        }
        if (prio == kPriorityOwner && s_.effective_priority == kPriorityOwner && cmp > 0) {
            // Two owners: the lower address yields (keepalived.md §2.4).
            log("CONFIGURATION ERROR: local instance and a remote instance are both configured "
                "as address owner, please fix - reducing local priority");
            s_.base_priority = kPriorityOwner - 1;
            s_.effective_priority = kPriorityOwner - 1;
        }
        if (!higher) {
            log("Received advert from " + from(e) + " with lower priority " + std::to_string(prio) +
                ", ours " + std::to_string(s_.effective_priority) +
                (cfg_.lower_prio_no_advert ? "" : ", forcing new election"));
            if (!cfg_.lower_prio_no_advert) {
                send_advert(s_.effective_priority);
            }
            lower_prio_garp();
            return;
        }
        if (prio > s_.effective_priority) {
            log("Master received advert from " + from(e) + " with higher priority " +
                std::to_string(prio) + ", ours " + std::to_string(s_.effective_priority));
        } else {
            log("Master received advert from " + from(e) + " with same priority " +
                std::to_string(prio) + " but higher IP address than ours");
        }
        if (cfg_.higher_prio_send_advert) {
            send_advert(s_.effective_priority);
        }
        // RFC 5798 §6.4.3: v3 adopts the new master's interval before arming the down timer.
        s_.master_adver_int = cfg_.version == 3 ? e.advert.adver_int : cfg_.adver_int;
        log("Entering BACKUP STATE");
        enter_backup();
        s_.master_addr = e.src;
        s_.master_priority = prio;
    }

    const InstanceConfig& cfg_;
    InstanceState s_;
    TimePoint now_;
    Actions a_;
};

}  // namespace

bool same_identity(const InstanceConfig& a, const InstanceConfig& b) noexcept {
    return a.name == b.name && a.interface == b.interface && a.vrid == b.vrid &&
           a.version == b.version && a.family == b.family;
}

Step reconfigure(const InstanceConfig& from, const InstanceConfig& to, const InstanceState& state,
                 TimePoint now) {
    InstanceState s = state;
    Actions a;
    auto log = [&](const std::string& text) {
        a.list.emplace_back(Log{"(" + to.name + ") " + text});
    };
    auto earliest = [](std::optional<TimePoint>& t, TimePoint limit) {
        if (!t || *t > limit) {
            t = limit;
        }
    };

    if (to.priority != from.priority) {
        log("priority changed from " + std::to_string(from.priority) + " to " +
            std::to_string(to.priority));
        s.base_priority = to.priority;
        s.effective_priority = to.priority;
    }
    const bool advert_changed = to.priority != from.priority || to.adver_int != from.adver_int ||
                                to.vips != from.vips || to.auth_type != from.auth_type ||
                                to.auth_data != from.auth_data ||
                                to.unicast_peers != from.unicast_peers || to.src != from.src ||
                                to.v3_checksum_as_v2 != from.v3_checksum_as_v2;
    if (to.sync_group.empty()) {
        s.want_master = false;
    }
    if (to.preempt_delay == Duration::zero() || !to.preempt) {
        s.timers.preempt_until.reset();
    }

    if (s.state == State::Master) {
        s.master_adver_int = to.adver_int;
        if (advert_changed) {
            // Tell the peers at once (their down timers and VIP checks follow the new advert);
            // the Adver_Timer restarts from this advert with the new interval.
            a.list.emplace_back(SendAdvert{s.effective_priority});
            s.timers.advert = now + to.adver_int;
        } else {
            earliest(s.timers.advert, now + to.adver_int);
        }
        if (to.garp_master_repeat == 0 || to.garp_master_delay == Duration::zero()) {
            s.timers.garp_delay.reset();
        }
        if (to.garp_master_refresh == Duration::zero()) {
            s.timers.garp_refresh.reset();
        } else if (to.garp_master_refresh != from.garp_master_refresh || !s.timers.garp_refresh) {
            s.timers.garp_refresh = now + to.garp_master_refresh;
        }
        if (to.garp_lower_prio_repeat == 0 || to.garp_lower_prio_delay == Duration::zero()) {
            s.timers.garp_lower_prio.reset();
        }
    } else if (s.state == State::Backup) {
        // v2 peers all use the configured interval; a v3 backup keeps the master's (RFC 5798
        // §6.4.2) unless it has heard no master yet.
        if (to.version == 2 || !s.master_addr) {
            s.master_adver_int = to.adver_int;
        }
        if (advert_changed || to.down_timer_adverts != from.down_timer_adverts) {
            earliest(s.timers.master_down,
                     now + master_down_interval(to.version, s.effective_priority,
                                                s.master_adver_int, to.down_timer_adverts));
        }
        if (to.is_owner() && !from.is_owner() && to.sync_group.empty()) {
            earliest(s.timers.master_down, now);  // keepalived: an owner's down timer is 1 µs
        }
    } else {
        s.master_adver_int = to.adver_int;
    }
    a.next_deadline = next_deadline(s);
    return Step{std::move(s), std::move(a)};
}

Step step(const InstanceConfig& cfg, const InstanceState& state, const Event& event,
          TimePoint now) {
    Machine m(cfg, state, now);
    std::visit(m, event);
    return std::move(m).finish();
}

}  // namespace director::vrrp
