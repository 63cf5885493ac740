// SPDX-License-Identifier: BSD-3-Clause
// The control lcore's neighbour service: answers ARP / neighbour solicitations for the
// director's own addresses and the VIPs it holds, learns real servers' MACs from what they
// send, and resolves (and keeps refreshing) the MAC of every real server that has no static
// `mac:` — so workers can rewrite destination MACs without ever asking the kernel.
//
// VIP ownership: a VIP of a VRRP instance is answered only while that instance is MASTER
// (set_master); a VIP no VRRP instance covers is always held (issue: "VIPs not covered by any
// VRRP instance are always owned").
//
// Caller: control lcore only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "control/control_tx.h"
#include "lb/snapshot.h"
#include "neigh/neigh_table.h"
#include "neigh/ownership.h"
#include "neigh/responder.h"
#include "net/addr.h"

namespace director::ctl {

/** A port as the neighbour service sees it. */
struct NeighPort {
    uint16_t port_id = 0;
    net::MacAddress mac;
    std::optional<net::Prefix> address;
};

class NeighbourService {
public:
    static Result<std::unique_ptr<NeighbourService>> create(ControlTx& tx);

    /**
     * (Re)derives ownership and the set of addresses to resolve from a configuration; keeps
     * what is already resolved. Call at start and after every accepted reload.
     * @param specs  the services just built (real id -> routed port and address)
     */
    void configure(const config::Config& config, std::span<const NeighPort> ports,
                   std::span<const lb::ServiceSpec> specs, neigh::TimePoint now);

    /** A frame a worker punted as ARP or neighbour discovery. */
    void on_frame(uint16_t port, std::span<const uint8_t> frame, neigh::TimePoint now);

    /** A worker's hint that real_id's MAC is needed (its MAC is unknown). */
    void on_resolve_hint(uint32_t real_id, neigh::TimePoint now);

    /** Sends due probes. */
    void poll(neigh::TimePoint now);

    /** VRRP: instance `instance` (index into config.vrrp_instances) is MASTER or not. */
    void set_master(size_t instance, bool is_master);

    /** The VIPs of a VRRP instance with their ports, for GARP bursts. */
    std::vector<neigh::PortAddress> instance_vips(size_t instance) const;

    /** Resolved MAC of an address on a port (the snapshot's RealSources::mac). */
    std::optional<net::MacAddress> lookup(uint16_t port, const net::IpAddress& ip) const {
        return table_->lookup(port, ip);
    }

    /** Changes whenever a resolved MAC appears, changes or goes. */
    uint64_t version() const noexcept { return table_->version(); }

    const neigh::ResponderCounters& responder_counters() const noexcept {
        return responder_.counters();
    }
    const neigh::TableCounters& table_counters() const noexcept { return table_->counters(); }

    /** Sends one gratuitous ARP (or unsolicited NA) for addr on port. */
    void announce(uint16_t port, const net::IpAddress& addr);

private:
    NeighbourService(ControlTx& tx, std::unique_ptr<neigh::NeighbourTable> table)
        : tx_(tx), table_(std::move(table)), responder_(ownership_) {}

    const NeighPort* port(uint16_t port_id) const noexcept;

    ControlTx& tx_;
    std::unique_ptr<neigh::NeighbourTable> table_;
    neigh::Ownership ownership_;
    neigh::Responder responder_;
    std::vector<NeighPort> ports_;
    std::map<uint32_t, neigh::PortAddress> real_addr_;  // real id -> where it lives
    std::vector<neigh::PortAddress> wanted_;
};

/** steady_clock now, in the neighbour table's time type. */
inline neigh::TimePoint neigh_now() {
    return std::chrono::time_point_cast<neigh::Duration>(std::chrono::steady_clock::now());
}

}  // namespace director::ctl
