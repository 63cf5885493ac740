// SPDX-License-Identifier: BSD-3-Clause
#include "control/services.h"

#include <algorithm>

namespace director::ctl {

uint32_t IdRegistry::take(std::vector<uint32_t>& free_ids, uint32_t& next, uint32_t limit) {
    // Fresh ids first: a released id is reused only once all others are in use.
    if (next < limit) {
        return next++;
    }
    if (free_ids.empty()) {
        return limit;  // every id in use: out of range, so SnapshotBuilder rejects it
    }
    const uint32_t id = free_ids.front();
    free_ids.erase(free_ids.begin());
    return id;
}

uint32_t IdRegistry::service_id(const net::IpAddress& vip, uint16_t port,
                                config::Protocol proto) {
    auto [it, inserted] = services_.try_emplace(ServiceKey{vip, port, proto}, Slot{0, true});
    if (inserted) {
        it->second.id = take(free_services_, next_service_, lb::kMaxServices);
        if (it->second.id == lb::kMaxServices) {
            services_.erase(it);  // holds no id: the key gets one once ids are released
            return lb::kMaxServices;
        }
    }
    it->second.used = true;
    return it->second.id;
}

uint32_t IdRegistry::real_id(uint32_t service_id, const net::IpAddress& addr, uint16_t port) {
    auto [it, inserted] = reals_.try_emplace(RealKey{service_id, addr, port}, Slot{0, true});
    if (inserted) {
        it->second.id = take(free_reals_, next_real_, lb::kMaxReals);
        if (it->second.id == lb::kMaxReals) {
            reals_.erase(it);  // holds no id: the key gets one once ids are released
            return lb::kMaxReals;
        }
    }
    it->second.used = true;
    return it->second.id;
}

void IdRegistry::release_unused() {
    auto sweep = [](auto& map, std::vector<uint32_t>& free_ids) {
        for (auto it = map.begin(); it != map.end();) {
            if (!it->second.used) {
                free_ids.push_back(it->second.id);
                it = map.erase(it);
            } else {
                it->second.used = false;
                ++it;
            }
        }
    };
    sweep(services_, free_services_);
    sweep(reals_, free_reals_);
}

lb::SchedulerKind scheduler_kind(config::LbAlgo algo) noexcept {
    switch (algo) {
        case config::LbAlgo::Rr: return lb::SchedulerKind::Rr;
        case config::LbAlgo::Wrr: return lb::SchedulerKind::Wrr;
        case config::LbAlgo::Lc: return lb::SchedulerKind::Lc;
        case config::LbAlgo::Wlc: return lb::SchedulerKind::Wlc;
        case config::LbAlgo::Sed: return lb::SchedulerKind::Sed;
        case config::LbAlgo::Nq: return lb::SchedulerKind::Nq;
        case config::LbAlgo::Sh: return lb::SchedulerKind::Sh;
        case config::LbAlgo::Dh: return lb::SchedulerKind::Dh;
        case config::LbAlgo::Mh: return lb::SchedulerKind::Mh;
    }
    return lb::SchedulerKind::Wlc;
}

namespace {

bool same_reals(const std::vector<lb::RealSpec>& a, const std::vector<lb::RealSpec>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const lb::RealSpec& x, const lb::RealSpec& y) {
                          return x.real_id == y.real_id && x.weight == y.weight &&
                                 x.state == y.state && x.mac == y.mac &&
                                 x.tx_port == y.tx_port && x.last_weight == y.last_weight;
                      });
}

/** DR needs the real server on-link: the port whose prefix holds it, else the first port. */
uint16_t route(std::span<const PortRoute> ports, const net::IpAddress& addr) {
    for (const PortRoute& p : ports) {
        if (p.address && p.address->contains(addr)) {
            return p.port_id;
        }
    }
    return ports.empty() ? 0 : ports.front().port_id;
}

/** keepalived adds the sorry server with weight 1 (ipvswrapper.c). */
lb::RealSpec sorry_real(IdRegistry& ids, uint32_t service_id, const config::SorryServer& sorry,
                        bool active, std::span<const PortRoute> ports,
                        const RealSources& sources) {
    lb::RealSpec real;
    real.real_id = ids.real_id(service_id, sorry.address, sorry.port);
    real.addr = sorry.address;
    real.port = sorry.port;
    real.weight = 1;
    real.state = active ? lb::RealState::Up : lb::RealState::Down;
    real.tx_port = route(ports, sorry.address);
    if (sources.mac) {
        real.mac = sources.mac(real.tx_port, sorry.address);
    }
    return real;
}

}  // namespace

