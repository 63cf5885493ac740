// SPDX-License-Identifier: BSD-3-Clause
#include "neigh/ownership.h"

namespace director::neigh {

void Ownership::add_own(uint16_t port, const net::IpAddress& ip) {
    addrs_[PortAddress{port, ip}].own = true;
}

void Ownership::add_vip(uint16_t port, const net::IpAddress& vip, GroupId group) {
    Entry& e = addrs_[PortAddress{port, vip}];
    e.vip = true;
    e.group = group;
}

bool Ownership::remove(uint16_t port, const net::IpAddress& ip) {
    return addrs_.erase(PortAddress{port, ip}) != 0;
}

void Ownership::set_master(GroupId group, bool is_master) {
    if (is_master) {
        masters_.insert(group);
    } else {
        masters_.erase(group);
    }
}

bool Ownership::is_master(GroupId group) const noexcept {
    return group == kNoGroup || masters_.find(group) != masters_.end();
}

void Ownership::clear() noexcept {
    addrs_.clear();
    masters_.clear();
}

Holding Ownership::lookup(uint16_t port, const net::IpAddress& ip) const noexcept {
    const auto it = addrs_.find(PortAddress{port, ip});
    if (it == addrs_.end()) {
        return Holding::None;
    }
    const Entry& e = it->second;
    if (e.own) {
        return Holding::Own;
    }
    return is_master(e.group) ? Holding::Vip : Holding::VipNotMaster;
}

std::vector<PortAddress> Ownership::vips(GroupId group) const {
    std::vector<PortAddress> out;
    for (const auto& [key, e] : addrs_) {
        if (e.vip && e.group == group) {
            out.push_back(key);
        }
    }
    return out;
}

}  // namespace director::neigh
