// SPDX-License-Identifier: BSD-3-Clause
// Parser tests: one table row per verdict and per drop reason, then field-level checks of the
// accepted classes, then every truncation of several valid frames (ASan proves no overread).
#include "net/parse.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fixtures/packet_builder.h"
#include "net/ether.h"

namespace director::net {
namespace {

using test::Bytes;
using test::PacketBuilder;

constexpr const char* kClientMac = "02:00:00:00:00:01";
constexpr const char* kDirectorMac = "02:00:00:00:00:fe";
constexpr const char* kClient4 = "10.99.0.10";
constexpr const char* kVip4 = "10.99.0.252";
constexpr const char* kRouter4 = "10.99.0.1";
constexpr const char* kClient6 = "2001:db8::10";
constexpr const char* kVip6 = "2001:db8::252";
constexpr const char* kRouter6 = "2001:db8::1";

PacketBuilder client_to_vip4() {
    return PacketBuilder().eth(kClientMac, kDirectorMac).ipv4(kClient4, kVip4);
}

PacketBuilder client_to_vip6() {
    return PacketBuilder().eth(kClientMac, kDirectorMac).ipv6(kClient6, kVip6);
}

// "Who has the VIP? Tell the client": a broadcast ARP request.
PacketBuilder who_has_vip() {
    return PacketBuilder()
        .eth(kClientMac, "ff:ff:ff:ff:ff:ff")
        .arp_request(kClientMac, kClient4, kVip4);
}

PacketBuilder router_to_vip4() {
    return PacketBuilder().eth(kClientMac, kDirectorMac).ipv4(kRouter4, kVip4);
}

PacketBuilder router_to_vip6() {
    return PacketBuilder().eth(kClientMac, kDirectorMac).ipv6(kRouter6, kVip6);
}

// What the real server sent from the VIP, as an ICMP error quotes it.
Bytes reply4() {
    return PacketBuilder()
        .ipv4(kVip4, kClient4)
        .dont_fragment()
        .tcp(80, 40000)
        .flags(test::kTcpSyn | test::kTcpAck)
        .build();
}

Bytes reply6() {
    return PacketBuilder().ipv6(kVip6, kClient6).tcp(80, 40000).payload_size(1200).build();
}

// The frame cut to n bytes (or n bytes of a larger segment), in a heap block of exactly n
// bytes, so that any read past the end is a heap-buffer-overflow under ASan.
struct ExactBuffer {
    explicit ExactBuffer(const Bytes& frame, std::size_t n)
        : data(new uint8_t[n]), len(static_cast<uint32_t>(n)) {
        std::copy(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n), data.get());
    }
    std::unique_ptr<uint8_t[]> data;
    uint32_t len;
};

Verdict parse_exact(const Bytes& frame, ParsedPacket& out, ParseOptions opts = {}) {
    ExactBuffer buf(frame, frame.size());
    return parse_frame(buf.data.get(), buf.len, out, opts);
}

Verdict parse_exact(const Bytes& frame) {
    ParsedPacket pp;
    return parse_exact(frame, pp);
}

Bytes truncated(Bytes b, std::size_t n) {
    b.resize(n);
    return b;
}

Bytes n_dest_opts(PacketBuilder b, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        b.destination_options();
    }
    return b.tcp(40000, 80).build();
}

// ---- The verdict table ---------------------------------------------------------------------

struct VerdictCase {
    std::string description;
    Bytes frame;
    Verdict expected;
    ParseOptions opts{};
};

