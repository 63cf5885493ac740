// SPDX-License-Identifier: BSD-3-Clause
// Frame parser: one bounds-checked pass over Ethernet (with at most one 802.1Q tag), ARP,
// IPv4 (options, fragments), IPv6 (extension headers up to the upper-layer header), TCP, UDP,
// ICMP and ICMPv6, that either classifies the frame or names the one reason it is malformed.
//
// Why a parser of our own rather than rte_net_get_ptype: the datapath needs more than a packet
// type. It needs the flow key, the fragment state, and for an ICMP error the flow of the
// *quoted* packet, so that "fragmentation needed" / "packet too big" can be forwarded to the
// real server that owns the flow, as IPVS does for path-MTU discovery. And every rejection must
// land in a named counter (Verdict, DIRECTOR_NET_DROP_REASONS) instead of a silent drop.
//
// Rules the parser keeps (after DPDK l3fwd's is_valid_ipv4_pkt and Katran's pckt_parsing.h):
//   * every length field is checked against the frame before anything behind it is read, and
//     every check cites its RFC clause in parse.cc;
//   * pure function of (bytes, length): no EAL, no mbuf, no allocation, no exceptions; work is
//     bounded (at most kMaxIpv6ExtHeaders extension headers, once outside and once inside an
//     ICMPv6 error, and no recursion into ICMP errors quoted inside ICMP errors);
//   * it never writes the frame. In direct-routing mode only the MAC addresses change
//     (net/ether.h, rewrite_eth), so L3/L4 bytes and their checksums stay untouched.
//
// What it does not check: L4 checksums (the real server does, and NIC offloads usually have),
// IPv4 option contents (skipped by IHL), TCP option contents (skipped by data offset), source
// address sanity (policy, not syntax), and overlapping or tiny non-first fragments (the real
// server reassembles; the director forwards fragments by addresses).
//
// Caller: any lcore; workers call parse_frame once per received frame, the control lcore calls
// parse_arp on frames punted to it. Thread-safe (no shared state), noexcept, no allocation.
#pragma once

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "common/cacheline.h"
#include "net/addr.h"
#include "net/checksum.h"
#include "net/detail/bytes.h"
#include "net/flow.h"
#include "net/verdict.h"

