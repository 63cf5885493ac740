// SPDX-License-Identifier: BSD-3-Clause
// Frame builders against golden bytes built independently with scapy, then every built frame
// through lib/net's parser (and, for NS/NA, parse_nd), then the builders' refusals.
#include "neigh/frames.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "fixtures/packet_builder.h"
#include "neigh/nd.h"
#include "net/parse.h"

namespace director::neigh {
namespace {

using test::Bytes;
using test::from_hex;
using test::hex;
using test::ip;
using test::mac;

// ---- Golden frames ---------------------------------------------------------------------------
// Produced by test/unit/neigh/gen_golden.py with Debian's /usr/bin/python3 and scapy 2.5.0
// (Ether / Dot1Q / ARP / IPv6 / ICMPv6ND_NS / ICMPv6ND_NA with link-layer options; scapy
// computes lengths and ICMPv6 checksums; the script zero-pads to 60 bytes). Regenerate with:
//   /usr/bin/python3 test/unit/neigh/gen_golden.py
// Director 02:00:00:00:01:20 (10.99.0.120, fd00:99::120), VIP 10.99.0.252 / fd00:99::252,
// real server 02:00:00:00:01:42 (10.99.0.142, fd00:99::142), VLAN 100.
constexpr const char* kGoldenArpReply =  // 60 bytes
    "020000000142020000000120080600010800060400020200000001200a6300fc"
    "0200000001420a63008e000000000000000000000000000000000000";
constexpr const char* kGoldenArpRequest =  // 60 bytes
    "ffffffffffff020000000120080600010800060400010200000001200a630078"
    "0000000000000a63008e000000000000000000000000000000000000";
constexpr const char* kGoldenArpRequestUnicast =  // 60 bytes
    "020000000142020000000120080600010800060400010200000001200a630078"
    "0000000000000a63008e000000000000000000000000000000000000";
constexpr const char* kGoldenGarp =  // 60 bytes
    "ffffffffffff020000000120080600010800060400010200000001200a6300fc"
    "ffffffffffff0a6300fc000000000000000000000000000000000000";
constexpr const char* kGoldenNs =  // 86 bytes
    "3333ff00014202000000012086dd6000000000203afffd000099000000000000"
    "000000000120ff0200000000000000000001ff000142870077a700000000fd00"
    "00990000000000000000000001420101020000000120";
constexpr const char* kGoldenNsUnicast =  // 86 bytes
    "02000000014202000000012086dd6000000000203afffd000099000000000000"
    "000000000120fd0000990000000000000000000001428700781200000000fd00"
    "00990000000000000000000001420101020000000120";
constexpr const char* kGoldenNaSolicited =  // 86 bytes
    "02000000014202000000012086dd6000000000203afffd000099000000000000"
    "000000000252fd000099000000000000000000000142880013d060000000fd00"
    "00990000000000000000000002520201020000000120";
constexpr const char* kGoldenNaUnsolicited =  // 86 bytes
    "33330000000102000000012086dd6000000000203afffd000099000000000000"
    "000000000252ff020000000000000000000000000001880053a820000000fd00"
    "00990000000000000000000002520201020000000120";
constexpr const char* kGoldenArpReplyVlan =  // 60 bytes
    "0200000001420200000001208100006408060001080006040002020000000120"
    "0a6300fc0200000001420a63008e0000000000000000000000000000";
constexpr const char* kGoldenArpRequestVlan =  // 60 bytes
    "ffffffffffff0200000001208100006408060001080006040001020000000120"
    "0a6300780000000000000a63008e0000000000000000000000000000";
constexpr const char* kGoldenArpRequestUnicastVlan =  // 60 bytes
    "0200000001420200000001208100006408060001080006040001020000000120"
    "0a6300780000000000000a63008e0000000000000000000000000000";
constexpr const char* kGoldenGarpVlan =  // 60 bytes
    "ffffffffffff0200000001208100006408060001080006040001020000000120"
    "0a6300fcffffffffffff0a6300fc0000000000000000000000000000";
constexpr const char* kGoldenNsVlan =  // 90 bytes
    "3333ff0001420200000001208100006486dd6000000000203afffd0000990000"
    "00000000000000000120ff0200000000000000000001ff000142870077a70000"
    "0000fd0000990000000000000000000001420101020000000120";
constexpr const char* kGoldenNsUnicastVlan =  // 90 bytes
    "0200000001420200000001208100006486dd6000000000203afffd0000990000"
    "00000000000000000120fd000099000000000000000000000142870078120000"
    "0000fd0000990000000000000000000001420101020000000120";
constexpr const char* kGoldenNaSolicitedVlan =  // 90 bytes
    "0200000001420200000001208100006486dd6000000000203afffd0000990000"
    "00000000000000000252fd000099000000000000000000000142880013d06000"
    "0000fd0000990000000000000000000002520201020000000120";
constexpr const char* kGoldenNaUnsolicitedVlan =  // 90 bytes
    "3333000000010200000001208100006486dd6000000000203afffd0000990000"
    "00000000000000000252ff020000000000000000000000000001880053a82000"
    "0000fd0000990000000000000000000002520201020000000120";

const net::MacAddress kDirectorMac = mac("02:00:00:00:01:20");
const net::MacAddress kRsMac = mac("02:00:00:00:01:42");
const net::IpAddress kOwn4 = ip("10.99.0.120");
const net::IpAddress kVip4 = ip("10.99.0.252");
const net::IpAddress kRs4 = ip("10.99.0.142");
const net::IpAddress kOwn6 = ip("fd00:99::120");
const net::IpAddress kVip6 = ip("fd00:99::252");
const net::IpAddress kRs6 = ip("fd00:99::142");
constexpr uint16_t kVlan = 100;

// "Who has the VIP? Tell RS4", as parse_arp decodes it.
net::ArpPacket who_has_vip4() {
    return net::ArpPacket{.op = kArpOpRequest,
                          .sender_mac = kRsMac,
                          .sender_ip = kRs4,
                          .target_mac = {},
                          .target_ip = kVip4};
}

// An NS from RS6 (with its source link-layer option) for the VIP, as parse_nd decodes it.
NdPacket ns_for_vip6() {
    return NdPacket{.type = kIcmpv6NeighbourSolicitation,
                    .eth_src = kRsMac,
                    .eth_dst = mac("33:33:ff:00:02:52"),
                    .src = kRs6,
                    .dst = solicited_node(kVip6),
                    .target = kVip6,
                    .lladdr = kRsMac};
}

using BuildFn = uint32_t (*)(std::span<uint8_t>, const Link&);

struct GoldenCase {
    const char* name;
    BuildFn build;
    const char* untagged;
    const char* tagged;
};

const GoldenCase kGoldenCases[] = {
    {"ArpReply",
     [](std::span<uint8_t> out, const Link& l) { return build_arp_reply(out, l, who_has_vip4()); },
     kGoldenArpReply, kGoldenArpReplyVlan},
    {"ArpRequest",
     [](std::span<uint8_t> out, const Link& l) { return build_arp_request(out, l, kOwn4, kRs4); },
     kGoldenArpRequest, kGoldenArpRequestVlan},
    {"ArpRequestUnicast",
     [](std::span<uint8_t> out, const Link& l) {
         return build_arp_request(out, l, kOwn4, kRs4, kRsMac);
     },
     kGoldenArpRequestUnicast, kGoldenArpRequestUnicastVlan},
    {"Garp", [](std::span<uint8_t> out, const Link& l) { return build_garp(out, l, kVip4); },
     kGoldenGarp, kGoldenGarpVlan},
    {"Ns", [](std::span<uint8_t> out, const Link& l) { return build_ns(out, l, kOwn6, kRs6); },
     kGoldenNs, kGoldenNsVlan},
    {"NsUnicast",
     [](std::span<uint8_t> out, const Link& l) { return build_ns(out, l, kOwn6, kRs6, kRsMac); },
     kGoldenNsUnicast, kGoldenNsUnicastVlan},
    {"NaSolicited",
     [](std::span<uint8_t> out, const Link& l) { return build_na_reply(out, l, ns_for_vip6()); },
     kGoldenNaSolicited, kGoldenNaSolicitedVlan},
    {"NaUnsolicited",
     [](std::span<uint8_t> out, const Link& l) { return build_unsolicited_na(out, l, kVip6); },
     kGoldenNaUnsolicited, kGoldenNaUnsolicitedVlan},
};

struct GoldenParam {
    GoldenCase c;
    bool tagged;
};

class FrameGolden : public ::testing::TestWithParam<GoldenParam> {
protected:
    Link link() const {
        return Link{.mac = kDirectorMac, .vlan_id = GetParam().tagged ? kVlan : uint16_t{0}};
    }
    Bytes expected() const {
        return from_hex(GetParam().tagged ? GetParam().c.tagged : GetParam().c.untagged);
    }
    Bytes build() const {
        std::array<uint8_t, kMaxFrameLen> buf{};
        const uint32_t len = GetParam().c.build(buf, link());
        return Bytes(buf.begin(), buf.begin() + len);
    }
};

TEST_P(FrameGolden, MatchesScapy) { EXPECT_EQ(hex(build()), hex(expected())); }

TEST_P(FrameGolden, NetParserAcceptsIt) {
    const Bytes frame = build();
    ASSERT_FALSE(frame.empty());
    net::ParsedPacket p;
    const net::Verdict v = net::parse_frame(frame.data(), static_cast<uint32_t>(frame.size()), p);
    ASSERT_FALSE(net::is_drop(v)) << net::to_string(v);
    EXPECT_EQ(p.has_vlan, GetParam().tagged);
    EXPECT_EQ(p.vlan_tci & 0x0fff, GetParam().tagged ? kVlan : 0);
    if (v == net::Verdict::Arp) {
        net::ArpPacket arp;
        EXPECT_EQ(net::parse_arp(frame.data() + p.l3_offset,
                                 static_cast<uint32_t>(frame.size() - p.l3_offset), arp),
                  net::Verdict::Arp);
        EXPECT_EQ(arp.sender_mac, kDirectorMac);
        return;
    }
    ASSERT_EQ(v, net::Verdict::Ok);
    ASSERT_TRUE(is_nd(p));
    NdPacket nd;
    ASSERT_EQ(parse_nd(frame, p, nd), NdError::None) << to_string(parse_nd(frame, p, nd));
    EXPECT_EQ(nd.lladdr, kDirectorMac);
    EXPECT_EQ(nd.eth_src, kDirectorMac);
    EXPECT_EQ(nd.vlan_id, GetParam().tagged ? kVlan : 0);
}

TEST_P(FrameGolden, RefusesABufferOneByteShort) {
    std::array<uint8_t, kMaxFrameLen> buf{};
    const auto need = static_cast<std::size_t>(GetParam().c.build(buf, link()));
    ASSERT_EQ(need, expected().size());
    EXPECT_EQ(GetParam().c.build(std::span<uint8_t>(buf.data(), need - 1), link()), 0u);
}

std::vector<GoldenParam> golden_params() {
    std::vector<GoldenParam> out;
    for (const GoldenCase& c : kGoldenCases) {
        out.push_back({c, false});
        out.push_back({c, true});
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Builders, FrameGolden, ::testing::ValuesIn(golden_params()),
                         [](const ::testing::TestParamInfo<GoldenParam>& info) {
                             return std::string(info.param.c.name) +
                                    (info.param.tagged ? "Vlan" : "");
                         });

// ---- Addresses -------------------------------------------------------------------------------

TEST(NdAddresses, SolicitedNodeKeepsTheLow24Bits) {
    EXPECT_EQ(solicited_node(ip("2001:db8::12:3456:789a")), ip("ff02::1:ff56:789a"));
    EXPECT_EQ(solicited_node(kRs6), ip("ff02::1:ff00:142"));
}

TEST(NdAddresses, MulticastMacIsThe3333MappingOfTheLast32Bits) {
    EXPECT_EQ(ipv6_multicast_mac(ip("ff02::1:ff56:789a")), mac("33:33:ff:56:78:9a"));
    EXPECT_EQ(ipv6_multicast_mac(all_nodes()), mac("33:33:00:00:00:01"));
    EXPECT_EQ(all_nodes(), ip("ff02::1"));
}

// ---- Details and refusals --------------------------------------------------------------------

TEST(FrameBuilders, ArpPaddingIsZeroedWhateverTheBufferHeld) {
    std::array<uint8_t, kMaxFrameLen> buf;
    buf.fill(0xaa);
    ASSERT_EQ(build_garp(buf, Link{.mac = kDirectorMac}, kVip4), kArpFrameLen);
    for (uint32_t i = 42; i < kArpFrameLen; ++i) {
        EXPECT_EQ(buf[i], 0) << "byte " << i;
    }
}

TEST(FrameBuilders, RefuseWrongFamilies) {
    std::array<uint8_t, kMaxFrameLen> buf{};
    const Link link{.mac = kDirectorMac};
    EXPECT_EQ(build_garp(buf, link, kVip6), 0u);
    EXPECT_EQ(build_arp_request(buf, link, kOwn6, kRs4), 0u);
    EXPECT_EQ(build_arp_request(buf, link, kOwn4, kRs6), 0u);
    EXPECT_EQ(build_ns(buf, link, kOwn4, kRs6), 0u);
    EXPECT_EQ(build_ns(buf, link, kOwn6, kRs4), 0u);
    EXPECT_EQ(build_unsolicited_na(buf, link, kVip4), 0u);
}

TEST(FrameBuilders, RefuseTheReservedVlanId) {
    std::array<uint8_t, kMaxFrameLen> buf{};
    EXPECT_EQ(build_garp(buf, Link{.mac = kDirectorMac, .vlan_id = 4095}, kVip4), 0u);
    EXPECT_EQ(build_unsolicited_na(buf, Link{.mac = kDirectorMac, .vlan_id = 4095}, kVip6), 0u);
    EXPECT_EQ(build_garp(buf, Link{.mac = kDirectorMac, .vlan_id = kMaxVlanId}, kVip4),
              kArpFrameLen);
}

TEST(FrameBuilders, NaKeepsOnlyTheDefinedFlags) {
    std::array<uint8_t, kMaxFrameLen> buf{};
    const uint32_t len = build_na(buf, Link{.mac = kDirectorMac},
                                  NaFields{.src = kVip6,
                                           .dst = all_nodes(),
                                           .eth_dst = ipv6_multicast_mac(all_nodes()),
                                           .target = kVip6,
                                           .flags = 0xff});
    ASSERT_EQ(len, kNdFrameLen);
    EXPECT_EQ(buf[14 + 40 + 4], kNaFlagRouter | kNaFlagSolicited | kNaFlagOverride);
    EXPECT_EQ(buf[14 + 40 + 5], 0);
}

TEST(FrameBuilders, NsFromTheUnspecifiedAddressCarriesNoLinkLayerOption) {
    std::array<uint8_t, kMaxFrameLen> buf{};
    const uint32_t len = build_ns(buf, Link{.mac = kDirectorMac}, ip("::"), kVip6);
    ASSERT_EQ(len, kNdFrameLen - 8);
    const std::span<const uint8_t> frame(buf.data(), len);
    net::ParsedPacket p;
    ASSERT_EQ(net::parse_frame(frame.data(), len, p), net::Verdict::Ok);
    NdPacket nd;
    ASSERT_EQ(parse_nd(frame, p, nd), NdError::None);  // a valid DAD probe (RFC 4861 7.1.1)
    EXPECT_FALSE(nd.lladdr);
    EXPECT_EQ(nd.dst, solicited_node(kVip6));
}

TEST(FrameBuilders, NaReplyToADadProbeGoesToAllNodesWithoutSolicited) {
    NdPacket dad = ns_for_vip6();
    dad.src = ip("::");
    dad.lladdr.reset();
    std::array<uint8_t, kMaxFrameLen> buf{};
    const uint32_t len = build_na_reply(buf, Link{.mac = kDirectorMac}, dad);
    ASSERT_EQ(len, kNdFrameLen);
    const std::span<const uint8_t> frame(buf.data(), len);
    net::ParsedPacket p;
    ASSERT_EQ(net::parse_frame(frame.data(), len, p), net::Verdict::Ok);
    NdPacket na;
    ASSERT_EQ(parse_nd(frame, p, na), NdError::None);
    EXPECT_EQ(na.dst, all_nodes());
    EXPECT_EQ(na.eth_dst, mac("33:33:00:00:00:01"));
    EXPECT_EQ(na.na_flags, kNaFlagOverride);
    EXPECT_EQ(na.target, kVip6);
    EXPECT_EQ(na.src, kVip6);
}

TEST(FrameBuilders, NaReplyWithoutSourceOptionGoesToTheEthernetSource) {
    NdPacket ns = ns_for_vip6();
    ns.lladdr.reset();
    ns.eth_src = mac("02:00:00:00:09:99");
    std::array<uint8_t, kMaxFrameLen> buf{};
    ASSERT_EQ(build_na_reply(buf, Link{.mac = kDirectorMac}, ns), kNdFrameLen);
    EXPECT_EQ(hex(Bytes(buf.begin(), buf.begin() + 6)), hex(from_hex("020000000999")));
}

TEST(FrameBuilders, ArpReplyToAProbeTargetsTheZeroAddress) {
    net::ArpPacket probe = who_has_vip4();
    probe.sender_ip = ip("0.0.0.0");
    std::array<uint8_t, kMaxFrameLen> buf{};
    ASSERT_EQ(build_arp_reply(buf, Link{.mac = kDirectorMac}, probe), kArpFrameLen);
    net::ArpPacket reply;
    ASSERT_EQ(net::parse_arp(buf.data() + 14, kArpFrameLen - 14, reply), net::Verdict::Arp);
    EXPECT_EQ(reply.op, kArpOpReply);
    EXPECT_EQ(reply.sender_ip, kVip4);
    EXPECT_EQ(reply.sender_mac, kDirectorMac);
    EXPECT_EQ(reply.target_ip, ip("0.0.0.0"));
    EXPECT_EQ(reply.target_mac, kRsMac);
}

}  // namespace
}  // namespace director::neigh