std::vector<VerdictCase> verdict_cases() {
    const Bytes tcp4 = client_to_vip4().tcp(40000, 80).flags(test::kTcpSyn).build();
    const Bytes tcp6 = client_to_vip6().tcp(40000, 80).flags(test::kTcpSyn).build();
    return {
        // Accepted classes.
        {"TCP SYN over IPv4", tcp4, Verdict::Ok},
        {"UDP over IPv4", client_to_vip4().udp(5353, 53).payload("q").build(), Verdict::Ok},
        {"ICMP echo over IPv4", client_to_vip4().echo_request(1, 1).build(), Verdict::Ok},
        {"IPv4 with options",
         client_to_vip4().ipv4_options({7, 7, 4, 0, 0, 0, 0}).tcp(1, 80).build(), Verdict::Ok},
        {"GRE over IPv4 (no ports)", client_to_vip4().ip_proto(47).payload_size(8).build(),
         Verdict::Ok},
        {"TCP over IPv4 in VLAN 100", client_to_vip4().vlan(100).tcp(40000, 80).build(),
         Verdict::Ok},
        {"UDP over IPv4 padded to 60 bytes", client_to_vip4().udp(1, 53).pad_to(60).build(),
         Verdict::Ok},
        {"IPv4 first fragment",
         client_to_vip4().fragment(0, true).udp(1, 53).payload_size(64).build(), Verdict::Ok},
        {"TCP SYN over IPv6", tcp6, Verdict::Ok},
        {"UDP over IPv6", client_to_vip6().udp(5353, 53).build(), Verdict::Ok},
        {"ICMPv6 echo", client_to_vip6().echo_request(7, 1).build(), Verdict::Ok},
        {"ICMPv6 neighbour solicitation", client_to_vip6().icmp(135, 0).payload_size(16).build(),
         Verdict::Ok},
        {"IPv6 no next header", client_to_vip6().build(), Verdict::Ok},
        {"IPv6 HBH, routing, dest opts, AH, TCP",
         client_to_vip6()
             .hop_by_hop()
             .routing(4, 1, {kVip6})
             .destination_options(2)
             .authentication_header()
             .tcp(40000, 80)
             .build(),
         Verdict::Ok},
        {"IPv6 first fragment", client_to_vip6().fragment(0, true).tcp(40000, 80).build(),
         Verdict::Ok},
        {"IPv6 atomic fragment", client_to_vip6().fragment(0, false).udp(1, 53).build(),
         Verdict::Ok},
        {"8 extension headers (the limit)", n_dest_opts(client_to_vip6(), 8), Verdict::Ok},
        {"ICMP frag-needed quoting TCP",
         router_to_vip4().frag_needed(1400).quoting(reply4()).build(), Verdict::IcmpError},
        {"ICMP time exceeded quoting UDP",
         router_to_vip4()
             .time_exceeded()
             .quoting(PacketBuilder().ipv4(kVip4, kClient4).udp(53, 5353).build())
             .build(),
         Verdict::IcmpError},
        {"ICMP parameter problem", router_to_vip4().parameter_problem(8).quoting(reply4()).build(),
         Verdict::IcmpError},
        {"ICMPv6 packet too big, quote cut at 1232 bytes",
         router_to_vip6().packet_too_big(1280).quoting(reply6(), 1232).build(), Verdict::IcmpError},
        {"ICMPv6 destination unreachable",
         router_to_vip6().dest_unreachable(4).quoting(reply6(), 64).build(), Verdict::IcmpError},
        {"IPv4 non-first fragment", client_to_vip4().fragment(1480, false).udp(1, 53).build(),
         Verdict::Fragment},
        {"IPv6 non-first fragment", client_to_vip6().fragment(1232, true).payload_size(64).build(),
         Verdict::Fragment},
        {"ARP request", who_has_vip().build(), Verdict::Arp},
        {"ARP reply in VLAN 7",
         PacketBuilder()
             .eth(kClientMac, kDirectorMac)
             .vlan(7)
             .arp_reply(kClientMac, kClient4, kDirectorMac, kVip4)
             .build(),
         Verdict::Arp},
        {"LLDP",
         PacketBuilder()
             .eth(kClientMac, "01:80:c2:00:00:0e")
             .ethertype(0x88cc)
             .payload_size(40)
             .build(),
         Verdict::NotIp},
        {"802.3 length field",
         PacketBuilder().eth(kClientMac, kDirectorMac).ethertype(46).payload_size(46).build(),
         Verdict::NotIp},

        // Drops: Ethernet.
        {"empty frame", {}, Verdict::TooShort},
        {"13 bytes", truncated(tcp4, 13), Verdict::TooShort},
        {"VLAN tag cut short", truncated(client_to_vip4().vlan(1).tcp(1, 2).build(), 16),
         Verdict::TooShort},
        {"headers past the first segment",
         truncated(tcp4, 40),
         Verdict::TruncatedSegment,
         {.pkt_len = static_cast<uint32_t>(tcp4.size())}},
        {"two 802.1Q tags", client_to_vip4().vlan(1).vlan(2).tcp(1, 2).build(),
         Verdict::VlanStacked},
        {"802.1ad service tag", client_to_vip4().vlan_tag(0x88a8, 5).tcp(1, 2).build(),
         Verdict::VlanStacked},
        {"S-tag after C-tag", client_to_vip4().vlan(1).vlan_tag(0x88a8, 5).tcp(1, 2).build(),
         Verdict::VlanStacked},
        // Drops: ARP (RFC 826).
        {"ARP cut at 27 bytes", truncated(who_has_vip().build(), 14 + 27), Verdict::ArpTooShort},
        {"ARP htype 6", who_has_vip().arp_format(6, 0x0800, 6, 4).build(), Verdict::ArpUnsupported},
        {"ARP ptype IPv6", who_has_vip().arp_format(1, 0x86dd, 6, 4).build(),
         Verdict::ArpUnsupported},
        {"ARP hlen 8", who_has_vip().arp_format(1, 0x0800, 8, 4).build(), Verdict::ArpUnsupported},
        {"ARP plen 16", who_has_vip().arp_format(1, 0x0800, 6, 16).build(),
         Verdict::ArpUnsupported},
        {"RARP opcode 3", who_has_vip().arp_op(3).build(), Verdict::ArpBadOp},
        // Drops: IPv4 (RFC 791, RFC 1812 5.2.2).
        {"IPv4 header cut at 19 bytes", truncated(tcp4, 14 + 19), Verdict::Ipv4TooShort},
        {"IPv4 ethertype, version 6", client_to_vip4().ip_version(6).tcp(1, 2).build(),
         Verdict::Ipv4BadVersion},
        {"IHL 4", client_to_vip4().ipv4_ihl(4).tcp(1, 2).build(), Verdict::Ipv4BadIhl},
        {"IHL 0", client_to_vip4().ipv4_ihl(0).tcp(1, 2).build(), Verdict::Ipv4BadIhl},
        {"total length below IHL",
         client_to_vip4().ipv4_ihl(6).ipv4_total_length(20).tcp(1, 2).build(),
         Verdict::Ipv4BadTotalLength},
        {"total length 19", client_to_vip4().ipv4_total_length(19).tcp(1, 2).build(),
         Verdict::Ipv4BadTotalLength},
        {"total length past the frame", client_to_vip4().ipv4_total_length(1500).tcp(1, 2).build(),
         Verdict::Ipv4BadTotalLength},
        {"IHL 15 past the frame", client_to_vip4().ipv4_ihl(15).ip_proto(17).build(),
         Verdict::Ipv4BadTotalLength},
        {"bad header checksum", client_to_vip4().ipv4_checksum(0x1234).tcp(1, 2).build(),
         Verdict::Ipv4BadChecksum},
        {"fragment past 65535", client_to_vip4().fragment(65528, false).payload_size(100).build(),
         Verdict::Ipv4BadFragment},
        // Drops: IPv6 (RFC 8200).
        {"IPv6 header cut at 39 bytes", truncated(tcp6, 14 + 39), Verdict::Ipv6TooShort},
        {"IPv6 ethertype, version 4", client_to_vip6().ip_version(4).tcp(1, 2).build(),
         Verdict::Ipv6BadVersion},
        {"payload length past the frame",
         client_to_vip6().ipv6_payload_length(21).tcp(1, 2).build(), Verdict::Ipv6BadPayloadLength},
        {"jumbogram payload length 0",
         client_to_vip6().hop_by_hop().ipv6_payload_length(0).tcp(1, 2).build(),
         Verdict::Ipv6ExtTruncated},
        {"routing header longer than the payload",
         client_to_vip6().ext_header_raw(43, {4, 0, 0, 0, 0, 0, 0}).build(),
         Verdict::Ipv6ExtTruncated},
        {"extension header cut below 8 bytes",
         client_to_vip6().ext_header_raw(60, {0, 1, 2}).build(), Verdict::Ipv6ExtTruncated},
        {"Hop-by-Hop after Destination Options",
         client_to_vip6().destination_options().hop_by_hop().tcp(1, 2).build(),
         Verdict::Ipv6BadHopByHop},
        {"9 extension headers", n_dest_opts(client_to_vip6(), 9), Verdict::Ipv6TooManyExtHeaders},
        // Drops: TCP (RFC 9293 3.1).
        {"TCP header of 19 bytes over IPv4", client_to_vip4().ip_proto(6).payload_size(19).build(),
         Verdict::TcpTooShort},
        {"TCP header of 19 bytes over IPv6", client_to_vip6().ip_proto(6).payload_size(19).build(),
         Verdict::TcpTooShort},
        {"TCP first fragment too short for the header (RFC 1858)",
         client_to_vip4().fragment(0, true).ip_proto(6).payload_size(16).build(),
         Verdict::TcpTooShort},
        {"TCP data offset 4", client_to_vip4().tcp(1, 2).tcp_data_offset(4).build(),
         Verdict::TcpBadDataOffset},
        {"TCP data offset past the segment", client_to_vip4().tcp(1, 2).tcp_data_offset(15).build(),
         Verdict::TcpBadDataOffset},
        // Drops: UDP (RFC 768).
        {"UDP header of 7 bytes", client_to_vip4().ip_proto(17).payload_size(7).build(),
         Verdict::UdpTooShort},
        {"UDP length 7", client_to_vip4().udp(1, 2).udp_length(7).build(), Verdict::UdpBadLength},
        {"UDP length past the payload",
         client_to_vip6().udp(1, 2).payload("abc").udp_length(12).build(), Verdict::UdpBadLength},
        // Drops: ICMP (RFC 792, RFC 4443).
        {"ICMP of 7 bytes", client_to_vip4().ip_proto(1).payload_size(7).build(),
         Verdict::IcmpTooShort},
        {"ICMPv6 of 4 bytes", client_to_vip6().ip_proto(58).payload_size(4).build(),
         Verdict::IcmpTooShort},
        {"frag-needed quoting 19 bytes",
         router_to_vip4().frag_needed(1400).quoting(reply4(), 19).build(), Verdict::IcmpBadInner},
        {"frag-needed quoting no ports",
         router_to_vip4().frag_needed(1400).quoting(reply4(), 22).build(), Verdict::IcmpBadInner},
        {"ICMP error quoting IPv6",
         router_to_vip4().frag_needed(1400).quoting(reply6(), 60).build(), Verdict::IcmpBadInner},
        {"ICMP error quoting IHL 4",
         router_to_vip4()
             .time_exceeded()
             .quoting(PacketBuilder().ipv4(kVip4, kClient4).ipv4_ihl(4).tcp(80, 1).build())
             .build(),
         Verdict::IcmpBadInner},
        {"ICMPv6 error quoting IPv4",
         router_to_vip6().packet_too_big(1280).quoting(reply4()).build(), Verdict::IcmpBadInner},
        {"ICMPv6 error quoting 39 bytes",
         router_to_vip6().packet_too_big(1280).quoting(reply6(), 39).build(),
         Verdict::IcmpBadInner},
        {"ICMPv6 error quoting a 9-header chain",
         router_to_vip6()
             .time_exceeded()
             .quoting(n_dest_opts(PacketBuilder().ipv6(kVip6, kClient6), 9))
             .build(),
         Verdict::IcmpBadInner},
        {"ICMPv6 error quoting a cut extension header",
         router_to_vip6()
             .time_exceeded()
             .quoting(
                 PacketBuilder().ipv6(kVip6, kClient6).destination_options(3).tcp(80, 1).build(),
                 60)
             .build(),
         Verdict::IcmpBadInner},
    };
}

