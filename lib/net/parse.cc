// SPDX-License-Identifier: BSD-3-Clause
#include "net/parse.h"

#include <rte_branch_prediction.h>

#include <cstring>

#include "net/checksum.h"
#include "net/detail/bytes.h"

namespace director::net {
namespace {

using detail::load_be16;
using detail::load_ne16;

constexpr uint32_t kIpv4MinHdrLen = 20;
constexpr uint32_t kIpv6HdrLen = 40;
constexpr uint32_t kIpv6ExtMinLen = 8;
constexpr uint32_t kTcpMinHdrLen = 20;
constexpr uint32_t kUdpHdrLen = 8;
constexpr uint32_t kIcmpHdrLen = 8;
constexpr uint32_t kArpLen = 28;
constexpr uint32_t kPortsLen = 4;
constexpr uint32_t kIpv4MaxDatagram = 65535;

// IPv6 next-header values that are extension headers (RFC 8200 4, RFC 7045 table).
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6Ah = 51;
constexpr uint8_t kIpv6DestOpts = 60;
constexpr uint8_t kIpv6Mobility = 135;
constexpr uint8_t kIpv6Hip = 139;
constexpr uint8_t kIpv6Shim6 = 140;

// The readable bytes: the first segment.
struct Frame {
    const uint8_t* data;
    uint32_t seg_len;
};

// [off, off + n) must end within `limit`, the end of the enclosing structure (frame, IP packet,
// quoted packet), or the frame is malformed for `reason`; and within the first segment, or it
// is TruncatedSegment. Returns Ok when both hold. Offsets stay far below 2^31: no overflow.
inline Verdict need(const Frame& f, uint32_t off, uint32_t n, uint32_t limit,
                    Verdict reason) noexcept {
    if (unlikely(off + n > limit)) {
        return reason;
    }
    if (unlikely(off + n > f.seg_len)) {
        return Verdict::TruncatedSegment;
    }
    return Verdict::Ok;
}

inline void copy_v4_addrs(const uint8_t* ip, FlowKey& key) noexcept {
    std::memcpy(key.src_addr.data(), ip + 12, 4);
    std::memcpy(key.dst_addr.data(), ip + 16, 4);
    key.family = Family::V4;
}

inline void copy_v6_addrs(const uint8_t* ip, FlowKey& key) noexcept {
    std::memcpy(key.src_addr.data(), ip + 8, 16);
    std::memcpy(key.dst_addr.data(), ip + 24, 16);
    key.family = Family::V6;
}

inline bool is_ipv6_ext_header(uint8_t nh) noexcept {
    switch (nh) {
        case kIpv6HopByHop:
        case kIpv6Routing:
        case kIpv6Fragment:
        case kIpv6Ah:
        case kIpv6DestOpts:
        case kIpv6Mobility:
        case kIpv6Hip:
        case kIpv6Shim6:
            return true;
        default:
            return false;
    }
}

// Result of walking an IPv6 extension-header chain.
struct Ipv6Chain {
    uint32_t l4_offset;  // upper-layer header, or the fragment payload when non_first
    uint8_t proto;       // upper-layer next header (for a non-first fragment: as declared)
    bool is_fragment;
    bool non_first;  // Fragment header with a non-zero offset: no upper-layer header here
};

// Walks the extension headers that start at `off` (RFC 8200 4), at most kMaxIpv6ExtHeaders of
// them, within [.., limit). Returns Ok, TruncatedSegment, or an Ipv6* reason.
Verdict walk_ipv6_chain(const Frame& f, uint32_t off, uint8_t nh, uint32_t limit,
                        Ipv6Chain& chain) noexcept {
    chain.is_fragment = false;
    chain.non_first = false;
    for (unsigned n = 0;; ++n) {
        if (!is_ipv6_ext_header(nh)) {
            chain.l4_offset = off;
            chain.proto = nh;
            return Verdict::Ok;
        }
        if (unlikely(n == kMaxIpv6ExtHeaders)) {
            return Verdict::Ipv6TooManyExtHeaders;
        }
        // RFC 8200 4.1: Hop-by-Hop Options may only follow the IPv6 header itself.
        if (unlikely(nh == kIpv6HopByHop && n != 0)) {
            return Verdict::Ipv6BadHopByHop;
        }
        // RFC 8200 4: every extension header is a multiple of 8 octets, at least 8.
        if (Verdict v = need(f, off, kIpv6ExtMinLen, limit, Verdict::Ipv6ExtTruncated);
            v != Verdict::Ok) {
            return v;
        }
        const uint8_t* h = f.data + off;
        uint32_t len;
        if (nh == kIpv6Fragment) {
            // RFC 8200 4.5: offset in 8-octet units (13 bits), then 2 reserved bits, then M.
            const uint16_t off_m = load_be16(h + 2);
            const bool non_first = (off_m & 0xfff8) != 0;
            // An atomic fragment (offset 0, M 0) is not fragmented (RFC 6946 4).
            chain.is_fragment = chain.is_fragment || non_first || (off_m & 1) != 0;
            if (non_first) {
                chain.non_first = true;
                chain.l4_offset = off + kIpv6ExtMinLen;
                chain.proto = h[0];
                return Verdict::Ok;
            }
            len = kIpv6ExtMinLen;
        } else if (nh == kIpv6Ah) {
            len = (uint32_t{h[1]} + 2) * 4;  // RFC 4302 2.2: length in 4-octet units, minus 2
        } else {
            len = (uint32_t{h[1]} + 1) * 8;  // RFC 8200 4.3-4.6, RFC 6564: 8-octet units, minus 1
        }
        if (Verdict v = need(f, off, len, limit, Verdict::Ipv6ExtTruncated); v != Verdict::Ok) {
            return v;
        }
        nh = h[0];
        off += len;
    }
}

inline bool has_ports(uint8_t proto) noexcept {
    return proto == kIpProtoTcp || proto == kIpProtoUdp;
}

// ICMP errors that quote the packet that caused them: RFC 792 (destination unreachable,
// including fragmentation needed per RFC 1191; time exceeded; parameter problem).
inline bool is_icmp4_error(uint8_t type) noexcept { return type == 3 || type == 11 || type == 12; }

// RFC 4443 2.1, 3: destination unreachable, packet too big, time exceeded, parameter problem.
inline bool is_icmp6_error(uint8_t type) noexcept { return type >= 1 && type <= 4; }

// The IPv4 packet quoted by an ICMP error, at `off`, within [.., limit). RFC 792: the quote is
// the internet header plus at least the first 64 bits of data; we need the header and, for
// TCP/UDP, the 4 bytes of ports. The quoted total length and checksum are not checked: a
// router may quote a packet it has already modified.
Verdict parse_quoted_ipv4(const Frame& f, uint32_t off, uint32_t limit,
                          ParsedPacket& out) noexcept {
    if (Verdict v = need(f, off, kIpv4MinHdrLen, limit, Verdict::IcmpBadInner); v != Verdict::Ok) {
        return v;
    }
    const uint8_t* ip = f.data + off;
    const uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if (unlikely((ip[0] >> 4) != 4 || ihl < kIpv4MinHdrLen)) {
        return Verdict::IcmpBadInner;
    }
    if (Verdict v = need(f, off, ihl, limit, Verdict::IcmpBadInner); v != Verdict::Ok) {
        return v;
    }
    const uint16_t frag = load_be16(ip + 6);
    const bool non_first = (frag & 0x1fff) != 0;
    out.inner_l3_offset = static_cast<uint16_t>(off);
    out.inner_is_fragment = non_first || (frag & 0x2000) != 0;
    copy_v4_addrs(ip, out.inner);
    out.inner.proto = ip[9];
    if (!non_first && has_ports(ip[9])) {
        const uint32_t l4 = off + ihl;
        if (Verdict v = need(f, l4, kPortsLen, limit, Verdict::IcmpBadInner); v != Verdict::Ok) {
            return v;
        }
        out.inner.src_port = load_ne16(f.data + l4);
        out.inner.dst_port = load_ne16(f.data + l4 + 2);
    }
    return Verdict::IcmpError;
}

// The IPv6 packet quoted by an ICMPv6 error (RFC 4443 2.4(c): as much of the invoking packet as
// fits), with its extension headers walked like the outer ones.
Verdict parse_quoted_ipv6(const Frame& f, uint32_t off, uint32_t limit,
                          ParsedPacket& out) noexcept {
    if (Verdict v = need(f, off, kIpv6HdrLen, limit, Verdict::IcmpBadInner); v != Verdict::Ok) {
        return v;
    }
    const uint8_t* ip = f.data + off;
    if (unlikely((ip[0] >> 4) != 6)) {
        return Verdict::IcmpBadInner;
    }
    Ipv6Chain chain;
    if (Verdict v = walk_ipv6_chain(f, off + kIpv6HdrLen, ip[6], limit, chain); v != Verdict::Ok) {
        return v == Verdict::TruncatedSegment ? v : Verdict::IcmpBadInner;
    }
    out.inner_l3_offset = static_cast<uint16_t>(off);
    out.inner_is_fragment = chain.is_fragment;
    copy_v6_addrs(ip, out.inner);
    out.inner.proto = chain.proto;
    if (!chain.non_first && has_ports(chain.proto)) {
        if (Verdict v = need(f, chain.l4_offset, kPortsLen, limit, Verdict::IcmpBadInner);
            v != Verdict::Ok) {
            return v;
        }
        out.inner.src_port = load_ne16(f.data + chain.l4_offset);
        out.inner.dst_port = load_ne16(f.data + chain.l4_offset + 2);
    }
    return Verdict::IcmpError;
}

// The upper-layer header at `off`, inside the IP packet that ends at `limit`. out.flow.proto,
// out.flow.family and out.is_fragment are already set.
Verdict parse_l4(const Frame& f, uint32_t off, uint32_t limit, ParsedPacket& out) noexcept {
    const uint8_t proto = out.flow.proto;
    const uint8_t* l4 = f.data + off;
    if (proto == kIpProtoTcp) {
        // RFC 9293 (RFC 793) 3.1: a 20-byte fixed header; data offset counts 32-bit words,
        // minimum 5, and the header with its options must fit in the segment (and, for a
        // first fragment, in that fragment: RFC 1858 3).
        if (Verdict v = need(f, off, kTcpMinHdrLen, limit, Verdict::TcpTooShort);
            v != Verdict::Ok) {
            return v;
        }
        const uint32_t doff = (uint32_t{l4[12]} >> 4) * 4;
        if (unlikely(doff < kTcpMinHdrLen)) {
            return Verdict::TcpBadDataOffset;
        }
        if (Verdict v = need(f, off, doff, limit, Verdict::TcpBadDataOffset); v != Verdict::Ok) {
            return v;
        }
        out.flow.src_port = load_ne16(l4);
        out.flow.dst_port = load_ne16(l4 + 2);
        out.tcp_flags = l4[13];
        return Verdict::Ok;
    }
    if (proto == kIpProtoUdp) {
        // RFC 768: the length counts header and data, so it is at least 8, and it cannot
        // exceed the IP payload (a shorter one leaves trailing bytes, which receivers trim).
        // A first fragment's UDP length covers the whole datagram, so only the minimum holds.
        if (Verdict v = need(f, off, kUdpHdrLen, limit, Verdict::UdpTooShort); v != Verdict::Ok) {
            return v;
        }
        const uint32_t ulen = load_be16(l4 + 4);
        if (unlikely(ulen < kUdpHdrLen || (!out.is_fragment && ulen > limit - off))) {
            return Verdict::UdpBadLength;
        }
        out.flow.src_port = load_ne16(l4);
        out.flow.dst_port = load_ne16(l4 + 2);
        return Verdict::Ok;
    }
    const bool v4 = out.flow.family == Family::V4;
    if ((v4 && proto == kIpProtoIcmp) || (!v4 && proto == kIpProtoIcmpv6)) {
        // RFC 792 / RFC 4443 2.1: type, code, checksum and a 32-bit type-specific word.
        if (Verdict v = need(f, off, kIcmpHdrLen, limit, Verdict::IcmpTooShort); v != Verdict::Ok) {
            return v;
        }
        out.icmp_type = l4[0];
        out.icmp_code = l4[1];
        if (v4 && is_icmp4_error(l4[0])) {
            return parse_quoted_ipv4(f, off + kIcmpHdrLen, limit, out);
        }
        if (!v4 && is_icmp6_error(l4[0])) {
            return parse_quoted_ipv6(f, off + kIcmpHdrLen, limit, out);
        }
        return Verdict::Ok;
    }
    return Verdict::Ok;  // another upper layer (ESP, GRE, SCTP, ...): forwarded by addresses
}

Verdict parse_ipv4(const Frame& f, uint32_t l3, uint32_t frame_len, ParsedPacket& out,
                   bool verify_checksum) noexcept {
    // RFC 1812 5.2.2 (1): the link layer must deliver at least a minimal (20-byte) header.
    if (Verdict v = need(f, l3, kIpv4MinHdrLen, frame_len, Verdict::Ipv4TooShort);
        v != Verdict::Ok) {
        return v;
    }
    const uint8_t* ip = f.data + l3;
    // RFC 791 3.1: Version 4; IHL in 32-bit words, at least 5.
    if (unlikely((ip[0] >> 4) != 4)) {
        return Verdict::Ipv4BadVersion;
    }
    const uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if (unlikely(ihl < kIpv4MinHdrLen)) {
        return Verdict::Ipv4BadIhl;
    }
    // RFC 1812 5.2.2 (5): the total length covers the header; it may not exceed what the link
    // delivered. Bytes beyond it are Ethernet padding and are ignored.
    const uint32_t total = load_be16(ip + 2);
    if (unlikely(total < ihl || total > frame_len - l3)) {
        return Verdict::Ipv4BadTotalLength;
    }
    if (unlikely(l3 + ihl > f.seg_len)) {
        return Verdict::TruncatedSegment;
    }
    // RFC 791 3.1 / RFC 1812 5.2.2 (2): header checksum over the header, options included.
    if (verify_checksum && unlikely(!ipv4_header_checksum_ok(ip, ihl))) {
        return Verdict::Ipv4BadChecksum;
    }
    // RFC 791 3.2: offset in 8-octet units; no fragment may reach past byte 65535 of the
    // datagram (the "ping of death").
    const uint16_t frag = load_be16(ip + 6);
    const uint32_t frag_offset = uint32_t{frag & 0x1fffu} * 8;
    if (unlikely(frag_offset + (total - ihl) > kIpv4MaxDatagram)) {
        return Verdict::Ipv4BadFragment;
    }
    copy_v4_addrs(ip, out.flow);
    out.flow.proto = ip[9];
    out.l3_len = total;
    out.l4_offset = static_cast<uint16_t>(l3 + ihl);
    out.is_fragment = frag_offset != 0 || (frag & 0x2000) != 0;  // MF
    out.is_first_fragment = out.is_fragment && frag_offset == 0;
    if (frag_offset != 0) {
        return Verdict::Fragment;
    }
    return parse_l4(f, l3 + ihl, l3 + total, out);
}

Verdict parse_ipv6(const Frame& f, uint32_t l3, uint32_t frame_len, ParsedPacket& out) noexcept {
    // RFC 8200 3: a fixed 40-byte header, version 6.
    if (Verdict v = need(f, l3, kIpv6HdrLen, frame_len, Verdict::Ipv6TooShort); v != Verdict::Ok) {
        return v;
    }
    const uint8_t* ip = f.data + l3;
    if (unlikely((ip[0] >> 4) != 6)) {
        return Verdict::Ipv6BadVersion;
    }
    // RFC 8200 3: payload length counts everything after the fixed header, extension headers
    // included. Zero (a jumbogram, RFC 2675) cannot carry a header on Ethernet and fails below.
    const uint32_t payload = load_be16(ip + 4);
    if (unlikely(payload > frame_len - l3 - kIpv6HdrLen)) {
        return Verdict::Ipv6BadPayloadLength;
    }
    const uint32_t end = l3 + kIpv6HdrLen + payload;
    copy_v6_addrs(ip, out.flow);
    out.l3_len = kIpv6HdrLen + payload;
    Ipv6Chain chain;
    if (Verdict v = walk_ipv6_chain(f, l3 + kIpv6HdrLen, ip[6], end, chain); v != Verdict::Ok) {
        return v;
    }
    out.flow.proto = chain.proto;
    out.l4_offset = static_cast<uint16_t>(chain.l4_offset);
    out.is_fragment = chain.is_fragment;
    out.is_first_fragment = chain.is_fragment && !chain.non_first;
    if (chain.non_first) {
        return Verdict::Fragment;
    }
    return parse_l4(f, chain.l4_offset, end, out);
}

// RFC 826 packet format, restricted to Ethernet / IPv4. `arp` holds at least kArpLen bytes.
inline Verdict check_arp(const uint8_t* arp) noexcept {
    if (unlikely(load_be16(arp) != 1 || load_be16(arp + 2) != kEtherTypeIpv4 || arp[4] != 6 ||
                 arp[5] != 4)) {
        return Verdict::ArpUnsupported;
    }
    const uint16_t op = load_be16(arp + 6);
    if (unlikely(op != 1 && op != 2)) {
        return Verdict::ArpBadOp;
    }
    return Verdict::Arp;
}

Verdict parse_frame_impl(const uint8_t* data, uint32_t len, ParsedPacket& out,
                         const ParseOptions& opts) noexcept {
    const uint32_t frame_len = opts.pkt_len != 0 ? opts.pkt_len : len;
    const Frame f{data, len < frame_len ? len : frame_len};
    // IEEE 802.3 3.1.1: destination, source, type/length.
    if (Verdict v = need(f, 0, kEtherHdrLen, frame_len, Verdict::TooShort); v != Verdict::Ok) {
        return v;
    }
    uint16_t type = load_be16(data + 12);
    uint32_t l2 = kEtherHdrLen;
    // IEEE 802.1Q 9.6: one C-tag (TPID 0x8100, then TCI, then the real type) is accepted; a
    // second tag or an 802.1ad S-tag (0x88a8, or the pre-standard 0x9100-0x9300) is not.
    if (type == kEtherTypeVlan) {
        if (Verdict v = need(f, l2, kVlanTagLen, frame_len, Verdict::TooShort); v != Verdict::Ok) {
            return v;
        }
        out.has_vlan = true;
        out.vlan_tci = load_be16(data + 14);
        type = load_be16(data + 16);
        l2 += kVlanTagLen;
    }
    out.l2_len = static_cast<uint8_t>(l2);
    out.ethertype = type;
    out.l3_offset = static_cast<uint16_t>(l2);
    switch (type) {
        case kEtherTypeIpv4:
            return parse_ipv4(f, l2, frame_len, out, opts.verify_ipv4_checksum);
        case kEtherTypeIpv6:
            return parse_ipv6(f, l2, frame_len, out);
        case kEtherTypeArp: {
            if (Verdict v = need(f, l2, kArpLen, frame_len, Verdict::ArpTooShort);
                v != Verdict::Ok) {
                return v;
            }
            const uint8_t* arp = data + l2;
            out.l3_len = kArpLen;
            std::memcpy(out.flow.src_addr.data(), arp + 14, 4);  // sender protocol address
            std::memcpy(out.flow.dst_addr.data(), arp + 24, 4);  // target protocol address
            out.flow.family = Family::V4;
            return check_arp(arp);
        }
        case kEtherTypeVlan:
        case 0x88a8:
        case 0x9100:
        case 0x9200:
        case 0x9300:
            return Verdict::VlanStacked;
        default:
            return Verdict::NotIp;
    }
}

}  // namespace

Verdict parse_frame(const uint8_t* data, uint32_t len, ParsedPacket& out,
                    const ParseOptions& opts) noexcept {
    out = ParsedPacket{};
    out.verdict = parse_frame_impl(data, len, out, opts);
    return out.verdict;
}

Verdict parse_arp(const uint8_t* arp, uint32_t len, ArpPacket& out) noexcept {
    // RFC 826: 8 bytes of format and opcode, then sender and target hardware/protocol address.
    if (unlikely(len < kArpLen)) {
        return Verdict::ArpTooShort;
    }
    const Verdict v = check_arp(arp);
    if (v != Verdict::Arp) {
        return v;
    }
    out.op = load_be16(arp + 6);
    std::memcpy(out.sender_mac.bytes.data(), arp + 8, 6);
    out.sender_ip = IpAddress::v4_bytes(arp + 14);
    std::memcpy(out.target_mac.bytes.data(), arp + 18, 6);
    out.target_ip = IpAddress::v4_bytes(arp + 24);
    return Verdict::Arp;
}

}  // namespace director::net
