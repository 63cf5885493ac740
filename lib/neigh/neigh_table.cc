// SPDX-License-Identifier: BSD-3-Clause
#include "neigh/neigh_table.h"

#include <string>

namespace director::neigh {
namespace {

bool bad_mac(const net::MacAddress& mac) noexcept { return mac.is_multicast() || mac.is_zero(); }

bool has_mac(State s) noexcept { return s != State::Incomplete; }

}  // namespace

Result<void> validate(const TableConfig& c) {
    const Duration zero{0};
    if (c.reachable_time <= zero) {
        return make_error("neigh.reachable_time: must be positive");
    }
    if (c.retrans_interval <= zero) {
        return make_error("neigh.retrans_interval: must be positive");
    }
    if (c.resolve_slow_interval < c.retrans_interval) {
        return make_error("neigh.resolve_slow_interval: must not be shorter than retrans_interval");
    }
    if (c.request_min_interval < zero) {
        return make_error("neigh.request_min_interval: must not be negative");
    }
    if (c.refresh_percent < 1 || c.refresh_percent > 100) {
        return make_error("neigh.refresh_percent: must be 1..100, is " +
                          std::to_string(c.refresh_percent));
    }
    const uint64_t probes = uint64_t{c.unicast_probes} + c.broadcast_probes;
    if (probes == 0) {
        return make_error("neigh.unicast_probes + broadcast_probes: at least one refresh probe");
    }
    // The MAC is withdrawn one retrans_interval after the last refresh probe; that must happen
    // no later than reachable_time after the last confirmation.
    if (probes > 1000000 ||
        c.refresh_after() + c.retrans_interval * static_cast<int64_t>(probes) > c.reachable_time) {
        return make_error(
            "neigh.reachable_time: shorter than the refresh (refresh_percent) plus "
            "(unicast_probes + broadcast_probes) * retrans_interval");
    }
    return {};
}

const char* to_string(State s) noexcept {
    switch (s) {
        case State::Incomplete:
            return "Incomplete";
        case State::Reachable:
            return "Reachable";
        case State::Stale:
            return "Stale";
        case State::Probe:
            return "Probe";
        case State::Static:
            return "Static";
    }
    return "Invalid";
}

Result<std::unique_ptr<NeighbourTable>> NeighbourTable::create(const TableConfig& config) {
    if (auto ok = validate(config); !ok) {
        return Unexpected<Error>{ok.error()};
    }
    return std::unique_ptr<NeighbourTable>(new NeighbourTable(config));
}

bool NeighbourTable::want(uint16_t port, const net::IpAddress& ip, TimePoint now) {
    const auto [it, created] = entries_.try_emplace(PortAddress{port, ip});
    Entry& e = it->second;
    if (created) {
        e.next_probe = now;
        return true;
    }
    if (e.state != State::Static) {
        return false;
    }
    // A configured MAC the operator no longer pins: keep publishing it, but verify it now.
    e.state = State::Stale;
    e.confirmed = now;
    e.probes = 0;
    e.next_probe = now;
    return true;
}

bool NeighbourTable::want_static(uint16_t port, const net::IpAddress& ip,
                                 const net::MacAddress& mac) {
    if (bad_mac(mac)) {
        return false;
    }
    Entry& e = entries_[PortAddress{port, ip}];
    if (!has_mac(e.state) || e.mac != mac) {
        ++version_;
    }
    e = Entry{};
    e.state = State::Static;
    e.mac = mac;
    return true;
}

bool NeighbourTable::forget(uint16_t port, const net::IpAddress& ip) {
    const auto it = entries_.find(PortAddress{port, ip});
    if (it == entries_.end()) {
        return false;
    }
    if (has_mac(it->second.state)) {
        ++version_;
    }
    entries_.erase(it);
    return true;
}

LearnResult NeighbourTable::on_learn(uint16_t port, const net::IpAddress& ip,
                                     const net::MacAddress& mac, TimePoint now) {
    if (bad_mac(mac)) {
        ++counters_.learn_invalid;
        return LearnResult::Invalid;
    }
    const auto it = entries_.find(PortAddress{port, ip});
    if (it == entries_.end()) {
        ++counters_.learn_not_wanted;
        return LearnResult::NotWanted;
    }
    Entry& e = it->second;
    if (e.state == State::Static) {
        ++counters_.learn_static;
        return LearnResult::Static;
    }
    const bool had = has_mac(e.state);
    const bool changed = had && e.mac != mac;
    e.state = State::Reachable;
    e.mac = mac;
    e.confirmed = now;
    e.probes = 0;
    if (!had) {
        ++counters_.resolved;
        ++version_;
        return LearnResult::Resolved;
    }
    if (changed) {
        ++counters_.mac_changed;
        ++version_;
        return LearnResult::Changed;
    }
    ++counters_.confirmed;
    return LearnResult::Confirmed;
}

Duration NeighbourTable::resolve_interval(const Entry& e) const noexcept {
    return e.probes < config_.resolve_fast_probes ? config_.retrans_interval
                                                  : config_.resolve_slow_interval;
}

Probe NeighbourTable::send(const PortAddress& key, Entry& e, bool unicast, TimePoint now) {
    ++e.probes;
    e.last_probe = now;
    if (unicast) {
        ++counters_.probes_unicast;
        e.next_probe = now + config_.retrans_interval;
        return Probe{.port = key.port, .target = key.ip, .unicast_to = e.mac};
    }
    ++counters_.probes_broadcast;
    e.next_probe =
        now + (e.state == State::Incomplete ? resolve_interval(e) : config_.retrans_interval);
    return Probe{.port = key.port, .target = key.ip, .unicast_to = std::nullopt};
}

std::optional<Probe> NeighbourTable::request(uint16_t port, const net::IpAddress& ip,
                                             TimePoint now) {
    const auto it = entries_.find(PortAddress{port, ip});
    if (it == entries_.end() || it->second.state != State::Incomplete) {
        ++counters_.requests_ignored;
        return std::nullopt;
    }
    Entry& e = it->second;
    if (e.last_probe && now - *e.last_probe < config_.request_min_interval) {
        ++counters_.requests_rate_limited;
        return std::nullopt;
    }
    ++counters_.requests;
    return send(it->first, e, false, now);
}

// One entry's timers. Each case either waits (break out) or moves to the next state and falls
// through, so a poll after a long gap still walks the states in order, one probe at most.
void NeighbourTable::run_timers(const PortAddress& key, Entry& e, TimePoint now,
                                std::vector<Probe>& out) {
    switch (e.state) {
        case State::Static:
            return;
        case State::Reachable:
            if (now < e.confirmed + config_.refresh_after()) {
                return;
            }
            e.state = State::Stale;
            e.probes = 0;
            e.next_probe = e.confirmed + config_.refresh_after();
            [[fallthrough]];
        case State::Stale:
            if (now < e.next_probe) {
                return;
            }
            if (e.probes < config_.unicast_probes) {
                out.push_back(send(key, e, true, now));
                return;
            }
            // RFC 1122 2.3.2.1: the unicast poll failed; the neighbour may have a new MAC.
            e.state = State::Probe;
            e.probes = 0;
            [[fallthrough]];
        case State::Probe:
            if (now < e.next_probe) {
                return;
            }
            if (e.probes < config_.broadcast_probes) {
                out.push_back(send(key, e, false, now));
                return;
            }
            // No answer to any refresh probe: withdraw the MAC so workers stop sending to a
            // dead host, and keep resolving in the slow phase (the fast one just happened).
            e.state = State::Incomplete;
            e.mac = {};
            e.probes = config_.resolve_fast_probes;
            e.next_probe = e.last_probe ? *e.last_probe + config_.resolve_slow_interval : now;
            ++counters_.expired;
            ++version_;
            [[fallthrough]];
        case State::Incomplete:
            if (now < e.next_probe) {
                return;
            }
            out.push_back(send(key, e, false, now));
            return;
    }
}

std::vector<Probe> NeighbourTable::poll(TimePoint now) {
    std::vector<Probe> out;
    for (auto& [key, e] : entries_) {
        run_timers(key, e, now, out);
    }
    return out;
}

std::optional<TimePoint> NeighbourTable::next_deadline() const noexcept {
    std::optional<TimePoint> next;
    for (const auto& [key, e] : entries_) {
        if (e.state == State::Static) {
            continue;
        }
        const TimePoint t =
            e.state == State::Reachable ? e.confirmed + config_.refresh_after() : e.next_probe;
        if (!next || t < *next) {
            next = t;
        }
    }
    return next;
}

std::optional<net::MacAddress> NeighbourTable::lookup(uint16_t port,
                                                      const net::IpAddress& ip) const noexcept {
    const auto it = entries_.find(PortAddress{port, ip});
    if (it == entries_.end() || !has_mac(it->second.state)) {
        return std::nullopt;
    }
    return it->second.mac;
}

std::optional<State> NeighbourTable::state(uint16_t port, const net::IpAddress& ip) const noexcept {
    const auto it = entries_.find(PortAddress{port, ip});
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return it->second.state;
}

std::vector<Resolved> NeighbourTable::resolved() const {
    std::vector<Resolved> out;
    for (const auto& [key, e] : entries_) {
        if (has_mac(e.state)) {
            out.push_back(Resolved{.port = key.port, .ip = key.ip, .mac = e.mac});
        }
    }
    return out;
}

uint32_t build_probe(std::span<uint8_t> out, const Link& link, const net::IpAddress& src_ip,
                     const Probe& probe) noexcept {
    if (src_ip.family() != probe.target.family()) {
        return 0;
    }
    if (probe.target.is_v4()) {
        return build_arp_request(out, link, src_ip, probe.target, probe.unicast_to);
    }
    return build_ns(out, link, src_ip, probe.target, probe.unicast_to);
}

}  // namespace director::neigh
