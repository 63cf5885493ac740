// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/sync_group.h"

#include <algorithm>

namespace director::vrrp {

std::vector<Action> Output::actions_of(std::size_t instance) const {
    std::vector<Action> out;
    for (const InstanceOutput& o : instances) {
        if (o.instance == instance) {
            out.insert(out.end(), o.actions.list.begin(), o.actions.list.end());
        }
    }
    return out;
}

Result<InstanceSet> InstanceSet::create(std::vector<InstanceConfig> instances,
                                        std::span<const config::VrrpSyncGroup> groups) {
    InstanceSet set;
    for (std::size_t i = 0; i < instances.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const InstanceConfig& a = instances[i];
            const InstanceConfig& b = instances[j];
            if (a.name == b.name) {
                return make_error("two vrrp_instances are named " + a.name);
            }
            if (a.interface == b.interface && a.family == b.family && a.vrid == b.vrid) {
                return make_error("vrrp_instances " + b.name + " and " + a.name +
                                  " share virtual_router_id " + std::to_string(a.vrid) + " on " +
                                  a.interface);
            }
        }
        instances[i].sync_group.clear();
    }
    set.group_of_.assign(instances.size(), std::nullopt);
    for (const config::VrrpSyncGroup& g : groups) {
        GroupConfig gc;
        gc.name = g.name;
        auto scripts = NotifyScripts::create(g.notify_master, g.notify_backup, g.notify_fault,
                                             std::nullopt, g.notify);
        if (!scripts) {
            return make_error("vrrp_sync_group " + g.name + ": " + scripts.error().message);
        }
        gc.notify = std::move(*scripts);
        for (const std::string& member : g.group) {
            auto it = std::find_if(instances.begin(), instances.end(),
                                   [&](const InstanceConfig& c) { return c.name == member; });
            if (it == instances.end()) {
                return make_error("vrrp_sync_group " + g.name + ": no vrrp_instance " + member);
            }
            const auto idx = static_cast<std::size_t>(it - instances.begin());
            if (set.group_of_[idx]) {
                return make_error("vrrp_instance " + member + " is in two sync groups (" +
                                  it->sync_group + ", " + g.name + ")");
            }
            set.group_of_[idx] = set.groups_.size();
            it->sync_group = g.name;
            gc.members.push_back(idx);
        }
        set.groups_.push_back(std::move(gc));
        set.group_states_.push_back(State::Init);
    }
    set.instances_.reserve(instances.size());
    for (InstanceConfig& c : instances) {
        set.instances_.emplace_back(std::move(c));
    }
    return set;
}

Result<std::vector<InstanceConfig>> InstanceSet::instance_configs(const config::Config& c) {
    std::vector<InstanceConfig> instances;
    for (const config::VrrpInstance& vi : c.vrrp_instances) {
        auto src = source_address(c, vi);
        if (!src) {
            return Unexpected<Error>{src.error()};
        }
        auto ic = make_instance_config(vi, *src);
        if (!ic) {
            return Unexpected<Error>{ic.error()};
        }
        instances.push_back(std::move(*ic));
    }
    return instances;
}

Result<InstanceSet> InstanceSet::create(const config::Config& c) {
    auto instances = instance_configs(c);
    if (!instances) {
        return Unexpected<Error>{instances.error()};
    }
    return create(std::move(*instances), c.vrrp_sync_groups);
}

Result<Reconfigured> InstanceSet::reconfigure(const config::Config& c, TimePoint now) {
    auto instances = instance_configs(c);
    if (!instances) {
        return Unexpected<Error>{instances.error()};
    }
    return reconfigure(std::move(*instances), c.vrrp_sync_groups, now);
}