Result<std::unique_ptr<lb::Snapshot>> SnapshotFactory::build(const config::Config& config,
                                                             std::span<const PortRoute> ports,
                                                             const RealSources& sources,
                                                             const lb::Snapshot* previous) {
    std::vector<lb::ServiceSpec> specs;
    specs.reserve(config.virtual_servers.size());
    for (size_t v = 0; v < config.virtual_servers.size(); ++v) {
        const config::VirtualServer& vs = config.virtual_servers[v];
        lb::ServiceSpec spec;
        spec.vip = vs.address;
        spec.port = vs.port;
        spec.proto = vs.protocol == config::Protocol::Tcp ? lb::Protocol::Tcp : lb::Protocol::Udp;
        spec.scheduler = scheduler_kind(vs.lb_algo);
        spec.persistence_timeout_s = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::seconds>(vs.persistence_timeout).count());
        spec.persistence_prefix_len = vs.persistence_granularity;
        spec.service_id = ids_.service_id(vs.address, vs.port, vs.protocol);
        const auto before = generations_.find(spec.service_id);
        for (size_t r = 0; r < vs.real_servers.size(); ++r) {
            const config::RealServer& rs = vs.real_servers[r];
            const RealHealth health = sources.health ? sources.health(v, r) : RealHealth{};
            lb::RealSpec real;
            real.real_id = ids_.real_id(spec.service_id, rs.address, rs.port);
            real.addr = rs.address;
            real.port = rs.port;
            real.weight = health.weight.value_or(rs.weight);
            real.state = health.up ? lb::RealState::Up : lb::RealState::Down;
            real.tx_port = route(ports, rs.address);
            if (rs.mac) {
                real.mac = rs.mac;
            } else if (sources.mac) {
                real.mac = sources.mac(real.tx_port, rs.address);
            }
            // Quiescing (weight 0) keeps the lookup tables laid out by the configured weight,
            // as IPVS's last_weight does, so draining one server moves no other flow. A drain
            // in the file itself (weight: 0, then reload) keeps the weight the tables had.
            real.last_weight = real.weight == 0 ? rs.weight : 0;
            if (real.weight == 0 && rs.weight == 0 && before != generations_.end()) {
                for (const lb::RealSpec& old : before->second.second) {
                    if (old.real_id == real.real_id) {
                        real.last_weight = old.weight > 0 ? old.weight : old.last_weight;
                        break;
                    }
                }
            }
            spec.reals.push_back(real);
        }
        const bool sorry_is_real =
            vs.sorry_server &&
            std::any_of(vs.real_servers.begin(), vs.real_servers.end(),
                        [&](const config::RealServer& rs) {
                            return rs.address == vs.sorry_server->address &&
                                   rs.port == vs.sorry_server->port;
                        });
        if (vs.sorry_server && !sorry_is_real) {
            // Always in the spec, so that its MAC is resolved before it is needed; it takes
            // traffic only while the health engine says the pool lost its quorum.
            const bool active = sources.sorry_active && sources.sorry_active(v);
            spec.reals.push_back(sorry_real(ids_, spec.service_id, *vs.sorry_server, active,
                                            ports, sources));
        }
        auto& [generation, reals] = generations_[spec.service_id];
        if (!same_reals(reals, spec.reals)) {
            ++generation;
            reals = spec.reals;
        }
        spec.generation = generation;
        specs.push_back(std::move(spec));
    }
    auto snap = lb::SnapshotBuilder::build(specs, previous);
    if (!snap) {
        return snap;
    }
    ids_.release_unused();
    for (auto it = generations_.begin(); it != generations_.end();) {
        const bool live = std::any_of(specs.begin(), specs.end(), [&](const lb::ServiceSpec& s) {
            return s.service_id == it->first;
        });
        it = live ? std::next(it) : generations_.erase(it);
    }
    last_specs_ = std::move(specs);
    return snap;
}

}  // namespace director::ctl
