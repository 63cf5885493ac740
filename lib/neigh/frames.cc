// SPDX-License-Identifier: BSD-3-Clause
#include "neigh/frames.h"

#include <algorithm>
#include <cstring>

#include "net/checksum.h"

namespace director::neigh {
namespace {

constexpr uint32_t kArpLen = 28;
constexpr uint32_t kIpv6HdrLen = 40;
constexpr uint32_t kNdFixedLen = 24;  // type, code, checksum, 4 bytes, target (RFC 4861 4.3)
constexpr uint32_t kLinkOptLen = 8;   // type, length 1, 6-byte MAC (RFC 4861 4.6.1, RFC 2464 8)

void put16(uint8_t* p, uint16_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

void put_mac(uint8_t* p, const net::MacAddress& mac) noexcept {
    std::memcpy(p, mac.bytes.data(), mac.bytes.size());
}

// Ethernet header (IEEE 802.3 3.1.1) with an optional 802.1Q tag (9.6): PCP 0, DEI 0. Returns
// the header length; the caller has checked that link.vlan_id <= kMaxVlanId.
uint32_t put_eth(uint8_t* p, const net::MacAddress& dst, const Link& link,
                 uint16_t ethertype) noexcept {
    put_mac(p, dst);
    put_mac(p + 6, link.mac);
    if (link.vlan_id == 0) {
        put16(p + 12, ethertype);
        return net::kEtherHdrLen;
    }
    put16(p + 12, net::kEtherTypeVlan);
    put16(p + 14, link.vlan_id);
    put16(p + 16, ethertype);
    return net::kEtherHdrLen + net::kVlanTagLen;
}

uint32_t l2_len(const Link& link) noexcept {
    return net::kEtherHdrLen + (link.vlan_id != 0 ? net::kVlanTagLen : 0);
}

// An NS or NA: IPv6 header (RFC 8200 3), the 24 fixed ICMPv6 bytes, an optional link-layer
// option, checksum. `word` is the 32-bit field after the checksum (NA flags, or 0).
uint32_t put_nd(std::span<uint8_t> out, const Link& link, const net::MacAddress& eth_dst,
                const net::IpAddress& src, const net::IpAddress& dst, uint8_t type, uint8_t word,
                const net::IpAddress& target, uint8_t option) noexcept {
    if (!src.is_v6() || !dst.is_v6() || !target.is_v6() || link.vlan_id > kMaxVlanId) {
        return 0;
    }
    const uint32_t icmp_len = kNdFixedLen + (option != 0 ? kLinkOptLen : 0);
    const uint32_t len = l2_len(link) + kIpv6HdrLen + icmp_len;
    if (out.size() < len) {
        return 0;
    }
    uint8_t* p = out.data();
    uint8_t* ip = p + put_eth(p, eth_dst, link, net::kEtherTypeIpv6);
    // Version 6, traffic class 0, flow label 0; payload length; next header; hop limit 255
    // (RFC 4861 4.3/4.4: receivers drop anything else as possibly off-link).
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    put16(ip + 4, static_cast<uint16_t>(icmp_len));
    ip[6] = net::kIpProtoIcmpv6;
    ip[7] = kNdHopLimit;
    std::memcpy(ip + 8, src.bytes(), 16);
    std::memcpy(ip + 24, dst.bytes(), 16);
    uint8_t* icmp = ip + kIpv6HdrLen;
    icmp[0] = type;
    icmp[1] = 0;  // code 0 (RFC 4861 7.1.1, 7.1.2)
    icmp[2] = icmp[3] = 0;
    icmp[4] = word;
    icmp[5] = icmp[6] = icmp[7] = 0;  // reserved: zero on send
    std::memcpy(icmp + 8, target.bytes(), 16);
    if (option != 0) {
        icmp[24] = option;
        icmp[25] = 1;  // length in units of 8 octets
        put_mac(icmp + 26, link.mac);
    }
    // RFC 4443 2.3: checksum over the IPv6 pseudo-header and the whole ICMPv6 message.
    const uint32_t pseudo =
        net::ipv6_pseudo_header_sum(src.bytes(), dst.bytes(), net::kIpProtoIcmpv6, icmp_len);
    put16(icmp + 2, net::l4_checksum(pseudo, icmp, icmp_len));
    return len;
}

}  // namespace

net::IpAddress solicited_node(const net::IpAddress& addr) noexcept {
    uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
    std::memcpy(b + 13, addr.bytes() + 13, 3);
    return net::IpAddress::v6_bytes(b);
}

net::IpAddress all_nodes() noexcept {
    const uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    return net::IpAddress::v6_bytes(b);
}

net::MacAddress ipv6_multicast_mac(const net::IpAddress& group) noexcept {
    net::MacAddress mac{{0x33, 0x33, 0, 0, 0, 0}};
    std::memcpy(mac.bytes.data() + 2, group.bytes() + 12, 4);
    return mac;
}

uint32_t build_arp(std::span<uint8_t> out, const Link& link, const ArpFields& arp) noexcept {
    if (out.size() < kArpFrameLen || !arp.sender_ip.is_v4() || !arp.target_ip.is_v4() ||
        link.vlan_id > kMaxVlanId) {
        return 0;
    }
    uint8_t* p = out.data();
    uint8_t* a = p + put_eth(p, arp.eth_dst, link, net::kEtherTypeArp);
    // RFC 826 packet format: hrd 1 (Ethernet), pro 0x0800, hln 6, pln 4, op, sha, spa, tha, tpa.
    put16(a, 1);
    put16(a + 2, net::kEtherTypeIpv4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, arp.op);
    put_mac(a + 8, arp.sender_mac);
    std::memcpy(a + 14, arp.sender_ip.bytes(), 4);
    put_mac(a + 18, arp.target_mac);
    std::memcpy(a + 24, arp.target_ip.bytes(), 4);
    // IEEE 802.3 4.2.3.3: pad to the minimum frame size with zeros.
    uint8_t* end = a + kArpLen;
    std::fill(end, p + kArpFrameLen, uint8_t{0});
    return kArpFrameLen;
}

uint32_t build_arp_reply(std::span<uint8_t> out, const Link& link,
                         const net::ArpPacket& request) noexcept {
    return build_arp(out, link,
                     ArpFields{.op = kArpOpReply,
                               .eth_dst = request.sender_mac,
                               .sender_mac = link.mac,
                               .sender_ip = request.target_ip,
                               .target_mac = request.sender_mac,
                               .target_ip = request.sender_ip});
}

uint32_t build_arp_request(std::span<uint8_t> out, const Link& link,
                           const net::IpAddress& sender_ip, const net::IpAddress& target_ip,
                           std::optional<net::MacAddress> unicast_to) noexcept {
    return build_arp(out, link,
                     ArpFields{.op = kArpOpRequest,
                               .eth_dst = unicast_to.value_or(kBroadcastMac),
                               .sender_mac = link.mac,
                               .sender_ip = sender_ip,
                               .target_mac = {},
                               .target_ip = target_ip});
}

uint32_t build_garp(std::span<uint8_t> out, const Link& link, const net::IpAddress& vip) noexcept {
    return build_arp(out, link,
                     ArpFields{.op = kArpOpRequest,
                               .eth_dst = kBroadcastMac,
                               .sender_mac = link.mac,
                               .sender_ip = vip,
                               .target_mac = kBroadcastMac,
                               .target_ip = vip});
}

uint32_t build_ns(std::span<uint8_t> out, const Link& link, const net::IpAddress& src_ip,
                  const net::IpAddress& target,
                  std::optional<net::MacAddress> unicast_to) noexcept {
    const net::IpAddress dst = unicast_to ? target : solicited_node(target);
    const net::MacAddress eth_dst = unicast_to ? *unicast_to : ipv6_multicast_mac(dst);
    // RFC 4861 4.3: the source link-layer option MUST NOT be sent from the unspecified address.
    const uint8_t option = src_ip.is_unspecified() ? 0 : kNdOptSourceLinkAddr;
    return put_nd(out, link, eth_dst, src_ip, dst, kIcmpv6NeighbourSolicitation, 0, target, option);
}

uint32_t build_na(std::span<uint8_t> out, const Link& link, const NaFields& na) noexcept {
    return put_nd(
        out, link, na.eth_dst, na.src, na.dst, kIcmpv6NeighbourAdvertisement,
        static_cast<uint8_t>(na.flags & (kNaFlagRouter | kNaFlagSolicited | kNaFlagOverride)),
        na.target, kNdOptTargetLinkAddr);
}

uint32_t build_unsolicited_na(std::span<uint8_t> out, const Link& link,
                              const net::IpAddress& vip) noexcept {
    const net::IpAddress dst = all_nodes();
    return build_na(out, link,
                    NaFields{.src = vip,
                             .dst = dst,
                             .eth_dst = ipv6_multicast_mac(dst),
                             .target = vip,
                             .flags = kNaFlagOverride});
}

}  // namespace director::neigh
