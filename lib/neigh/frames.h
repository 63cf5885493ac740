// SPDX-License-Identifier: BSD-3-Clause
// Frame builders for address resolution: ARP requests and replies (RFC 826), gratuitous ARP
// in keepalived's layout (RFC 5227 3), IPv6 neighbour solicitations and advertisements
// (RFC 4861 4.3, 4.4), optionally behind one 802.1Q tag.
//
// Why here and not in lib/net: these frames are what the control lcore *says* on a segment
// (answers, announcements, probes). lib/net reads frames on the workers; the parser it
// provides (parse_frame, parse_arp) decodes everything these builders write, and the tests
// prove it.
//
// Every builder writes one complete Ethernet frame, without FCS, into a caller-provided buffer
// (so the control lcore can write straight into rte_pktmbuf_append's space) and returns its
// length. Frames shorter than the 60-byte Ethernet minimum are zero-padded to 60 (IEEE 802.3
// 4.2.3.3; as Linux pads to ETH_ZLEN, also when tagged). A buffer of kMaxFrameLen bytes fits
// every frame. A builder returns 0, and leaves `out` in an unspecified state, when the buffer
// is too small, an address has the wrong family, or vlan_id exceeds kMaxVlanId.
//
// Caller: any thread (the control lcore in practice). Pure functions: noexcept, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "net/addr.h"
#include "net/parse.h"