TEST(Parser, EveryTableRowGetsItsVerdict) {
    for (const VerdictCase& c : verdict_cases()) {
        ParsedPacket pp;
        ExactBuffer buf(c.frame, c.frame.size());
        const Verdict v = parse_frame(buf.data.get(), buf.len, pp, c.opts);
        EXPECT_EQ(v, c.expected) << c.description << "\n" << test::hex(c.frame);
        EXPECT_EQ(pp.verdict, v) << c.description;
    }
}

// parse_frame_fast takes only frames parse_frame calls Ok: every malformed row of the table
// (each drop reason) is declined, in an exact-size buffer (ASan: no overread).
TEST(ParserFastPath, DeclinesEveryRowThatIsNotOk) {
    int taken = 0;
    for (const VerdictCase& c : verdict_cases()) {
        ParsedPacket pp;
        uint32_t hash = 0;
        ExactBuffer buf(c.frame, c.frame.size());
        const bool fast = parse_frame_fast(buf.data.get(), buf.len, c.opts.pkt_len,
                                           c.opts.verify_ipv4_checksum, pp, hash);
        if (c.expected != Verdict::Ok) {
            EXPECT_FALSE(fast) << c.description << "\n" << test::hex(c.frame);
        } else if (fast) {
            ++taken;
            EXPECT_EQ(pp.verdict, Verdict::Ok) << c.description;
        }
    }
    EXPECT_GT(taken, 0) << "no Ok row of the table took the fast path";
}