namespace director::net {

inline constexpr uint8_t kIpProtoIcmp = 1;     ///< RFC 792
inline constexpr uint8_t kIpProtoTcp = 6;      ///< RFC 9293
inline constexpr uint8_t kIpProtoUdp = 17;     ///< RFC 768
inline constexpr uint8_t kIpProtoIcmpv6 = 58;  ///< RFC 4443

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  ///< IEEE 802.1Q C-tag
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

inline constexpr uint32_t kEtherHdrLen = 14;
inline constexpr uint32_t kVlanTagLen = 4;
inline constexpr uint32_t kEthDstOffset = 0;  ///< destination MAC: first 6 bytes of every frame
inline constexpr uint32_t kEthSrcOffset = 6;  ///< source MAC: the next 6

/** Extension headers walked before Ipv6TooManyExtHeaders: bounds the work per packet. */
inline constexpr unsigned kMaxIpv6ExtHeaders = 8;

/**
 * Everything the datapath needs from one frame. POD, about 100 bytes; parse_frame overwrites
 * every field, parse_frame_fast every field but `inner` (see there). Offsets count from the
 * first byte of the frame. Which fields are meaningful depends on the verdict:
 *
 *   verdict    flow                                      L4 fields                   inner
 *   Ok         addresses, proto, ports (TCP/UDP only)    l4_offset, tcp_flags/icmp_*  -
 *   IcmpError  outer addresses, proto 1 or 58, no ports  l4_offset, icmp_*            quoted flow
 *   Fragment   addresses, proto, no ports                l4_offset = payload start    -
 *   Arp        src/dst = sender/target IPv4, family V4   -                            -
 *   NotIp      -                                         -                            -
 *   drop       fields up to the failing header are filled; do not use them
 *
 * L2 fields (l2_len, has_vlan, vlan_tci, ethertype) are filled for every verdict except
 * TooShort and a TruncatedSegment inside the Ethernet header.
 */
struct ParsedPacket {
    /// The packet's own flow. Ports are in network byte order; 0 when the protocol has none.
    FlowKey flow;
    /// IcmpError only: the flow of the quoted packet, *as it was sent*. For a reply sent from a
    /// VIP through a real server, inner.src_addr is the VIP and inner.src_port the service port,
    /// so the connection to look up is reversed(inner). Ports are 0 when the quoted packet is a
    /// non-first fragment (inner_is_fragment) or has no ports.
    FlowKey inner;
    uint32_t l3_len;     ///< IP header + payload per its length field; Ethernet padding excluded
    uint16_t ethertype;  ///< host order; the ethertype after the VLAN tag, if any
    uint16_t vlan_tci;   ///< host order: PCP (3 bits), DEI (1), VID (12); 0 without a tag
    uint16_t l3_offset;  ///< start of the IP (or ARP) header: l2_len
    uint16_t l4_offset;  ///< start of the upper-layer header, after IPv4 options / IPv6 ext
    uint16_t inner_l3_offset;  ///< IcmpError: start of the quoted IP header
    uint8_t l2_len;            ///< 14, or 18 with an 802.1Q tag
    uint8_t tcp_flags;         ///< TCP: byte 13 (CWR ECE URG ACK PSH RST SYN FIN, RTE_TCP_*_FLAG)
    uint8_t icmp_type;         ///< ICMP/ICMPv6 type
    uint8_t icmp_code;         ///< ICMP/ICMPv6 code
    bool has_vlan;             ///< an 802.1Q tag was present (and stripped from ethertype)
    bool is_fragment;          ///< IPv4 MF or offset != 0; IPv6 Fragment header with M or offset
    bool is_first_fragment;    ///< is_fragment and offset 0: carries the L4 header and ports
    bool inner_is_fragment;    ///< IcmpError: the quoted packet is a fragment
    Verdict verdict;           ///< the value parse_frame returned

    /** Bytes from the upper-layer header to the end of the IP packet (Ok/IcmpError/Fragment). */
    uint32_t l4_len() const noexcept { return l3_offset + l3_len - l4_offset; }
};
static_assert(std::is_trivially_copyable_v<ParsedPacket>);
// The layout parse_frame_fast's word stores assume (little-endian words, one-byte bools).
static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN && sizeof(bool) == 1 && sizeof(Verdict) == 1 &&
              sizeof(FlowKey) == 40);
static_assert(offsetof(ParsedPacket, l3_len) == 80 && offsetof(ParsedPacket, ethertype) == 84 &&
              offsetof(ParsedPacket, vlan_tci) == 86 && offsetof(ParsedPacket, l3_offset) == 88 &&
              offsetof(ParsedPacket, l4_offset) == 90 &&
              offsetof(ParsedPacket, inner_l3_offset) == 92 &&
              offsetof(ParsedPacket, l2_len) == 94 && offsetof(ParsedPacket, tcp_flags) == 95 &&
              offsetof(ParsedPacket, icmp_type) == 96 && offsetof(ParsedPacket, icmp_code) == 97 &&
              offsetof(ParsedPacket, has_vlan) == 98 && offsetof(ParsedPacket, is_fragment) == 99 &&
              offsetof(ParsedPacket, is_first_fragment) == 100 &&
              offsetof(ParsedPacket, inner_is_fragment) == 101 &&
              offsetof(ParsedPacket, verdict) == 102 && sizeof(ParsedPacket) == 104);
static_assert(sizeof(ParsedPacket) <= 2 * kCacheLine, "a burst of 32 stays within 64 lines");

