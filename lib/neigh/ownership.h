// SPDX-License-Identifier: BSD-3-Clause
// Which addresses this director answers for, per port: the view the ARP/ND responder consults
// and the VRRP code updates.
//
// Three kinds of address, after keepalived + LVS-DR semantics:
//   * the port's own address(es) (ports[].address): always held, whatever VRRP says;
//   * VIPs that belong to a VRRP instance (a "group" here): held only while that instance is
//     MASTER, so that exactly one director answers ARP for a VIP and GARPs it (RFC 5798 6.4.3:
//     the master responds to ARP for the virtual addresses, the backup must not);
//   * VIPs not covered by any VRRP instance (a single director without HA): always held.
// An address that is both the port's own and a VIP counts as the port's own.
//
// Groups are opaque ids the control plane chooses (e.g. the index of the VRRP instance); a
// group starts as not MASTER. Addresses are per port: a request arriving on another port is
// not answered, as Linux with arp_ignore=1 would not (the safe choice with several segments).
//
// Caller: the control lcore only (it owns the VRRP state machines and the responder). Not
// thread-safe. Lookups are noexcept and do not allocate; updates may allocate.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "net/addr.h"

namespace director::neigh {

/** A port id (DPDK port number) and an address on it. */
struct PortAddress {
    uint16_t port = 0;
    net::IpAddress ip;

    friend bool operator==(const PortAddress&, const PortAddress&) = default;
    friend auto operator<=>(const PortAddress&, const PortAddress&) = default;
};

/** What an address on a port is to this director right now. */
enum class Holding : uint8_t {
    None,          ///< not ours: do not answer
    Own,           ///< the port's own address: always answered
    Vip,           ///< a VIP we hold (its group is MASTER, or it has no group): answered
    VipNotMaster,  ///< a VIP whose group is not MASTER here: not answered
};

/** True for Own and Vip: the responder answers for the address. */
constexpr bool answers(Holding h) noexcept { return h == Holding::Own || h == Holding::Vip; }

class Ownership {
public:
    using GroupId = uint32_t;
    /// A VIP with this group is not managed by VRRP and is always held.
    static constexpr GroupId kNoGroup = ~GroupId{0};

    /**
     * Declares one of the port's own addresses (held always).
     * Caller: control lcore. May allocate.
     */
    void add_own(uint16_t port, const net::IpAddress& ip);

    /**
     * Declares a VIP on a port, held while `group` is MASTER (always, for kNoGroup). Declaring
     * an existing VIP again moves it to the new group.
     * Caller: control lcore. May allocate.
     */
    void add_vip(uint16_t port, const net::IpAddress& vip, GroupId group = kNoGroup);

    /**
     * Forgets an address (own or VIP) on a port.
     * Caller: control lcore.
     * @return true if it was declared
     */
    bool remove(uint16_t port, const net::IpAddress& ip);

    /**
     * Records a VRRP instance's state: MASTER (true) or anything else (false).
     * Caller: control lcore, on every VRRP transition. May allocate.
     */
    void set_master(GroupId group, bool is_master);

    /** True while `group` is MASTER; kNoGroup is always "master". Caller: control lcore. */
    bool is_master(GroupId group) const noexcept;

    /** Forgets every address and group state (config reload rebuilds the view). */
    void clear() noexcept;

    /**
     * Classifies an address on a port.
     * Caller: control lcore, per ARP/ND packet. noexcept, no allocation, O(log n).
     */
    Holding lookup(uint16_t port, const net::IpAddress& ip) const noexcept;

    /**
     * The VIPs of a group, in (port, address) order: what to GARP or announce by unsolicited
     * NA when the group becomes MASTER (keepalived.md 2.4).
     * Caller: control lcore. Allocates the result.
     */
    std::vector<PortAddress> vips(GroupId group) const;

private:
    struct Entry {
        bool own = false;
        bool vip = false;
        GroupId group = kNoGroup;
    };
    std::map<PortAddress, Entry> addrs_;
    std::set<GroupId> masters_;
};

}  // namespace director::neigh