TEST(ParserFastPath, TakesTheCommonFramesWithTheSameFields) {
    const std::vector<std::pair<const char*, Bytes>> frames = {
        {"TCP SYN", client_to_vip4().tcp(40000, 80).flags(test::kTcpSyn).mss(1460).build()},
        {"TCP ACK padded to 60",
         client_to_vip4().tcp(40000, 80).flags(test::kTcpAck).pad_to(60).build()},
        {"UDP in a VLAN", client_to_vip4().vlan(7).udp(5353, 53).payload("query").build()},
        {"UDP length shorter than payload",
         client_to_vip4().udp(1, 53).payload("abcd").udp_length(9).build()},
        {"DF set", client_to_vip4().dont_fragment().tcp(1, 2).build()},
    };
    for (const auto& [name, f] : frames) {
        ExactBuffer buf(f, f.size());
        ParsedPacket full;
        ASSERT_EQ(parse_frame(buf.data.get(), buf.len, full), Verdict::Ok) << name;
        ParsedPacket fast;
        std::memset(static_cast<void*>(&fast), 0x5a, sizeof fast);
        uint32_t hash = 0;
        ASSERT_TRUE(parse_frame_fast(buf.data.get(), buf.len, 0, true, fast, hash)) << name;
        EXPECT_EQ(fast.flow, full.flow) << name;
        EXPECT_EQ(hash, flow_hash(full.flow)) << name;
        EXPECT_EQ(fast.l3_len, full.l3_len) << name;
        EXPECT_EQ(fast.ethertype, full.ethertype) << name;
        EXPECT_EQ(fast.vlan_tci, full.vlan_tci) << name;
        EXPECT_EQ(fast.l2_len, full.l2_len) << name;
        EXPECT_EQ(fast.l3_offset, full.l3_offset) << name;
        EXPECT_EQ(fast.l4_offset, full.l4_offset) << name;
        EXPECT_EQ(fast.tcp_flags, full.tcp_flags) << name;
        EXPECT_EQ(fast.has_vlan, full.has_vlan) << name;
        EXPECT_FALSE(fast.is_fragment) << name;
        EXPECT_EQ(fast.verdict, Verdict::Ok) << name;
        // pkt_len equal to the buffer is the same single segment.
        EXPECT_TRUE(parse_frame_fast(buf.data.get(), buf.len, buf.len, true, fast, hash)) << name;
    }
}

TEST(ParserFastPath, LeavesEverythingElseToParseFrame) {
    const std::vector<std::pair<const char*, Bytes>> frames = {
        {"IPv4 options", client_to_vip4().ipv4_options({0x94, 4, 0, 0}).tcp(1, 2).build()},
        {"first fragment", client_to_vip4().fragment(0, true).udp(1, 53).payload_size(40).build()},
        {"ICMP echo", client_to_vip4().echo_request(1, 2).build()},
        {"IPv6 TCP", client_to_vip6().tcp(40000, 80).build()},
        {"ARP", who_has_vip().build()},
        {"bad header checksum", client_to_vip4().ipv4_checksum(0xdead).tcp(1, 2).build()},
    };
    uint32_t hash = 0;
    for (const auto& [name, f] : frames) {
        ExactBuffer buf(f, f.size());
        ParsedPacket pp;
        EXPECT_FALSE(parse_frame_fast(buf.data.get(), buf.len, 0, true, pp, hash)) << name;
    }
    // The NIC verified the header: the checksum field is not read.
    const Bytes bad = client_to_vip4().ipv4_checksum(0xdead).tcp(1, 2).build();
    ExactBuffer buf(bad, bad.size());
    ParsedPacket pp;
    EXPECT_TRUE(parse_frame_fast(buf.data.get(), buf.len, 0, false, pp, hash));
    // First segment of a longer packet: parse_frame decides (TruncatedSegment rules).
    EXPECT_FALSE(parse_frame_fast(buf.data.get(), buf.len, buf.len + 100, false, pp, hash));
    // Every truncation is declined, without reading past the cut.
    const Bytes tcp = client_to_vip4().vlan(3).tcp(40000, 80).mss(1460).build();
    for (std::size_t n = 0; n < tcp.size(); ++n) {
        ExactBuffer cut(tcp, n);
        EXPECT_FALSE(parse_frame_fast(cut.data.get(), cut.len, 0, true, pp, hash))
            << "cut at " << n;
    }
}