/** How parse_frame reads the buffer it is given. */
struct ParseOptions {
    /// Length of the whole packet when the buffer holds only its first segment
    /// (rte_mbuf::pkt_len); 0 means the buffer is the whole frame. A header that extends past
    /// the buffer but not past pkt_len gives TruncatedSegment.
    uint32_t pkt_len = 0;
    /// Verify the IPv4 header checksum (RFC 791 3.1). Clear it when the NIC has already
    /// verified it (RTE_MBUF_F_RX_IP_CKSUM_GOOD); see parse_frame_fast for the policy.
    bool verify_ipv4_checksum = true;
};

/**
 * The fields of a frame that parse_fast_v4 accepted, as loaded from the headers: addresses and
 * ports in network byte order, the rest in host order. An aggregate of scalars, so that an
 * inlined caller keeps it in registers.
 */
struct FastV4 {
    uint32_t src;    ///< IPv4 source address, as loaded (network order)
    uint32_t dst;    ///< IPv4 destination address, as loaded
    uint32_t ports;  ///< source and destination port, as loaded from the L4 header
    uint32_t total;  ///< IPv4 total length
    uint32_t l2;     ///< 14, or 18 with an 802.1Q tag
    uint16_t tci;    ///< 802.1Q TCI, 0 without a tag
    uint8_t proto;   ///< 6 or 17
    uint8_t tcp_flags;  ///< TCP byte 13; 0 for UDP
};

/**
 * The checks of parse_frame_fast (below), returning the fields in registers instead of a
 * ParsedPacket: the worker's fast lane uses it to build its own 8-byte record per packet.
 * Same contract, except that `pkt_len` is always the whole packet's length (0 does not stand
 * for `len`): true means parse_frame would say Ok with these fields; false decides nothing.
 */
[[gnu::always_inline]] inline bool parse_fast_v4(const uint8_t* data, uint32_t len,
                                                 uint32_t pkt_len, bool verify_ipv4_checksum,
                                                 FastV4& f) noexcept {
    constexpr uint32_t kIpHdr = 20;  // IHL 5: no options
    constexpr uint32_t kUdpHdr = 8;
    constexpr uint32_t kTcpHdr = 20;
    // One segment holding the whole frame, so every bound below is against `len`; the
    // shortest frame this path accepts is Ethernet + IPv4 + UDP.
    if (unlikely(pkt_len != len || len < kEtherHdrLen + kIpHdr + kUdpHdr)) {
        return false;
    }
    // EtherTypes compared as loaded (network order), without a byte swap.
    uint32_t l2 = kEtherHdrLen;
    uint16_t type = detail::load_ne16(data + 12);
    uint16_t tci = 0;
    if (type == detail::to_be16(kEtherTypeVlan)) {
        if (unlikely(len < kEtherHdrLen + kVlanTagLen + kIpHdr + kUdpHdr)) {
            return false;
        }
        tci = detail::load_be16(data + 14);
        type = detail::load_ne16(data + 16);
        l2 += kVlanTagLen;
    }
    if (unlikely(type != detail::to_be16(kEtherTypeIpv4))) {
        return false;
    }
    // The 20 header bytes as three native words (inside `len`: checked above); every field
    // below comes out of them, and the checksum adds them up.
    const uint8_t* ip = data + l2;
    const Ipv4HeaderWords w = load_ipv4_header_words(ip);
    const uint64_t a = w.a;
    const uint64_t b = w.b;
    // Version 4 with IHL 5 (byte 0; options and everything else take parse_frame), and no
    // fragment: MF clear and offset 0 in bytes 6..7 (DF may be set), in one compare.
    constexpr uint64_t kVersionIhlFragMask = 0xffu | uint64_t{0xff3f} << 48;
    if (unlikely((a & kVersionIhlFragMask) != 0x45)) {
        return false;
    }
    // Total length covers header plus at least a UDP header, within what the link delivered.
    const uint32_t total = rte_be_to_cpu_16(static_cast<uint16_t>(a >> 16));
    if (unlikely(total < kIpHdr + kUdpHdr || total > len - l2)) {
        return false;
    }
    if (verify_ipv4_checksum && unlikely(!ipv4_header20_checksum_ok(w))) {
        return false;
    }
    const uint8_t proto = static_cast<uint8_t>(b >> 8);
    const uint8_t* l4 = ip + kIpHdr;
    const uint32_t l4_len = total - kIpHdr;
    uint8_t tcp_flags = 0;
    if (proto == kIpProtoTcp) {
        // Data offset >= 5 words, header with options inside the IP payload.
        if (unlikely(l4_len < kTcpHdr)) {
            return false;
        }
        const uint32_t doff = (uint32_t{l4[12]} >> 4) * 4;
        if (unlikely(doff < kTcpHdr || doff > l4_len)) {
            return false;
        }
        tcp_flags = l4[13];
    } else if (proto == kIpProtoUdp) {
        const uint32_t ulen = detail::load_be16(l4 + 4);
        if (unlikely(ulen < kUdpHdr || ulen > l4_len)) {
            return false;
        }
    } else {
        return false;
    }
    f.src = static_cast<uint32_t>(b >> 32);
    f.dst = w.c;
    std::memcpy(&f.ports, l4, 4);
    f.total = total;
    f.l2 = l2;
    f.tci = tci;
    f.proto = proto;
    f.tcp_flags = tcp_flags;
    return true;
}

