// SPDX-License-Identifier: BSD-3-Clause
// IPv6 neighbour discovery messages the responder reads: neighbour solicitations and
// advertisements (RFC 4861 4.3, 4.4), validated as RFC 4861 7.1.1 / 7.1.2 require, and the
// solicited advertisement that answers a solicitation (7.2.4).
//
// lib/net's parse_frame does the IPv6 work (lengths, extension headers) and stops at the
// ICMPv6 type and code; parse_nd continues from its l4_offset. Router solicitations,
// redirects and the rest of ICMPv6 are not ours: the director is not a router, and a kernel
// behind the exception TAP handles anything else.
//
// Caller: the control lcore (any thread is safe). Pure: noexcept, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "neigh/frames.h"
#include "neigh/reasons.h"
#include "net/addr.h"
#include "net/parse.h"

namespace director::neigh {

/** A validated NS or NA. Addresses are IPv6. */
struct NdPacket {
    uint8_t type = 0;      ///< kIcmpv6NeighbourSolicitation or kIcmpv6NeighbourAdvertisement
    uint8_t na_flags = 0;  ///< NA only: kNaFlagRouter | kNaFlagSolicited | kNaFlagOverride bits
    uint16_t vlan_id = 0;  ///< the frame's 802.1Q VLAN id, 0 untagged
    net::MacAddress eth_src;
    net::MacAddress eth_dst;
    net::IpAddress src;     ///< IPv6 source (unspecified for a DAD probe, RFC 4862 5.4.2)
    net::IpAddress dst;     ///< IPv6 destination
    net::IpAddress target;  ///< the address being resolved (NS) or advertised (NA)
    /// NS: the source link-layer address option; NA: the target link-layer address option.
    /// The first one if repeated; options of other types are skipped (RFC 4861 4.6).
    std::optional<net::MacAddress> lladdr;

    bool is_ns() const noexcept { return type == kIcmpv6NeighbourSolicitation; }
    bool is_na() const noexcept { return type == kIcmpv6NeighbourAdvertisement; }
};

/** True when a parsed frame is an ICMPv6 NS or NA that parse_nd should look at. */
inline bool is_nd(const net::ParsedPacket& p) noexcept {
    return p.verdict == net::Verdict::Ok && p.flow.family == net::Family::V6 &&
           p.flow.proto == net::kIpProtoIcmpv6 &&
           (p.icmp_type == kIcmpv6NeighbourSolicitation ||
            p.icmp_type == kIcmpv6NeighbourAdvertisement);
}

/**
 * Validates and decodes a neighbour solicitation or advertisement. Checks, in order:
 * not a fragment (RFC 6980 5); hop limit 255, code 0, ICMPv6 length >= 24 (RFC 4861 7.1.1,
 * 7.1.2); the ICMPv6 checksum (RFC 4443 2.3; parse_frame leaves L4 checksums alone); target
 * not multicast; every option has a non-zero length and ends inside the message (4.6); a
 * link-layer address option is 8 bytes (RFC 2464 8); an NS from the unspecified address goes
 * to a solicited-node group and carries no source link-layer option (7.1.1); an NA with the
 * Solicited flag is not sent to a multicast address (7.1.2).
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param frame   the whole frame parse_frame accepted
 * @param parsed  its ParsedPacket, for which is_nd() holds
 * @param out     filled when the result is NdError::None
 * @return None, or the failed check (to_reason() gives its counter)
 */
NdError parse_nd(std::span<const uint8_t> frame, const net::ParsedPacket& parsed,
                 NdPacket& out) noexcept;

/**
 * The solicited advertisement answering a neighbour solicitation for one of our addresses
 * (RFC 4861 7.2.4): from and for ns.target, with our MAC in a target link-layer option and
 * the Override flag (the address is ours, not proxied or anycast). Normally unicast to the
 * soliciting node with the Solicited flag, at the MAC of its source link-layer option (or,
 * lacking one, the frame's Ethernet source: on one segment it is the same host, and it spares
 * a resolution of our own). A DAD probe (source unspecified) is answered to all-nodes with
 * Solicited clear, as 7.2.4 requires, which defends the address (RFC 4862 5.4.3).
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out   at least kMaxFrameLen bytes
 * @param link  our port MAC and the VLAN the NS arrived on
 * @param ns    a validated NS (parse_nd)
 * @return the frame length, or 0 (buffer too small)
 */
uint32_t build_na_reply(std::span<uint8_t> out, const Link& link, const NdPacket& ns) noexcept;

}  // namespace director::neigh