TEST(Parser, TableCoversEveryVerdictAndDropReason) {
    std::set<Verdict> seen;
    for (const VerdictCase& c : verdict_cases()) {
        seen.insert(c.expected);
    }
    for (std::size_t i = 0; i < kVerdictCount; ++i) {
        EXPECT_TRUE(seen.count(static_cast<Verdict>(i)))
            << "no table row for " << to_string(static_cast<Verdict>(i));
    }
}

// ---- Fields of accepted frames -------------------------------------------------------------

FlowKey key4(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint8_t proto) {
    FlowKey k{};
    std::memcpy(k.src_addr.data(), test::ip(src).bytes(), 4);
    std::memcpy(k.dst_addr.data(), test::ip(dst).bytes(), 4);
    k.src_port = port_net(sport);
    k.dst_port = port_net(dport);
    k.proto = proto;
    k.family = Family::V4;
    return k;
}

FlowKey key6(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint8_t proto) {
    FlowKey k{};
    std::memcpy(k.src_addr.data(), test::ip(src).bytes(), 16);
    std::memcpy(k.dst_addr.data(), test::ip(dst).bytes(), 16);
    k.src_port = port_net(sport);
    k.dst_port = port_net(dport);
    k.proto = proto;
    k.family = Family::V6;
    return k;
}

TEST(Parser, Ipv4TcpFields) {
    const Bytes f = client_to_vip4().tcp(40000, 80).flags(test::kTcpSyn).mss(1460).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::Ok);
    EXPECT_EQ(pp.l2_len, 14);
    EXPECT_FALSE(pp.has_vlan);
    EXPECT_EQ(pp.ethertype, kEtherTypeIpv4);
    EXPECT_EQ(pp.l3_offset, 14);
    EXPECT_EQ(pp.l3_len, 20u + 24u);
    EXPECT_EQ(pp.l4_offset, 34);
    EXPECT_EQ(pp.l4_len(), 24u);
    EXPECT_EQ(pp.flow, key4(kClient4, kVip4, 40000, 80, kIpProtoTcp));
    EXPECT_EQ(port_host(pp.flow.dst_port), 80);
    EXPECT_EQ(pp.tcp_flags, test::kTcpSyn);
    EXPECT_FALSE(pp.is_fragment);
    EXPECT_FALSE(pp.is_first_fragment);
}

TEST(Parser, VlanTagShiftsOffsetsAndKeepsTci) {
    const Bytes f = client_to_vip4().vlan(100, 5).tcp(40000, 80).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::Ok);
    EXPECT_TRUE(pp.has_vlan);
    EXPECT_EQ(pp.vlan_tci, (5 << 13) | 100);
    EXPECT_EQ(pp.l2_len, 18);
    EXPECT_EQ(pp.ethertype, kEtherTypeIpv4);
    EXPECT_EQ(pp.l3_offset, 18);
    EXPECT_EQ(pp.l4_offset, 38);
    EXPECT_EQ(pp.flow, key4(kClient4, kVip4, 40000, 80, kIpProtoTcp));
}

TEST(Parser, Ipv4OptionsAreSkippedByIhl) {
    const Bytes f = client_to_vip4().ipv4_options({0x94, 4, 0, 0, 1, 0, 0, 0}).udp(1, 53).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::Ok);
    EXPECT_EQ(pp.l4_offset, 14 + 28);
    EXPECT_EQ(pp.flow, key4(kClient4, kVip4, 1, 53, kIpProtoUdp));
}

TEST(Parser, EthernetPaddingIsNotPartOfThePacket) {
    const Bytes f = client_to_vip4().udp(1, 53).payload("x").pad_to(60).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::Ok);
    EXPECT_EQ(f.size(), 60u);
    EXPECT_EQ(pp.l3_len, 29u);
    EXPECT_EQ(pp.l4_len(), 9u);
}

TEST(Parser, UdpLengthShorterThanPayloadIsAccepted) {
    // RFC 768 receivers trim the trailing bytes; the real server does.
    const Bytes f = client_to_vip4().udp(1, 53).payload("abcd").udp_length(9).build();
    EXPECT_EQ(parse_exact(f), Verdict::Ok);
}

TEST(Parser, ChecksumCheckCanBeLeftToTheNic) {
    const Bytes f = client_to_vip4().ipv4_checksum(0xdead).tcp(1, 2).build();
    ParsedPacket pp;
    EXPECT_EQ(parse_exact(f, pp), Verdict::Ipv4BadChecksum);
    EXPECT_EQ(parse_exact(f, pp, {.verify_ipv4_checksum = false}), Verdict::Ok);
}