/**
 * The common frame in one straight pass: Ethernet (untagged or one 802.1Q tag), IPv4 without
 * options, not a fragment, TCP or UDP, all in one segment. When it returns true, `out` holds
 * exactly what parse_frame would have stored (verdict Ok) except `inner`, which is not written
 * (it means nothing for Ok; zeroing its 40 bytes per packet was a measurable share of the
 * parser's cost). When it returns false, nothing is decided: the frame is of another kind or
 * malformed, `out` may be partly written, and the caller runs parse_frame, which names the
 * verdict. Every check of parse_frame on this path is made here too, in the same terms (the
 * RFC clauses are cited in parse.cc); test/unit/net checks that both agree on every frame of
 * the fuzz corpus.
 *
 * IPv4 header checksum policy. Linux verifies it in ip_rcv before IPVS sees the packet, so
 * LVS-DR never forwards a corrupted header, and neither do we; but it costs nothing where the
 * NIC has verified it: the caller passes verify_ipv4_checksum = false when the mbuf says
 * RTE_MBUF_F_RX_IP_CKSUM_GOOD (or _NONE: header verified, field not recomputed), and true when
 * the PMD gives no verdict (virtual PMDs, net_pcap) or says BAD (software then decides, and
 * agrees). The software check of an option-less header is a handful of adds (checksum.h).
 *
 * Caller: any lcore; the worker's per-packet path. Inline, noexcept, reads at most `len` bytes.
 *
 * @param data     first byte of the Ethernet header
 * @param len      bytes readable at data (data_len)
 * @param pkt_len  length of the whole packet (pkt_len), or 0 for "len is the whole frame"
 * @param verify_ipv4_checksum  as ParseOptions::verify_ipv4_checksum
 * @param out      filled on true (all fields but `inner`)
 * @param hash     on true, flow_hash(out.flow), computed from registers (flow_hash_v4)
 * @return true: Ok, out filled; false: call parse_frame
 */
