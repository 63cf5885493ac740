// SPDX-License-Identifier: BSD-3-Clause
// The parser's verdict: what kind of frame this is, or the one reason it was dropped.
//
// Every drop reason is declared once, in DIRECTOR_NET_DROP_REASONS, with the counter name and
// help text the metrics layer exports (STYLE C7, after VPP's foreach_*_error lists). The
// non-drop classes come first in the enum, so "is this a drop?" is one compare and a drop
// reason's counter index is `drop_index(v)`.
//
// Caller: any lcore. Everything here is constexpr or a table lookup: noexcept, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

// X(EnumName, counter_name, "help text"): frames the parser accepts, by class.
#define DIRECTOR_NET_CLASSES(X)                                                                 \
    X(Ok, ok, "IPv4 or IPv6 packet; its L4 header (if TCP, UDP, ICMP or ICMPv6) was parsed")    \
    X(IcmpError, icmp_error,                                                                    \
      "ICMP/ICMPv6 error (unreachable, too big, time exceeded, parameter problem); the quoted " \
      "packet's flow was parsed")                                                               \
    X(Fragment, fragment, "Non-first IP fragment: it carries no L4 header, so no ports")        \
    X(Arp, arp, "Well-formed Ethernet/IPv4 ARP request or reply")                               \
    X(NotIp, not_ip, "Ethertype is neither IPv4, IPv6 nor ARP (LLDP, 802.3 length, ...)")

// X(EnumName, counter_name, "help text"): one entry per reason a frame is dropped as malformed.
#define DIRECTOR_NET_DROP_REASONS(X)                                                            \
    X(TooShort, too_short, "Frame shorter than its Ethernet header (14 bytes, 18 with 802.1Q)") \
    X(TruncatedSegment, truncated_segment,                                                      \
      "Headers continue past the first mbuf segment (multi-segment frame)")                     \
    X(VlanStacked, vlan_stacked, "More than one VLAN tag, or an 802.1ad / QinQ service tag")    \
    X(ArpTooShort, arp_too_short, "ARP payload shorter than 28 bytes (RFC 826)")                \
    X(ArpUnsupported, arp_unsupported,                                                          \
      "ARP for other than Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4; RFC 826)")      \
    X(ArpBadOp, arp_bad_op, "ARP opcode neither request (1) nor reply (2) (RFC 826)")           \
    X(Ipv4TooShort, ipv4_too_short, "IPv4 frame without room for a 20-byte header (RFC 791)")   \
    X(Ipv4BadVersion, ipv4_bad_version, "IPv4 ethertype but IP version is not 4 (RFC 791 3.1)") \
    X(Ipv4BadIhl, ipv4_bad_ihl, "IPv4 header length (IHL) below 5 words (RFC 791 3.1)")         \
    X(Ipv4BadTotalLength, ipv4_bad_total_length,                                                \
      "IPv4 total length below the header length or beyond the frame (RFC 1812 5.2.2)")         \
    X(Ipv4BadChecksum, ipv4_bad_checksum, "IPv4 header checksum mismatch (RFC 791 3.1)")        \
    X(Ipv4BadFragment, ipv4_bad_fragment,                                                       \
      "IPv4 fragment would end past byte 65535 of its datagram (RFC 791 3.2)")                  \
    X(Ipv6TooShort, ipv6_too_short, "IPv6 frame without room for a 40-byte header (RFC 8200)")  \
    X(Ipv6BadVersion, ipv6_bad_version, "IPv6 ethertype but IP version is not 6 (RFC 8200 3)")  \
    X(Ipv6BadPayloadLength, ipv6_bad_payload_length,                                            \
      "IPv6 payload length beyond the frame (RFC 8200 3)")                                      \
    X(Ipv6ExtTruncated, ipv6_ext_truncated,                                                     \
      "IPv6 extension header runs past the end of the payload (RFC 8200 4)")                    \
    X(Ipv6BadHopByHop, ipv6_bad_hop_by_hop,                                                     \
      "IPv6 Hop-by-Hop header not directly after the IPv6 header (RFC 8200 4.1)")               \
    X(Ipv6TooManyExtHeaders, ipv6_too_many_ext_headers,                                         \
      "More IPv6 extension headers than the parser walks (kMaxIpv6ExtHeaders)")                 \
    X(TcpTooShort, tcp_too_short, "TCP segment shorter than 20 bytes (RFC 9293 3.1)")           \
    X(TcpBadDataOffset, tcp_bad_data_offset,                                                    \
      "TCP data offset below 5 words or past the IP payload (RFC 9293 3.1)")                    \
    X(UdpTooShort, udp_too_short, "UDP datagram shorter than its 8-byte header (RFC 768)")      \
    X(UdpBadLength, udp_bad_length, "UDP length below 8 or beyond the IP payload (RFC 768)")    \
    X(IcmpTooShort, icmp_too_short, "ICMP/ICMPv6 message shorter than 8 bytes (RFC 792, 4443)") \
    X(IcmpBadInner, icmp_bad_inner,                                                             \
      "ICMP error quotes a packet too short or malformed to identify its flow (RFC 792, 4443)")

namespace director::net {

/** What the parser made of a frame: a class (Ok .. NotIp), or the reason it must be dropped. */
enum class Verdict : uint8_t {
#define DIRECTOR_NET_ENUM(name, counter, help) name,
    DIRECTOR_NET_CLASSES(DIRECTOR_NET_ENUM) DIRECTOR_NET_DROP_REASONS(DIRECTOR_NET_ENUM)
#undef DIRECTOR_NET_ENUM
};

#define DIRECTOR_NET_COUNT(name, counter, help) +1
/** Number of non-drop classes; they occupy values [0, kClassCount). */
inline constexpr std::size_t kClassCount = 0 DIRECTOR_NET_CLASSES(DIRECTOR_NET_COUNT);
/** Number of drop reasons; they occupy values [kClassCount, kVerdictCount). */
inline constexpr std::size_t kDropReasonCount = 0 DIRECTOR_NET_DROP_REASONS(DIRECTOR_NET_COUNT);
#undef DIRECTOR_NET_COUNT
inline constexpr std::size_t kVerdictCount = kClassCount + kDropReasonCount;

/** True when the frame is malformed and must be dropped (and counted by its reason). */
constexpr bool is_drop(Verdict v) noexcept { return static_cast<std::size_t>(v) >= kClassCount; }

/**
 * Index of a drop reason in [0, kDropReasonCount), in DIRECTOR_NET_DROP_REASONS order: the
 * index of its counter. Only meaningful when is_drop(v).
 */
constexpr std::size_t drop_index(Verdict v) noexcept {
    return static_cast<std::size_t>(v) - kClassCount;
}

/**
 * The enumerator's name, e.g. "Ipv4BadChecksum". Caller: any lcore.
 * @return a static string; "Invalid" for a value outside the enum
 */
const char* to_string(Verdict v) noexcept;

/**
 * The snake_case counter name, e.g. "ipv4_bad_checksum", for metrics and logs.
 * @return a static string; "invalid" for a value outside the enum
 */
const char* counter_name(Verdict v) noexcept;

/**
 * One-line help text for the verdict's counter.
 * @return a static string; "" for a value outside the enum
 */
const char* help_text(Verdict v) noexcept;

}  // namespace director::net