TEST(Parser, Ipv4FirstFragmentHasPortsAndNonFirstHasNone) {
    ParsedPacket pp;
    // A UDP first fragment: the UDP length covers the whole datagram, not this fragment.
    const Bytes first = client_to_vip4()
                            .fragment(0, true, 77)
                            .udp(5000, 53)
                            .payload_size(64)
                            .udp_length(3000)
                            .build();
    ASSERT_EQ(parse_exact(first, pp), Verdict::Ok);
    EXPECT_TRUE(pp.is_fragment);
    EXPECT_TRUE(pp.is_first_fragment);
    EXPECT_EQ(pp.flow, key4(kClient4, kVip4, 5000, 53, kIpProtoUdp));

    const Bytes later =
        client_to_vip4().fragment(1480, true, 77).ip_proto(17).payload_size(64).build();
    ASSERT_EQ(parse_exact(later, pp), Verdict::Fragment);
    EXPECT_TRUE(pp.is_fragment);
    EXPECT_FALSE(pp.is_first_fragment);
    EXPECT_EQ(pp.flow, key4(kClient4, kVip4, 0, 0, kIpProtoUdp));
    EXPECT_EQ(pp.l4_offset, 34);
    EXPECT_EQ(pp.l4_len(), 64u);

    const Bytes last =
        client_to_vip4().fragment(2960, false, 77).ip_proto(17).payload_size(8).build();
    ASSERT_EQ(parse_exact(last, pp), Verdict::Fragment);
    EXPECT_TRUE(pp.is_fragment);

    const Bytes df = client_to_vip4().dont_fragment().udp(1, 2).build();
    ASSERT_EQ(parse_exact(df, pp), Verdict::Ok);
    EXPECT_FALSE(pp.is_fragment);
}

TEST(Parser, Ipv6ExtensionChainLeadsToTheUpperLayer) {
    const Bytes f = client_to_vip6()
                        .hop_by_hop(1)                     // 16 bytes
                        .routing(4, 0, {kVip6, kClient6})  // 8 + 32
                        .destination_options()             // 8
                        .authentication_header(20)         // 32
                        .tcp(40000, 443)
                        .flags(test::kTcpAck | test::kTcpPsh)
                        .payload("GET /")
                        .build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::Ok);
    EXPECT_EQ(pp.ethertype, kEtherTypeIpv6);
    EXPECT_EQ(pp.l4_offset, 14 + 40 + 16 + 40 + 8 + 32);
    EXPECT_EQ(pp.l3_len, 40u + 96u + 20u + 5u);
    EXPECT_EQ(pp.flow, key6(kClient6, kVip6, 40000, 443, kIpProtoTcp));
    EXPECT_EQ(pp.tcp_flags, test::kTcpAck | test::kTcpPsh);
}

TEST(Parser, Ipv6Fragments) {
    ParsedPacket pp;
    const Bytes first = client_to_vip6().hop_by_hop().fragment(0, true).tcp(40000, 80).build();
    ASSERT_EQ(parse_exact(first, pp), Verdict::Ok);
    EXPECT_TRUE(pp.is_fragment);
    EXPECT_TRUE(pp.is_first_fragment);
    EXPECT_EQ(pp.l4_offset, 14 + 40 + 8 + 8);
    EXPECT_EQ(pp.flow, key6(kClient6, kVip6, 40000, 80, kIpProtoTcp));

    const Bytes later = client_to_vip6().fragment(1448, true).ip_proto(6).payload_size(100).build();
    ASSERT_EQ(parse_exact(later, pp), Verdict::Fragment);
    EXPECT_TRUE(pp.is_fragment);
    EXPECT_FALSE(pp.is_first_fragment);
    EXPECT_EQ(pp.l4_offset, 14 + 40 + 8);
    EXPECT_EQ(pp.flow, key6(kClient6, kVip6, 0, 0, kIpProtoTcp));

    // RFC 6946: a Fragment header with offset 0 and M clear is not a fragment.
    const Bytes atomic = client_to_vip6().fragment(0, false).udp(1, 2).build();
    ASSERT_EQ(parse_exact(atomic, pp), Verdict::Ok);
    EXPECT_FALSE(pp.is_fragment);
}

TEST(Parser, Icmp4ErrorExposesTheQuotedFlow) {
    const Bytes f = router_to_vip4().frag_needed(1400).quoting(reply4()).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::IcmpError);
    EXPECT_EQ(pp.icmp_type, 3);
    EXPECT_EQ(pp.icmp_code, 4);
    EXPECT_EQ(pp.flow, key4(kRouter4, kVip4, 0, 0, kIpProtoIcmp));
    EXPECT_EQ(pp.inner_l3_offset, 14 + 20 + 8);
    EXPECT_FALSE(pp.inner_is_fragment);
    EXPECT_EQ(pp.inner, key4(kVip4, kClient4, 80, 40000, kIpProtoTcp));

    // The connection to look up is the client's, i.e. the quoted flow reversed.
    ParsedPacket syn;
    ASSERT_EQ(parse_exact(client_to_vip4().tcp(40000, 80).build(), syn), Verdict::Ok);
    EXPECT_EQ(reversed(pp.inner), syn.flow);
    EXPECT_EQ(flow_hash(reversed(pp.inner)), flow_hash(syn.flow));
}

TEST(Parser, Icmp4ErrorQuotingEightBytesOfDataIsEnough) {
    // RFC 792: the header plus the first 64 bits of the datagram's data.
    const Bytes f = router_to_vip4().time_exceeded().quoting(reply4(), 28).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::IcmpError);
    EXPECT_EQ(pp.inner, key4(kVip4, kClient4, 80, 40000, kIpProtoTcp));
}