namespace director::neigh {

inline constexpr uint16_t kArpOpRequest = 1;  ///< RFC 826 ares_op$REQUEST
inline constexpr uint16_t kArpOpReply = 2;    ///< RFC 826 ares_op$REPLY

inline constexpr uint8_t kIcmpv6NeighbourSolicitation = 135;   ///< RFC 4861 4.3
inline constexpr uint8_t kIcmpv6NeighbourAdvertisement = 136;  ///< RFC 4861 4.4
inline constexpr uint8_t kNdHopLimit = 255;                    ///< RFC 4861 7.1: on-link only
inline constexpr uint8_t kNdOptSourceLinkAddr = 1;             ///< RFC 4861 4.6.1
inline constexpr uint8_t kNdOptTargetLinkAddr = 2;             ///< RFC 4861 4.6.1

/// Neighbour advertisement flags, as they sit in the first byte after the checksum (RFC 4861
/// 4.4): Router, Solicited, Override.
inline constexpr uint8_t kNaFlagRouter = 0x80;
inline constexpr uint8_t kNaFlagSolicited = 0x40;
inline constexpr uint8_t kNaFlagOverride = 0x20;

/// The Ethernet minimum without FCS (IEEE 802.3: 64 bytes including the 4-byte FCS).
inline constexpr uint32_t kMinFrameLen = 60;
/// ARP frames, tagged or not, are padded to the minimum.
inline constexpr uint32_t kArpFrameLen = kMinFrameLen;
/// NS or NA with one link-layer option, untagged: 14 + 40 (IPv6) + 24 (NS/NA) + 8 (option).
inline constexpr uint32_t kNdFrameLen = 86;
/// The largest frame any builder here writes: a tagged NS or NA.
inline constexpr uint32_t kMaxFrameLen = kNdFrameLen + net::kVlanTagLen;
/// VLAN ids 1..4094 tag a frame; 0 means untagged; 4095 is reserved (IEEE 802.1Q 9.6).
inline constexpr uint16_t kMaxVlanId = 4094;

inline constexpr net::MacAddress kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

/** How a frame leaves a port: the port's MAC (Ethernet source) and its 802.1Q VLAN id. */
struct Link {
    net::MacAddress mac;
    uint16_t vlan_id = 0;  ///< 0 = untagged; otherwise 1..kMaxVlanId, PCP 0, DEI 0
};

/**
 * The solicited-node multicast address of an IPv6 address (RFC 4291 2.7.1):
 * ff02::1:ff00:0/104 followed by the address's low 24 bits.
 *
 * @param addr  an IPv6 address; for an IPv4 address the result is meaningless
 */
net::IpAddress solicited_node(const net::IpAddress& addr) noexcept;

/** ff02::1, the link-local all-nodes group (RFC 4291 2.7.1). */
net::IpAddress all_nodes() noexcept;

/**
 * The Ethernet group address an IPv6 multicast address maps to (RFC 2464 7): 33:33 followed
 * by the last four bytes of the address.
 */
net::MacAddress ipv6_multicast_mac(const net::IpAddress& group) noexcept;

/** Every field of an Ethernet/IPv4 ARP packet plus the Ethernet destination (RFC 826). */
struct ArpFields {
    uint16_t op = kArpOpRequest;
    net::MacAddress eth_dst = kBroadcastMac;
    net::MacAddress sender_mac;  ///< usually Link::mac
    net::IpAddress sender_ip;    ///< IPv4
    net::MacAddress target_mac;  ///< zero in a request, unless it is a keepalived GARP
    net::IpAddress target_ip;    ///< IPv4
};

/**
 * Writes an ARP frame with any field values (the general form of the builders below).
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out   at least kArpFrameLen bytes
 * @param link  Ethernet source and VLAN tag
 * @param arp   the ARP fields; both IPs must be IPv4
 * @return kArpFrameLen, or 0 (buffer too small, non-IPv4 address, bad VLAN id)
 */
uint32_t build_arp(std::span<uint8_t> out, const Link& link, const ArpFields& arp) noexcept;

/**
 * The reply to an ARP request (RFC 826 "swap sender and target, put in the local hardware
 * address, set the opcode to reply"): unicast to the requester's sender MAC, sender = our MAC
 * and the requested address, target = the requester. A probe (RFC 5227 2.1.1, sender IP
 * 0.0.0.0) is answered the same way, to its sender MAC with target IP 0.0.0.0, as Linux does.
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out      at least kArpFrameLen bytes
 * @param link     our port MAC and the VLAN the request arrived on
 * @param request  the parsed request (parse_arp); its target_ip is the address we answer for
 * @return kArpFrameLen, or 0
 */
uint32_t build_arp_reply(std::span<uint8_t> out, const Link& link,
                         const net::ArpPacket& request) noexcept;

/**
 * An ARP request to resolve `target_ip` (RFC 826): sender = our MAC and address, target MAC
 * zero. Broadcast, or unicast to a cached MAC to refresh it (what Linux does while an entry is
 * in NUD_PROBE, RFC 1122 2.3.2.1 "unicast poll").
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out         at least kArpFrameLen bytes
 * @param link        our port MAC and VLAN
 * @param sender_ip   our IPv4 address on the segment
 * @param target_ip   the IPv4 address to resolve
 * @param unicast_to  the Ethernet destination for a refresh; nullopt = broadcast
 * @return kArpFrameLen, or 0
 */
uint32_t build_arp_request(std::span<uint8_t> out, const Link& link,
                           const net::IpAddress& sender_ip, const net::IpAddress& target_ip,
                           std::optional<net::MacAddress> unicast_to = std::nullopt) noexcept;

/**
 * A gratuitous ARP for a VIP exactly as keepalived sends it (vrrp_arp.c, reference
 * keepalived.md 2.4): Ethernet broadcast from our MAC, ARP *request*, sender = our MAC + VIP,
 * target MAC ff:ff:ff:ff:ff:ff, target IP = VIP. RFC 5227 3 would put a zero target MAC in an
 * announcement; receivers ignore the field, and matching keepalived byte for byte keeps pcap
 * comparisons against it trivial.
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out   at least kArpFrameLen bytes
 * @param link  our port MAC (not a VRRP virtual MAC: keepalived's default) and VLAN
 * @param vip   the IPv4 address to announce
 * @return kArpFrameLen, or 0
 */
uint32_t build_garp(std::span<uint8_t> out, const Link& link, const net::IpAddress& vip) noexcept;

/**
 * A neighbour solicitation (RFC 4861 4.3) for `target`: hop limit 255, a source link-layer
 * address option with our MAC (omitted, as 4.3 requires, when src_ip is the unspecified
 * address), ICMPv6 checksum over the IPv6 pseudo-header (RFC 4443 2.3).
 * Multicast to the target's solicited-node group (RFC 4861 7.2.2), or, for a refresh, unicast
 * to the target address at its cached MAC (RFC 4861 7.3.3, PROBE state).
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out         at least kMaxFrameLen bytes (kNdFrameLen untagged)
 * @param link        our port MAC and VLAN
 * @param src_ip      our IPv6 address on the segment
 * @param target      the IPv6 address to resolve
 * @param unicast_to  the cached MAC for a refresh; nullopt = solicited-node multicast
 * @return the frame length (kNdFrameLen, +4 tagged, -8 without the option), or 0
 */
uint32_t build_ns(std::span<uint8_t> out, const Link& link, const net::IpAddress& src_ip,
                  const net::IpAddress& target,
                  std::optional<net::MacAddress> unicast_to = std::nullopt) noexcept;

/** Every field of a neighbour advertisement that varies (RFC 4861 4.4). */
struct NaFields {
    net::IpAddress src;               ///< IPv6 source: the advertised address itself, in our use
    net::IpAddress dst;               ///< the soliciting node, or all_nodes()
    net::MacAddress eth_dst;          ///< its MAC, or ipv6_multicast_mac(dst)
    net::IpAddress target;            ///< the address whose link-layer address is advertised
    uint8_t flags = kNaFlagOverride;  ///< kNaFlag* bits
};

/**
 * A neighbour advertisement (RFC 4861 4.4) carrying a target link-layer address option with
 * our MAC, hop limit 255 and the ICMPv6 checksum.
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out   at least kMaxFrameLen bytes (kNdFrameLen untagged)
 * @param link  our port MAC and VLAN
 * @param na    addresses and flags; all IPv6
 * @return kNdFrameLen (+4 tagged), or 0
 */
uint32_t build_na(std::span<uint8_t> out, const Link& link, const NaFields& na) noexcept;

/**
 * An unsolicited neighbour advertisement for a VIP, as keepalived sends it on becoming MASTER
 * (vrrp_ndisc.c; RFC 4861 7.2.6): from the VIP to all-nodes ff02::1 (Ethernet
 * 33:33:00:00:00:01), Override set, Solicited and Router clear, target = VIP with our MAC.
 *
 * Caller: any thread. noexcept, no allocation.
 *
 * @param out   at least kMaxFrameLen bytes
 * @param link  our port MAC and VLAN
 * @param vip   the IPv6 address to announce
 * @return kNdFrameLen (+4 tagged), or 0
 */
uint32_t build_unsolicited_na(std::span<uint8_t> out, const Link& link,
                              const net::IpAddress& vip) noexcept;

}  // namespace director::neigh
