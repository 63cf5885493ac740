// SPDX-License-Identifier: BSD-3-Clause
// The ARP / IPv6 neighbour-discovery responder of the control lcore. For each ARP or NS/NA
// frame the workers punt to it, it decides one of:
//   * reply: an ARP reply or a solicited NA, written into the caller's buffer, when the
//     target is an address Ownership says we hold (our own always; a VIP while MASTER);
//   * learn: the sender's IP -> MAC binding, offered to the NeighbourTable (which keeps it only
//     for addresses it was asked to resolve). Any well-formed ARP from a neighbour teaches its
//     MAC (RFC 826's merge step, as the kernel does), and so do an NS with a source link-layer
//     option (RFC 4861 7.2.3) and an NA (7.2.5);
//   * ignore;
// sometimes reply *and* learn (a real server asking for our address). Every frame is counted
// under exactly one Reason (reasons.h).
//
// Policy, checked in this order:
//   1. a frame whose sender MAC is the port's own is our own frame looped back: ignored;
//   2. a multicast or zero sender MAC (or link-layer option), or a multicast / broadcast /
//      loopback sender IP, cannot be a neighbour: ignored, nothing learned;
//   3. a sender IP (NS source, NA target) that we hold, from another MAC, is a conflict
//      (duplicate address, or another director that also thinks it is MASTER): ignored and
//      counted, never learned, never answered (VRRP resolves split brain, not ARP);
//   4. requests for an address we hold are answered; for a VIP not held, or anything else,
//      they are not.
// The Ethernet destination is checked only by on_frame: a frame unicast to another MAC (a
// promiscuous port) is ignored before any of the above.
//
// Caller: the control lcore only (single writer of the counters; Ownership is its state).
// The handlers are noexcept and do not allocate.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "neigh/frames.h"
#include "neigh/nd.h"
#include "neigh/ownership.h"
#include "neigh/reasons.h"
#include "net/addr.h"
#include "net/parse.h"

namespace director::neigh {

/** Where a frame came in, and so how a reply goes out. */
struct RxPort {
    uint16_t port = 0;     ///< DPDK port id: the key into Ownership
    net::MacAddress mac;   ///< that port's MAC: our replies' source and sender MAC
    uint16_t vlan_id = 0;  ///< VLAN of the frame (on_frame reads it from the frame itself)
};

/** A neighbour's IP -> MAC binding seen in a frame, for NeighbourTable::on_learn. */
struct Binding {
    net::IpAddress ip;
    net::MacAddress mac;
};

/** What the responder made of one frame. */
struct Decision {
    Reason reason = Reason::NotNeighbour;
    uint32_t reply_len = 0;        ///< > 0: a reply frame of this length is in `out`; send it
    std::optional<Binding> learn;  ///< offer to NeighbourTable::on_learn(rx.port, ...)

    bool replied() const noexcept { return reply_len != 0; }
};

class Responder {
public:
    /** The responder reads `ownership` on every frame; it must outlive the responder. */
    explicit Responder(const Ownership& ownership) noexcept : ownership_(ownership) {}

    /**
     * Parses a whole frame with lib/net's parse_frame and dispatches ARP to on_arp and NS/NA
     * to parse_nd + on_nd. rx.vlan_id is ignored: replies use the frame's own VLAN tag.
     *
     * Caller: control lcore. noexcept, no allocation.
     *
     * @param rx     arrival port and its MAC
     * @param frame  the frame as received (one segment)
     * @param out    room for the reply: kMaxFrameLen bytes suffice
     * @return the decision, already counted
     */
    Decision on_frame(const RxPort& rx, std::span<const uint8_t> frame,
                      std::span<uint8_t> out) noexcept;

    /**
     * Decides about a parsed ARP packet (policy in the file comment).
     *
     * Caller: control lcore. noexcept, no allocation.
     *
     * @param rx   arrival port, its MAC, and the VLAN the frame came on
     * @param arp  from net::parse_arp
     * @param out  room for the reply: kArpFrameLen bytes
     * @return the decision, already counted
     */
    Decision on_arp(const RxPort& rx, const net::ArpPacket& arp, std::span<uint8_t> out) noexcept;

    /**
     * Decides about a validated NS or NA (policy in the file comment). The reply goes out on
     * nd.vlan_id; rx.vlan_id is ignored.
     *
     * Caller: control lcore. noexcept, no allocation.
     *
     * @param rx   arrival port and its MAC
     * @param nd   from parse_nd
     * @param out  room for the reply: kMaxFrameLen bytes
     * @return the decision, already counted
     */
    Decision on_nd(const RxPort& rx, const NdPacket& nd, std::span<uint8_t> out) noexcept;

    /** Counters by reason. Caller: any thread (relaxed reads, ResponderCounters::get). */
    const ResponderCounters& counters() const noexcept { return counters_; }

private:
    Decision finish(Decision d) noexcept {
        counters_.bump(d.reason);
        return d;
    }
    Decision reply_arp(const RxPort& rx, const net::ArpPacket& arp, Reason reason,
                       std::optional<Binding> learn, std::span<uint8_t> out) noexcept;

    const Ownership& ownership_;
    ResponderCounters counters_;
};

}  // namespace director::neigh