TEST(Parser, Icmp4ErrorQuotingAFragmentHasNoInnerPorts) {
    const Bytes quoted = PacketBuilder()
                             .ipv4(kVip4, kClient4)
                             .fragment(1480, false)
                             .ip_proto(17)
                             .payload_size(8)
                             .build();
    const Bytes f = router_to_vip4().time_exceeded().quoting(quoted).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::IcmpError);
    EXPECT_TRUE(pp.inner_is_fragment);
    EXPECT_EQ(pp.inner, key4(kVip4, kClient4, 0, 0, kIpProtoUdp));
}

TEST(Parser, Icmp6ErrorWalksTheQuotedExtensionHeaders) {
    const Bytes quoted = PacketBuilder()
                             .ipv6(kVip6, kClient6)
                             .destination_options()
                             .fragment(0, true)
                             .udp(53, 5353)
                             .payload_size(1400)
                             .build();
    const Bytes f = router_to_vip6().packet_too_big(1280).quoting(quoted, 1232).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::IcmpError);
    EXPECT_EQ(pp.icmp_type, 2);
    EXPECT_EQ(pp.icmp_code, 0);
    EXPECT_EQ(pp.flow, key6(kRouter6, kVip6, 0, 0, kIpProtoIcmpv6));
    EXPECT_EQ(pp.inner_l3_offset, 14 + 40 + 8);
    EXPECT_TRUE(pp.inner_is_fragment);
    EXPECT_EQ(pp.inner, key6(kVip6, kClient6, 53, 5353, kIpProtoUdp));
}

TEST(Parser, IcmpInformationalMessagesAreOk) {
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(client_to_vip4().echo_request(9, 1).build(), pp), Verdict::Ok);
    EXPECT_EQ(pp.icmp_type, 8);
    EXPECT_EQ(pp.flow, key4(kClient4, kVip4, 0, 0, kIpProtoIcmp));
    ASSERT_EQ(parse_exact(client_to_vip6().icmp(136, 0).payload_size(20).build(), pp), Verdict::Ok);
    EXPECT_EQ(pp.icmp_type, 136);
    // ICMPv6 over IPv4 (and ICMP over IPv6) is just another protocol number.
    ASSERT_EQ(parse_exact(client_to_vip4().ip_proto(58).payload_size(2).build(), pp), Verdict::Ok);
    ASSERT_EQ(parse_exact(client_to_vip6().ip_proto(1).payload_size(2).build(), pp), Verdict::Ok);
}

TEST(Parser, ArpFields) {
    const Bytes f = who_has_vip().pad_to(60).build();
    ParsedPacket pp;
    ASSERT_EQ(parse_exact(f, pp), Verdict::Arp);
    EXPECT_EQ(pp.ethertype, kEtherTypeArp);
    EXPECT_EQ(pp.l3_offset, 14);
    EXPECT_EQ(pp.l3_len, 28u);
    EXPECT_EQ(pp.flow.family, Family::V4);
    EXPECT_EQ(IpAddress::v4_bytes(pp.flow.src_addr.data()), test::ip(kClient4));
    EXPECT_EQ(IpAddress::v4_bytes(pp.flow.dst_addr.data()), test::ip(kVip4));

    ArpPacket arp;
    ASSERT_EQ(
        parse_arp(f.data() + pp.l3_offset, static_cast<uint32_t>(f.size() - pp.l3_offset), arp),
        Verdict::Arp);
    EXPECT_EQ(arp.op, 1);
    EXPECT_EQ(arp.sender_mac, test::mac(kClientMac));
    EXPECT_EQ(arp.sender_ip, test::ip(kClient4));
    EXPECT_TRUE(arp.target_mac.is_zero());
    EXPECT_EQ(arp.target_ip, test::ip(kVip4));
}

TEST(Parser, ArpReplyAndRejects) {
    const Bytes reply =
        PacketBuilder().arp_reply(kDirectorMac, kVip4, kClientMac, kClient4).build();
    ArpPacket arp;
    ASSERT_EQ(parse_arp(reply.data(), static_cast<uint32_t>(reply.size()), arp), Verdict::Arp);
    EXPECT_EQ(arp.op, 2);
    EXPECT_EQ(arp.sender_mac, test::mac(kDirectorMac));
    EXPECT_EQ(arp.target_mac, test::mac(kClientMac));
    EXPECT_EQ(arp.target_ip, test::ip(kClient4));
    EXPECT_EQ(parse_arp(reply.data(), 27, arp), Verdict::ArpTooShort);
    const Bytes rarp =
        PacketBuilder().arp_reply(kDirectorMac, kVip4, kClientMac, kClient4).arp_op(4).build();
    EXPECT_EQ(parse_arp(rarp.data(), 28, arp), Verdict::ArpBadOp);
    const Bytes tr = PacketBuilder()
                         .arp_reply(kDirectorMac, kVip4, kClientMac, kClient4)
                         .arp_format(6, 0x0800, 6, 4)
                         .build();
    EXPECT_EQ(parse_arp(tr.data(), 28, arp), Verdict::ArpUnsupported);
}

TEST(Parser, NotIpKeepsTheEthertype) {
    ParsedPacket pp;
    const Bytes f = PacketBuilder()
                        .eth(kClientMac, kDirectorMac)
                        .vlan(3)
                        .ethertype(0x88cc)
                        .payload_size(30)
                        .build();
    ASSERT_EQ(parse_exact(f, pp), Verdict::NotIp);
    EXPECT_EQ(pp.ethertype, 0x88cc);
    EXPECT_EQ(pp.l2_len, 18);
}