Result<Reconfigured> InstanceSet::reconfigure(std::vector<InstanceConfig> instances,
                                              std::span<const config::VrrpSyncGroup> groups,
                                              TimePoint now) {
    auto built = create(std::move(instances), groups);
    if (!built) {
        return Unexpected<Error>{built.error()};
    }
    // Nothing below fails: from here on the reload is committed.
    InstanceSet next = std::move(*built);
    Reconfigured r;
    r.previous.assign(next.size(), std::nullopt);
    std::vector<bool> kept(instances_.size(), false);
    for (std::size_t j = 0; j < next.size(); ++j) {
        const InstanceConfig& to = next.config(j);
        for (std::size_t i = 0; i < instances_.size(); ++i) {
            if (kept[i] || !same_identity(instances_[i].config(), to)) {
                continue;
            }
            kept[i] = true;
            r.previous[j] = i;
            Actions a = next.instances_[j].carry_from(instances_[i], now);
            if (!a.list.empty()) {
                r.output.instances.push_back(InstanceOutput{j, std::move(a)});
            }
            const std::vector<net::IpAddress>& was = instances_[i].config().vips;
            VipChange vc{j, {}, {}};
            for (const net::IpAddress& v : to.vips) {
                if (std::find(was.begin(), was.end(), v) == was.end()) {
                    vc.added.push_back(v);
                }
            }
            for (const net::IpAddress& v : was) {
                if (std::find(to.vips.begin(), to.vips.end(), v) == to.vips.end()) {
                    vc.removed.push_back(v);
                }
            }
            if (!vc.added.empty() || !vc.removed.empty()) {
                r.vip_changes.push_back(std::move(vc));
            }
            break;
        }
    }
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        if (!kept[i]) {
            // keepalived: a deleted instance leaves as on stop (priority 0 from a MASTER).
            Actions a = instances_[i].handle(Shutdown{}, now);
            r.removed.push_back(RemovedInstance{i, instances_[i].config(), std::move(a)});
        }
    }
    for (std::size_t g = 0; g < next.groups_.size(); ++g) {
        for (std::size_t h = 0; h < groups_.size(); ++h) {
            if (groups_[h].name == next.groups_[g].name) {
                next.group_states_[g] = group_states_[h];
            }
        }
    }
    next.down_ports_ = std::move(down_ports_);
    next.started_ = started_;
    *this = std::move(next);

    // Faults: own ones from link state and the (new) track_ports, then every group's members
    // mirror their group again; an instance that left its group drops the sibling's fault.
    refresh_faults(now, r.output);
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        if (!group_of_[i] && instances_[i].state().sync_fault) {
            deliver(i, SyncFault{false}, now, r.output);
        }
    }
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        if (!groups_[g].members.empty()) {
            coordinate(g, groups_[g].members.front(), Actions{}, now, r.output);
        }
    }
    if (started_) {
        for (std::size_t j = 0; j < instances_.size(); ++j) {
            if (!r.previous[j]) {
                apply(j, Start{}, now, r.output);
            }
        }
    }
    finish(r.output);
    return r;
}

bool InstanceSet::tracks_down_port(std::size_t i) const {
    const InstanceConfig& c = instances_[i].config();
    if (down_ports_.contains(c.interface)) {
        return true;
    }
    return std::any_of(c.track_ports.begin(), c.track_ports.end(),
                       [&](const std::string& p) { return down_ports_.contains(p); });
}

void InstanceSet::refresh_faults(TimePoint now, Output& out) {
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        const bool fault = tracks_down_port(i);
        if (fault != instances_[i].state().own_fault) {
            apply(i, fault ? Event{FaultRaised{}} : Event{FaultCleared{}}, now, out);
        }
    }
}

Output InstanceSet::set_port_link(std::string_view port, bool up, TimePoint now) {
    Output out;
    bool changed = false;
    if (up) {
        if (auto it = down_ports_.find(port); it != down_ports_.end()) {
            down_ports_.erase(it);
            changed = true;
        }
    } else {
        changed = down_ports_.emplace(port).second;
    }
    if (changed) {
        refresh_faults(now, out);
    }
    finish(out);
    return out;
}

bool InstanceSet::port_down(std::string_view port) const noexcept {
    return down_ports_.find(port) != down_ports_.end();
}

std::optional<std::size_t> InstanceSet::find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        if (instances_[i].config().name == name) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> InstanceSet::find(std::string_view interface, net::Family family,
                                             uint8_t vrid) const noexcept {
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        const InstanceConfig& c = instances_[i].config();
        if (c.vrid == vrid && c.family == family && c.interface == interface) {
            return i;
        }
    }
    return std::nullopt;
}

Output InstanceSet::start(TimePoint now) {
    started_ = true;
    Output out;
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        apply(i, Start{}, now, out);
    }
    finish(out);
    return out;
}

Output InstanceSet::handle(std::size_t i, const Event& e, TimePoint now) {
    Output out;
    apply(i, e, now, out);
    finish(out);
    return out;
}

