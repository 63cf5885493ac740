// SPDX-License-Identifier: BSD-3-Clause
#include "control/vrrp_service.h"

#include <array>
#include <variant>

#include "control/log.h"
#include "net/parse.h"
#include "vrrp/codec.h"

namespace director::ctl {

namespace {

/** keepalived's notify scripts get a few seconds; a hung script must not pile up. */
constexpr vrrp::Duration kNotifyTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxAdvertFrame = 1600;

}  // namespace

Result<std::vector<VrrpService::Binding>> VrrpService::bind(
    std::span<const vrrp::InstanceConfig> instances, const config::Config& config,
    std::span<const NeighPort> ports) {
    std::vector<Binding> bindings;
    for (const vrrp::InstanceConfig& ic : instances) {
        Binding b;
        bool found = false;
        for (std::size_t p = 0; p < config.ports.size() && p < ports.size(); ++p) {
            if (config.ports[p].name == ic.interface) {
                b.port_id = ports[p].port_id;
                b.mac = ports[p].mac;
                found = true;
            }
        }
        if (!found) {
            return make_error("vrrp instance '" + ic.name + "': interface '" + ic.interface +
                              "' is not a started port");
        }
        bindings.push_back(b);
    }
    return bindings;
}

Result<std::vector<VrrpService::Binding>> VrrpService::bind(const vrrp::InstanceSet& set,
                                                            const config::Config& config,
                                                            std::span<const NeighPort> ports) {
    std::vector<vrrp::InstanceConfig> instances;
    for (std::size_t i = 0; i < set.size(); ++i) {
        instances.push_back(set.config(i));
    }
    return bind(instances, config, ports);
}

Result<std::unique_ptr<VrrpService>> VrrpService::create(const config::Config& config,
                                                         std::span<const NeighPort> ports,
                                                         ControlTx& tx,
                                                         NeighbourService& neighbours) {
    auto set = vrrp::InstanceSet::create(config);
    if (!set) {
        return make_error("vrrp: " + set.error().message);
    }
    auto bindings = bind(*set, config, ports);
    if (!bindings) {
        return Unexpected<Error>{bindings.error()};
    }
    std::unique_ptr<VrrpService> s(new VrrpService(std::move(*set), tx, neighbours));
    s->ports_.assign(ports.begin(), ports.end());
    for (const config::Port& p : config.ports) {
        s->port_names_.push_back(p.name);
    }
    s->bindings_ = std::move(*bindings);
    return s;
}

Result<void> VrrpService::check(const config::Config& config,
                                std::span<const NeighPort> ports) const {
    auto instances = vrrp::InstanceSet::instance_configs(config);
    if (!instances) {
        return make_error("vrrp: " + instances.error().message);
    }
    auto bindings = bind(*instances, config, ports);
    if (!bindings) {
        return Unexpected<Error>{bindings.error()};
    }
    // The set's own rules (names, VRIDs per interface, sync groups) on a throw-away copy.
    auto set = vrrp::InstanceSet::create(std::move(*instances), config.vrrp_sync_groups);
    if (!set) {
        return make_error("vrrp: " + set.error().message);
    }
    return {};
}

Result<void> VrrpService::reconfigure(const config::Config& config,
                                      std::span<const NeighPort> ports, vrrp::TimePoint now) {
    if (auto ok = check(config, ports); !ok) {
        return ok;
    }
    auto instances = vrrp::InstanceSet::instance_configs(config);
    auto bindings = bind(*instances, config, ports);
    auto r = set_.reconfigure(std::move(*instances), config.vrrp_sync_groups, now);
    if (!r) {
        return make_error("vrrp: " + r.error().message);  // check() passed: not expected
    }
    // Removed instances leave first, on their old bindings (priority 0 from a MASTER).
    for (vrrp::RemovedInstance& gone : r->removed) {
        DIRECTOR_LOG(INFO, "(%s) removed by reload", gone.config.name.c_str());
        apply_actions(gone.previous, gone.config, bindings_[gone.previous], gone.actions.list, now);
    }
    for (std::size_t j = 0; j < bindings->size(); ++j) {
        if (const auto prev = r->previous[j]) {
            (*bindings)[j].ip_id = bindings_[*prev].ip_id;  // keepalived keeps counting
        }
    }
    bindings_ = std::move(*bindings);
    ports_.assign(ports.begin(), ports.end());
    port_names_.clear();
    for (const config::Port& p : config.ports) {
        port_names_.push_back(p.name);
    }
    for (std::size_t j = 0; j < set_.size(); ++j) {
        neighbours_.set_master(j, set_.state(j).state == vrrp::State::Master);
        if (!r->previous[j]) {
            DIRECTOR_LOG(INFO, "(%s) added by reload", set_.config(j).name.c_str());
        }
    }
    apply(r->output, now);
    // A MASTER whose VIP set grew announces the new VIPs (the removed ones stop being answered
    // when NeighbourService is configured with the new VIP list).
    for (const vrrp::VipChange& vc : r->vip_changes) {
        const vrrp::InstanceConfig& cfg = set_.config(vc.instance);
        DIRECTOR_LOG(INFO, "(%s) reload: %zu virtual address(es) added, %zu removed",
                     cfg.name.c_str(), vc.added.size(), vc.removed.size());
        if (set_.state(vc.instance).state != vrrp::State::Master) {
            continue;
        }
        const config::VrrpInstance& vi = config.vrrp_instances[vc.instance];
        for (const net::IpAddress& added : vc.added) {
            for (const config::VirtualIp& vip : vi.virtual_ipaddress) {
                const auto port = port_id(vip.dev.empty() ? vi.interface : vip.dev);
                if (vip.address.address != added || !port) {
                    continue;
                }
                for (uint32_t n = 0; n < cfg.garp_master_repeat; ++n) {
                    neighbours_.announce(*port, added);
                }
            }
        }
    }
    DIRECTOR_LOG(INFO, "vrrp reloaded: %zu instance(s), %zu removed, %zu group(s)", set_.size(),
                 r->removed.size(), set_.group_count());
    return {};
}

std::optional<uint16_t> VrrpService::port_id(const std::string& name) const {
    for (std::size_t p = 0; p < ports_.size() && p < port_names_.size(); ++p) {
        if (port_names_[p] == name) {
            return ports_[p].port_id;
        }
    }
    return std::nullopt;
}

void VrrpService::set_port_link(uint16_t port_id, bool up, vrrp::TimePoint now) {
    for (std::size_t p = 0; p < ports_.size() && p < port_names_.size(); ++p) {
        if (ports_[p].port_id != port_id) {
            continue;
        }
        const std::string& name = port_names_[p];
        if (set_.port_down(name) == up) {
            // keepalived: "Netlink reports eth0 down" / "... up"
            DIRECTOR_LOG(NOTICE, "port %s (%u) reports link %s", name.c_str(),
                         static_cast<unsigned>(port_id), up ? "up" : "down");
        }
        apply(set_.set_port_link(name, up, now), now);
        return;
    }
}

void VrrpService::start(vrrp::TimePoint now) {
    for (std::size_t i = 0; i < set_.size(); ++i) {
        neighbours_.set_master(i, false);
    }
    apply(set_.start(now), now);
}

void VrrpService::on_frame(uint16_t port, std::span<const uint8_t> frame, vrrp::TimePoint now) {
    net::ParsedPacket pp;
    if (net::parse_frame(frame.data(), static_cast<uint32_t>(frame.size()), pp) !=
        net::Verdict::Ok) {
        ++rejects_[static_cast<std::size_t>(vrrp::Reject::BadIpHeader)];
        return;
    }
    const std::span<const uint8_t> ip = frame.subspan(pp.l3_offset, pp.l3_len);
    const auto peek = vrrp::peek(ip);
    std::string iface;
    for (std::size_t p = 0; p < ports_.size() && p < port_names_.size(); ++p) {
        if (ports_[p].port_id == port) {
            iface = port_names_[p];
        }
    }
    const auto i = peek ? set_.find(iface, peek->family, peek->vrid) : std::nullopt;
    if (!i) {
        ++rejects_[static_cast<std::size_t>(vrrp::Reject::UnknownVrid)];
        return;
    }
    const bool l2_multicast = (frame[0] & 1) != 0;
    auto rx = vrrp::decode(ip, l2_multicast, vrrp::expectations(set_.config(*i)));
    if (!rx) {
        ++rejects_[static_cast<std::size_t>(rx.error())];
        return;
    }
    ++adverts_received_;
    apply(set_.handle(*i, vrrp::AdvertReceived{rx->advert, rx->src}, now), now);
}

void VrrpService::poll(vrrp::TimePoint now) {
    const auto deadline = set_.next_deadline();
    if (deadline && *deadline <= now) {
        apply(set_.on_timer(now), now);
    }
    for (const auto& exit : scripts_.poll(now)) {
        if (!exit.exited || exit.exit_code != 0) {
            DIRECTOR_LOG(WARNING, "notify script %s ended with %s %d", exit.label.c_str(),
                         exit.exited ? "status" : "signal",
                         exit.exited ? exit.exit_code : exit.signal);
        }
    }
}

void VrrpService::shutdown(vrrp::TimePoint now) { apply(set_.shutdown(now), now); }

void VrrpService::send_advert(const vrrp::InstanceConfig& cfg, Binding& b, uint8_t priority) {
    for (const net::IpAddress& dst : vrrp::advert_destinations(cfg)) {
        const vrrp::AdvertSpec spec = vrrp::advert_spec(cfg, priority, dst, ++b.ip_id);
        vrrp::FrameMacs macs{b.mac, std::nullopt};
        if (!dst.is_multicast()) {
            // A unicast peer: its resolved MAC, else broadcast (the peer's kernel still takes
            // an IP packet addressed to it) until the neighbour table learns it.
            macs.dst = neighbours_.lookup(b.port_id, dst)
                           .value_or(net::MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}});
        }
        std::array<uint8_t, kMaxAdvertFrame> buf{};
        auto n = vrrp::encode_frame(spec, macs, buf);
        if (!n) {
            DIRECTOR_LOG(ERR, "(%s) cannot encode advert: %s", cfg.name.c_str(),
                         n.error().message.c_str());
            continue;
        }
        if (tx_.send(b.port_id, std::span<const uint8_t>(buf.data(), *n))) {
            ++adverts_sent_;
        }
    }
}

