// SPDX-License-Identifier: BSD-3-Clause
#include "neigh/nd.h"

#include <cstring>

#include "net/checksum.h"

namespace director::neigh {
namespace {

constexpr uint32_t kNdFixedLen = 24;  // RFC 4861 4.3, 4.4: up to and including the target
constexpr uint32_t kEthernetLinkOptLen = 8;

// RFC 4291 2.7.1: ff02:0:0:0:0:1:ff00::/104.
bool is_solicited_node(const net::IpAddress& a) noexcept {
    static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    return a.is_v6() && std::memcmp(a.bytes(), kPrefix, sizeof kPrefix) == 0;
}

}  // namespace

NdError parse_nd(std::span<const uint8_t> frame, const net::ParsedPacket& parsed,
                 NdPacket& out) noexcept {
    const uint32_t icmp_len = parsed.l4_len();
    // The whole message must be readable: parse_frame only promised its first 8 bytes.
    if (!is_nd(parsed) || parsed.l4_offset + icmp_len > frame.size()) {
        return NdError::NdTooShort;
    }
    // RFC 6980 5: neighbour discovery messages are never fragmented; drop any that are.
    if (parsed.is_fragment) {
        return NdError::NdFragmented;
    }
    const uint8_t* ip = frame.data() + parsed.l3_offset;
    const uint8_t* icmp = frame.data() + parsed.l4_offset;
    // RFC 4861 7.1.1 / 7.1.2: hop limit 255 proves the sender is on this link (a router would
    // have decremented it); code 0; ICMP length 24 or more.
    if (ip[7] != kNdHopLimit) {
        return NdError::NdBadHopLimit;
    }
    if (icmp[1] != 0) {
        return NdError::NdBadCode;
    }
    if (icmp_len < kNdFixedLen) {
        return NdError::NdTooShort;
    }
    // RFC 4443 2.3: the sum over pseudo-header and message, checksum field included, is 0.
    const uint32_t pseudo =
        net::ipv6_pseudo_header_sum(ip + 8, ip + 24, net::kIpProtoIcmpv6, icmp_len);
    if (net::l4_checksum(pseudo, icmp, icmp_len) != 0) {
        return NdError::NdBadChecksum;
    }
    const net::IpAddress target = net::IpAddress::v6_bytes(icmp + 8);
    if (target.is_multicast()) {
        return NdError::NdMulticastTarget;
    }
    const uint8_t type = icmp[0];
    const uint8_t lladdr_type =
        type == kIcmpv6NeighbourSolicitation ? kNdOptSourceLinkAddr : kNdOptTargetLinkAddr;
    std::optional<net::MacAddress> lladdr;
    // RFC 4861 4.6: type, length in units of 8 octets (0 is invalid), value. Unknown options
    // are skipped; so is a link-layer option of the other message's kind.
    for (uint32_t off = kNdFixedLen; off < icmp_len;) {
        if (icmp_len - off < 2) {
            return NdError::NdBadOptionLength;
        }
        const uint32_t len = uint32_t{icmp[off + 1]} * 8;
        if (len == 0 || len > icmp_len - off) {
            return NdError::NdBadOptionLength;
        }
        if (icmp[off] == lladdr_type) {
            // RFC 2464 8: on Ethernet the option is exactly one unit, holding a 6-byte MAC.
            if (len != kEthernetLinkOptLen) {
                return NdError::NdBadLinkLayerOption;
            }
            if (!lladdr) {
                net::MacAddress mac;
                std::memcpy(mac.bytes.data(), icmp + off + 2, 6);
                lladdr = mac;
            }
        }
        off += len;
    }
    const net::IpAddress src = net::IpAddress::v6_bytes(ip + 8);
    const net::IpAddress dst = net::IpAddress::v6_bytes(ip + 24);
    if (type == kIcmpv6NeighbourSolicitation && src.is_unspecified()) {
        // RFC 4861 7.1.1: a DAD probe goes to a solicited-node group and has no source
        // link-layer option.
        if (!is_solicited_node(dst) || lladdr) {
            return NdError::NdBadDad;
        }
    }
    const uint8_t flags = type == kIcmpv6NeighbourAdvertisement ? icmp[4] : uint8_t{0};
    if ((flags & kNaFlagSolicited) != 0 && dst.is_multicast()) {
        return NdError::NdSolicitedToMulticast;  // RFC 4861 7.1.2
    }
    out.type = type;
    out.na_flags =
        static_cast<uint8_t>(flags & (kNaFlagRouter | kNaFlagSolicited | kNaFlagOverride));
    out.vlan_id = static_cast<uint16_t>(parsed.vlan_tci & 0x0fff);
    std::memcpy(out.eth_dst.bytes.data(), frame.data(), 6);
    std::memcpy(out.eth_src.bytes.data(), frame.data() + 6, 6);
    out.src = src;
    out.dst = dst;
    out.target = target;
    out.lladdr = lladdr;
    return NdError::None;
}

uint32_t build_na_reply(std::span<uint8_t> out, const Link& link, const NdPacket& ns) noexcept {
    if (ns.src.is_unspecified()) {
        // RFC 4861 7.2.4: to a DAD probe, multicast to all-nodes with Solicited clear.
        const net::IpAddress dst = all_nodes();
        return build_na(out, link,
                        NaFields{.src = ns.target,
                                 .dst = dst,
                                 .eth_dst = ipv6_multicast_mac(dst),
                                 .target = ns.target,
                                 .flags = kNaFlagOverride});
    }
    return build_na(out, link,
                    NaFields{.src = ns.target,
                             .dst = ns.src,
                             .eth_dst = ns.lladdr.value_or(ns.eth_src),
                             .target = ns.target,
                             .flags = kNaFlagSolicited | kNaFlagOverride});
}

}  // namespace director::neigh