Output InstanceSet::on_timer(TimePoint now) {
    Output out;
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        const auto d = instances_[i].next_deadline();
        if (d && *d <= now) {
            apply(i, TimerFired{}, now, out);
        }
    }
    finish(out);
    return out;
}

Output InstanceSet::shutdown(TimePoint now) {
    started_ = false;
    Output out;
    for (std::size_t i = 0; i < instances_.size(); ++i) {
        deliver(i, Shutdown{}, now, out);
    }
    finish(out);
    return out;
}

std::optional<TimePoint> InstanceSet::next_deadline() const noexcept {
    std::optional<TimePoint> best;
    for (const Instance& inst : instances_) {
        const auto d = inst.next_deadline();
        if (d && (!best || *d < *best)) {
            best = d;
        }
    }
    return best;
}

void InstanceSet::deliver(std::size_t i, const Event& e, TimePoint now, Output& out) {
    Actions a = instances_[i].handle(e, now);
    if (!a.list.empty()) {
        out.instances.push_back(InstanceOutput{i, std::move(a)});
    }
}

void InstanceSet::apply(std::size_t i, const Event& e, TimePoint now, Output& out) {
    Actions a = instances_[i].handle(e, now);
    const std::optional<std::size_t> g = group_of_[i];
    if (!a.list.empty()) {
        out.instances.push_back(InstanceOutput{i, a});
    }
    if (g) {
        coordinate(*g, i, a, now, out);
    }
}

void InstanceSet::coordinate(std::size_t g, std::size_t i, const Actions& a, TimePoint now,
                             Output& out) {
    const std::vector<std::size_t>& members = groups_[g].members;
    auto st = [&](std::size_t j) -> const InstanceState& { return instances_[j].state(); };

    // FAULT: every member mirrors "some member has a fault of its own".
    const bool group_fault =
        std::any_of(members.begin(), members.end(), [&](std::size_t j) { return st(j).own_fault; });
    for (std::size_t j : members) {
        if (st(j).sync_fault != group_fault) {
            deliver(j, SyncFault{group_fault}, now, out);
        }
    }

    for (const Action& act : a.list) {
        if (const auto* sc = std::get_if<StateChanged>(&act)) {
            if (sc->from == State::Master && sc->to == State::Backup) {
                // vrrp_sync_backup: the others follow, without priority 0.
                for (std::size_t j : members) {
                    if (j != i && st(j).state == State::Master) {
                        deliver(j, SyncDemote{}, now, out);
                    }
                }
            }
        } else if (std::holds_alternative<RequestMaster>(act)) {
            // vrrp_sync_can_goto_master: only when every other member wants MASTER too.
            const bool all_want = std::all_of(members.begin(), members.end(), [&](std::size_t j) {
                return j == i || st(j).state == State::Master ||
                       (st(j).state == State::Backup && st(j).want_master);
            });
            if (all_want && st(i).state == State::Backup && st(i).want_master) {
                deliver(i, SyncPromote{}, now, out);
                for (std::size_t j : members) {
                    if (j != i && st(j).state == State::Backup) {
                        deliver(j, SyncPromote{}, now, out);  // vrrp_sync_master
                    }
                }
            }
        } else if (const auto* garp = std::get_if<SendGarp>(&act)) {
            if (garp->reason == GarpReason::LowerPriority) {
                for (std::size_t j : members) {
                    if (j != i && st(j).state == State::Master) {
                        deliver(j, SyncLowerPrioGarp{}, now, out);
                    }
                }
            }
        }
    }
}

State InstanceSet::derive_group_state(std::size_t g) const {
    const std::vector<std::size_t>& m = groups_[g].members;
    auto all = [&](State s) {
        return std::all_of(m.begin(), m.end(),
                           [&](std::size_t j) { return instances_[j].state().state == s; });
    };
    if (std::any_of(m.begin(), m.end(),
                    [&](std::size_t j) { return instances_[j].state().state == State::Fault; })) {
        return State::Fault;
    }
    if (m.empty() || all(State::Init)) {
        return State::Init;
    }
    if (all(State::Master)) {
        return State::Master;
    }
    return State::Backup;
}

void InstanceSet::finish(Output& out) {
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const State now_state = derive_group_state(g);
        if (now_state != group_states_[g]) {
            out.groups.push_back(GroupStateChanged{g, group_states_[g], now_state});
            group_states_[g] = now_state;
        }
    }
    out.next_deadline = next_deadline();
}

}  // namespace director::vrrp