void VrrpService::send_garps(std::size_t i, uint32_t repeat) {
    for (const neigh::PortAddress& vip : neighbours_.instance_vips(i)) {
        for (uint32_t r = 0; r < repeat; ++r) {
            neighbours_.announce(vip.port, vip.ip);
        }
    }
}

void VrrpService::notify(vrrp::NotifyScope scope, const std::string& name,
                         const vrrp::NotifyScripts& scripts, vrrp::State to, uint8_t priority,
                         vrrp::TimePoint now) {
    for (const vrrp::NotifySpec& spec :
         vrrp::notify_specs(scripts, scope, name, vrrp::notify_state(to), priority)) {
        auto id = scripts_.start(spec.argv, name + " " + spec.keyword, now, kNotifyTimeout);
        if (!id) {
            DIRECTOR_LOG(WARNING, "(%s) %s: %s", name.c_str(), spec.keyword.c_str(),
                         id.error().message.c_str());
        }
    }
}

void VrrpService::apply_actions(std::size_t i, const vrrp::InstanceConfig& cfg, Binding& binding,
                                const std::vector<vrrp::Action>& actions, vrrp::TimePoint now) {
    for (const vrrp::Action& action : actions) {
        if (const auto* a = std::get_if<vrrp::SendAdvert>(&action)) {
            send_advert(cfg, binding, a->priority);
        } else if (const auto* g = std::get_if<vrrp::SendGarp>(&action)) {
            send_garps(i, g->repeat);
        } else if (const auto* c = std::get_if<vrrp::StateChanged>(&action)) {
            // Ownership first: a GARP that follows must find the VIP answered.
            // (lib/vrrp's Log actions carry keepalived's "Entering ... STATE" lines.)
            neighbours_.set_master(i, c->to == vrrp::State::Master);
            const uint8_t priority = i < set_.size() && set_.config(i).name == cfg.name
                                         ? set_.state(i).effective_priority
                                         : cfg.priority;
            notify(vrrp::NotifyScope::Instance, cfg.name, cfg.notify, c->to, priority, now);
        } else if (const auto* l = std::get_if<vrrp::Log>(&action)) {
            DIRECTOR_LOG(INFO, "%s", l->text.c_str());
        }
    }
}

void VrrpService::apply(const vrrp::Output& out, vrrp::TimePoint now) {
    for (const vrrp::InstanceOutput& io : out.instances) {
        const std::size_t i = io.instance;
        apply_actions(i, set_.config(i), bindings_[i], io.actions.list, now);
    }
    for (const vrrp::GroupStateChanged& g : out.groups) {
        const vrrp::GroupConfig& gc = set_.group(g.group);
        DIRECTOR_LOG(NOTICE, "VRRP_Group(%s) Syncing instances to %s state", gc.name.c_str(),
                     vrrp::to_string(g.to));
        notify(vrrp::NotifyScope::Group, gc.name, gc.notify, g.to, 0, now);
    }
}

}  // namespace director::ctl