[[gnu::always_inline]] inline bool parse_frame_fast(const uint8_t* data, uint32_t len,
                                                    uint32_t pkt_len, bool verify_ipv4_checksum,
                                                    ParsedPacket& out, uint32_t& hash) noexcept {
    constexpr uint32_t kIpHdr = 20;
    FastV4 f;
    if (!parse_fast_v4(data, len, pkt_len == 0 ? len : pkt_len, verify_ipv4_checksum, f)) {
        return false;
    }
    hash = flow_hash_v4(f.src, f.dst, f.ports, f.proto);
    // `out` is written as eight 8-byte words built in registers: field by field it took about
    // 25 narrow stores per packet, and GCC spilled some of the narrow values to the stack and
    // read them back wider, which stalls store-to-load forwarding. The words follow the field
    // layout, which the static_asserts pin; the fuzz test compares every field with
    // parse_frame's.
    const uint64_t zero = 0;
    const uint64_t src_word = f.src;
    const uint64_t dst_word = f.dst;
    const uint64_t ports_word = uint64_t{f.ports} | uint64_t{f.proto} << 32 |
                                uint64_t{static_cast<uint8_t>(Family::V4)} << 40;
    const uint64_t lengths =
        uint64_t{f.total} | uint64_t{kEtherTypeIpv4} << 32 | uint64_t{f.tci} << 48;
    const uint64_t offsets = uint64_t{f.l2} | uint64_t{f.l2 + kIpHdr} << 16 |
                             uint64_t{f.l2} << 48 | uint64_t{f.tcp_flags} << 56;  // inner 0
    const uint64_t flags = uint64_t{f.l2 != kEtherHdrLen} << 16 |  // icmp_*, fragment flags 0
                           uint64_t{static_cast<uint8_t>(Verdict::Ok)} << 48;
    // One 8-byte store each (no array: GCC assembles an array on the stack and copies it with
    // 16-byte loads, which stall on the 8-byte stores that built it).
    char* p = reinterpret_cast<char*>(&out);
    std::memcpy(p + 0, &src_word, 8);
    std::memcpy(p + 8, &zero, 8);
    std::memcpy(p + 16, &dst_word, 8);
    std::memcpy(p + 24, &zero, 8);
    std::memcpy(p + 32, &ports_word, 8);
    std::memcpy(p + offsetof(ParsedPacket, l3_len), &lengths, 8);
    std::memcpy(p + offsetof(ParsedPacket, l3_len) + 8, &offsets, 8);
    std::memcpy(p + offsetof(ParsedPacket, l3_len) + 16, &flags, 8);  // byte 7: padding
    return true;
}

/**
 * Parses one Ethernet frame. Reads at most `len` bytes from `data` and never writes it.
 *
 * Caller: any lcore (the worker, once per frame, with rte_pktmbuf_mtod and data_len).
 * noexcept, no allocation, bounded work.
 *
 * @param data  first byte of the Ethernet header; need not be aligned
 * @param len   bytes readable at data (the first segment's data_len)
 * @param out   filled as described at ParsedPacket; out.verdict is the return value
 * @param opts  segment length and checksum policy
 * @return a class (Ok, IcmpError, Fragment, Arp, NotIp) or, when is_drop(), the reason
 */
Verdict parse_frame(const uint8_t* data, uint32_t len, ParsedPacket& out,
                    const ParseOptions& opts = {}) noexcept;

/** An ARP packet for Ethernet/IPv4 (RFC 826), as the control lcore's ARP responder sees it. */
struct ArpPacket {
    uint16_t op = 0;  ///< 1 request, 2 reply (host order)
    MacAddress sender_mac;
    IpAddress sender_ip;
    MacAddress target_mac;  ///< zero in requests (RFC 826 leaves it unspecified)
    IpAddress target_ip;
};

/**
 * Validates and decodes an ARP packet (RFC 826): hardware type 1 (Ethernet), protocol type
 * 0x0800, hardware length 6, protocol length 4, opcode request or reply.
 *
 * Caller: any lcore. noexcept, no allocation.
 *
 * @param arp  first byte of the ARP header (the frame at ParsedPacket::l3_offset)
 * @param len  bytes readable at arp; padding after the 28 ARP bytes is ignored
 * @param out  filled when the result is Verdict::Arp
 * @return Arp, or ArpTooShort / ArpUnsupported / ArpBadOp
 */
Verdict parse_arp(const uint8_t* arp, uint32_t len, ArpPacket& out) noexcept;

}  // namespace director::net
