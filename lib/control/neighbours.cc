// SPDX-License-Identifier: BSD-3-Clause
#include "control/neighbours.h"

#include <algorithm>
#include <array>

#include "neigh/frames.h"

namespace director::ctl {

Result<std::unique_ptr<NeighbourService>> NeighbourService::create(ControlTx& tx) {
    auto table = neigh::NeighbourTable::create();
    if (!table) {
        return Unexpected{table.error()};
    }
    return std::unique_ptr<NeighbourService>(new NeighbourService(tx, std::move(*table)));
}

const NeighPort* NeighbourService::port(uint16_t port_id) const noexcept {
    for (const NeighPort& p : ports_) {
        if (p.port_id == port_id) {
            return &p;
        }
    }
    return nullptr;
}

void NeighbourService::configure(const config::Config& config, std::span<const NeighPort> ports,
                                 std::span<const lb::ServiceSpec> specs, neigh::TimePoint now) {
    ports_.assign(ports.begin(), ports.end());
    ownership_.clear();
    for (const NeighPort& p : ports_) {
        if (p.address) {
            ownership_.add_own(p.port_id, p.address->address);
        }
    }
    // VIPs of VRRP instances follow their instance (group id = instance index); the port is
    // the vip's `dev`, else the instance's interface.
    auto port_of = [&](const std::string& name) -> std::optional<uint16_t> {
        for (size_t i = 0; i < config.ports.size() && i < ports_.size(); ++i) {
            if (config.ports[i].name == name) {
                return ports_[i].port_id;
            }
        }
        return std::nullopt;
    };
    std::vector<net::IpAddress> vrrp_vips;
    for (size_t i = 0; i < config.vrrp_instances.size(); ++i) {
        const config::VrrpInstance& vi = config.vrrp_instances[i];
        for (const config::VirtualIp& vip : vi.virtual_ipaddress) {
            if (auto p = port_of(vip.dev.empty() ? vi.interface : vip.dev)) {
                ownership_.add_vip(*p, vip.address.address, static_cast<uint32_t>(i));
                vrrp_vips.push_back(vip.address.address);
            }
        }
    }
    // Every other VIP is always held, on every port (DR: the VIP lives on the segment).
    for (const config::VirtualServer& vs : config.virtual_servers) {
        if (std::find(vrrp_vips.begin(), vrrp_vips.end(), vs.address) != vrrp_vips.end()) {
            continue;
        }
        for (const NeighPort& p : ports_) {
            ownership_.add_vip(p.port_id, vs.address);
        }
    }
    // Resolve every real server without a static MAC; forget those no longer configured.
    std::vector<neigh::PortAddress> wanted;
    real_addr_.clear();
    for (const lb::ServiceSpec& s : specs) {
        for (const lb::RealSpec& r : s.reals) {
            const neigh::PortAddress key{r.tx_port, r.addr};
            real_addr_[r.real_id] = key;
            const bool is_static = std::any_of(
                config.virtual_servers.begin(), config.virtual_servers.end(), [&](const auto& vs) {
                    return std::any_of(vs.real_servers.begin(), vs.real_servers.end(),
                                       [&](const config::RealServer& rs) {
                                           return rs.address == r.addr && rs.mac.has_value();
                                       });
                });
            if (!is_static) {
                wanted.push_back(key);
            }
        }
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    for (const neigh::PortAddress& old : wanted_) {
        if (!std::binary_search(wanted.begin(), wanted.end(), old)) {
            table_->forget(old.port, old.ip);
        }
    }
    for (const neigh::PortAddress& w : wanted) {
        table_->want(w.port, w.ip, now);
    }
    wanted_ = std::move(wanted);
}

void NeighbourService::on_frame(uint16_t port_id, std::span<const uint8_t> frame,
                                neigh::TimePoint now) {
    const NeighPort* p = port(port_id);
    if (p == nullptr) {
        return;
    }
    std::array<uint8_t, neigh::kMaxFrameLen> out{};
    const neigh::Decision d = responder_.on_frame(neigh::RxPort{port_id, p->mac, 0}, frame, out);
    if (d.replied()) {
        tx_.send(port_id, std::span<const uint8_t>(out.data(), d.reply_len));
    }
    if (d.learn) {
        table_->on_learn(port_id, d.learn->ip, d.learn->mac, now);
    }
}

void NeighbourService::on_resolve_hint(uint32_t real_id, neigh::TimePoint now) {
    const auto it = real_addr_.find(real_id);
    if (it == real_addr_.end()) {
        return;
    }
    if (auto probe = table_->request(it->second.port, it->second.ip, now)) {
        const NeighPort* p = port(probe->port);
        if (p != nullptr && p->address) {
            std::array<uint8_t, neigh::kMaxFrameLen> out{};
            const uint32_t n = neigh::build_probe(out, neigh::Link{p->mac, 0},
                                                  p->address->address, *probe);
            if (n != 0) {
                tx_.send(probe->port, std::span<const uint8_t>(out.data(), n));
            }
        }
    }
}

void NeighbourService::poll(neigh::TimePoint now) {
    for (const neigh::Probe& probe : table_->poll(now)) {
        const NeighPort* p = port(probe.port);
        if (p == nullptr || !p->address) {
            continue;  // no address of ours on that segment to ask from
        }
        std::array<uint8_t, neigh::kMaxFrameLen> out{};
        const uint32_t n =
            neigh::build_probe(out, neigh::Link{p->mac, 0}, p->address->address, probe);
        if (n != 0) {
            tx_.send(probe.port, std::span<const uint8_t>(out.data(), n));
        }
    }
}

void NeighbourService::set_master(size_t instance, bool is_master) {
    ownership_.set_master(static_cast<uint32_t>(instance), is_master);
}

std::vector<neigh::PortAddress> NeighbourService::instance_vips(size_t instance) const {
    return ownership_.vips(static_cast<uint32_t>(instance));
}

void NeighbourService::announce(uint16_t port_id, const net::IpAddress& addr) {
    const NeighPort* p = port(port_id);
    if (p == nullptr) {
        return;
    }
    std::array<uint8_t, neigh::kMaxFrameLen> out{};
    const neigh::Link link{p->mac, 0};
    const uint32_t n = addr.is_v4() ? neigh::build_garp(out, link, addr)
                                    : neigh::build_unsolicited_na(out, link, addr);
    if (n != 0) {
        tx_.send(port_id, std::span<const uint8_t>(out.data(), n));
    }
}

}  // namespace director::ctl