// ---- Segments ------------------------------------------------------------------------------

TEST(Parser, HeadersInTheFirstSegmentAreEnough) {
    const Bytes f = client_to_vip6().hop_by_hop().tcp(40000, 80).payload_size(2000).build();
    const uint32_t headers = 14 + 40 + 8 + 20;
    ParsedPacket pp;
    const ParseOptions whole{.pkt_len = static_cast<uint32_t>(f.size())};
    ExactBuffer seg(f, headers);
    ASSERT_EQ(parse_frame(seg.data.get(), seg.len, pp, whole), Verdict::Ok);
    EXPECT_EQ(pp.l3_len, 40u + 8 + 20 + 2000);
    ExactBuffer short_seg(f, headers - 1);
    EXPECT_EQ(parse_frame(short_seg.data.get(), short_seg.len, pp, whole),
              Verdict::TruncatedSegment);
}

TEST(Parser, SegmentTruncationIsNeverMistakenForMalformed) {
    // Cutting only the first segment of a valid frame gives TruncatedSegment until all headers
    // fit, then the frame's own verdict, and never reads past the segment.
    const std::vector<Bytes> frames = {
        client_to_vip4().ipv4_options({1, 1, 1, 1}).tcp(1, 2).mss(1400).payload_size(100).build(),
        client_to_vip6().hop_by_hop().routing(4, 1, {kVip6}).fragment(0, true).tcp(1, 2).build(),
        router_to_vip4().vlan(9).frag_needed(1400).quoting(reply4()).build(),
        router_to_vip6().packet_too_big(1280).quoting(reply6(), 200).build(),
        who_has_vip().build(),
    };
    for (const Bytes& f : frames) {
        const Verdict full = parse_exact(f);
        ASSERT_FALSE(is_drop(full)) << test::hex(f);
        bool reached = false;
        for (std::size_t n = 0; n <= f.size(); ++n) {
            ExactBuffer seg(f, n);
            ParsedPacket pp;
            const Verdict v = parse_frame(seg.data.get(), seg.len, pp,
                                          {.pkt_len = static_cast<uint32_t>(f.size())});
            if (reached) {
                EXPECT_EQ(v, full) << "cut at " << n;
            } else if (v == full) {
                reached = true;
            } else {
                EXPECT_EQ(v, Verdict::TruncatedSegment) << "cut at " << n;
            }
        }
        EXPECT_TRUE(reached);
    }
}

// ---- Truncation ----------------------------------------------------------------------------

TEST(Parser, EveryTruncationOfAValidFrameIsDropped) {
    const std::vector<std::pair<const char*, Bytes>> frames = {
        {"TCP/IPv4 with options", client_to_vip4()
                                      .ipv4_options({0x94, 4, 0, 0})
                                      .tcp(40000, 80)
                                      .mss(1460)
                                      .payload("hi")
                                      .build()},
        {"TCP/IPv6 with extension headers", client_to_vip6()
                                                .hop_by_hop()
                                                .routing(4, 1, {kVip6})
                                                .destination_options(1)
                                                .fragment(0, true)
                                                .tcp(40000, 80)
                                                .tcp_options({1, 1, 4, 2})
                                                .build()},
        {"UDP/IPv4 in a VLAN", client_to_vip4().vlan(4).udp(1, 53).payload("query").build()},
        {"ICMP frag-needed", router_to_vip4().frag_needed(1400).quoting(reply4()).build()},
        {"ICMPv6 packet too big",
         router_to_vip6()
             .packet_too_big(1280)
             .quoting(
                 PacketBuilder().ipv6(kVip6, kClient6).destination_options().tcp(80, 1).build())
             .build()},
        {"ARP", who_has_vip().build()},
    };
    for (const auto& [name, f] : frames) {
        ASSERT_FALSE(is_drop(parse_exact(f))) << name;
        for (std::size_t n = 0; n < f.size(); ++n) {
            ExactBuffer cut(f, n);
            ParsedPacket pp;
            const Verdict v = parse_frame(cut.data.get(), cut.len, pp);
            EXPECT_TRUE(is_drop(v)) << name << " cut at " << n << ": " << to_string(v);
            EXPECT_NE(v, Verdict::TruncatedSegment) << name << " cut at " << n;
        }
    }
}

// ---- L2 rewrite ----------------------------------------------------------------------------

TEST(RewriteEth, ReplacesOnlyTheMacAddresses) {
    Bytes f = client_to_vip4().tcp(40000, 80).payload("data").build();
    const Bytes before = f;
    const MacAddress real = test::mac("02:00:00:00:01:42");
    const MacAddress port = test::mac("02:00:00:00:00:fe");
    rewrite_eth(f.data(), real, port);
    EXPECT_TRUE(std::equal(real.bytes.begin(), real.bytes.end(), f.begin()));
    EXPECT_TRUE(std::equal(port.bytes.begin(), port.bytes.end(), f.begin() + 6));
    EXPECT_TRUE(std::equal(before.begin() + 12, before.end(), f.begin() + 12));
    ParsedPacket a;
    ParsedPacket b;
    ASSERT_EQ(parse_exact(before, a), Verdict::Ok);
    ASSERT_EQ(parse_exact(f, b), Verdict::Ok);
    EXPECT_EQ(a.flow, b.flow);
}

}  // namespace
}  // namespace director::net
