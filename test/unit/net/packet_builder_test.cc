// SPDX-License-Identifier: BSD-3-Clause
// The builder against known answers produced by scapy 2.5, field for field, checksums
// included; the same frames back the checksum known-value tests.
#include "fixtures/packet_builder.h"

#include <gtest/gtest.h>

#include "net/checksum.h"
#include "net/parse.h"

namespace director::test {
namespace {

constexpr const char* kClientMac = "02:00:00:00:00:01";
constexpr const char* kDirectorMac = "02:00:00:00:00:fe";

void expect_bytes(const Bytes& got, const char* want_hex) {
    const Bytes want = from_hex(want_hex);
    EXPECT_EQ(got, want) << "got:\n" << hex(got) << "\nwant:\n" << hex(want);
}

TEST(PacketBuilder, TcpSynOverIpv4MatchesScapy) {
    // Ether()/IP(id=0,flags=0)/TCP(sport=40000,dport=80,flags='S',seq=1,window=65535,
    //                              options=[('MSS',1460)])
    expect_bytes(PacketBuilder()
                     .eth(kClientMac, kDirectorMac)
                     .ipv4("10.99.0.10", "10.99.0.252")
                     .tcp(40000, 80)
                     .flags(kTcpSyn)
                     .mss(1460)
                     .build(),
                 "0200000000fe02000000000108004500002c00000000400665010a63000a0a6300fc9c400050"
                 "00000001000000006002ffffe5c90000020405b4");
}

TEST(PacketBuilder, UdpOverIpv6InVlanMatchesScapy) {
    // Ether()/Dot1Q(vlan=100)/IPv6(hlim=64)/UDP(sport=5353,dport=53)/"hello"
    expect_bytes(PacketBuilder()
                     .eth(kClientMac, kDirectorMac)
                     .vlan(100)
                     .ipv6("2001:db8::10", "2001:db8::252")
                     .udp(5353, 53)
                     .payload("hello")
                     .build(),
                 "0200000000fe0200000000018100006486dd60000000000d114020010db8000000000000000000"
                 "00001020010db800000000000000000000025214e90035000d491068656c6c6f");
}

TEST(PacketBuilder, IcmpFragNeededQuotingTcpMatchesScapy) {
    // Ether()/IP(id=0)/ICMP(type=3,code=4,nexthopmtu=1400)/IP(id=0,flags='DF')/TCP(flags='SA')
    const Bytes inner = PacketBuilder()
                            .ipv4("10.99.0.252", "10.99.0.10")
                            .dont_fragment()
                            .tcp(80, 40000)
                            .flags(kTcpSyn | kTcpAck)
                            .build();
    expect_bytes(PacketBuilder()
                     .eth(kClientMac, kDirectorMac)
                     .ipv4("10.99.0.1", "10.99.0.252")
                     .frag_needed(1400)
                     .quoting(inner)
                     .build(),
                 "0200000000fe02000000000108004500004400000000400164f70a6300010a6300fc03040d6a"
                 "000005784500002800004000400625050a6300fc0a63000a00509c400000000100000000"
                 "5012fffffd750000");
}

TEST(PacketBuilder, Icmpv6PacketTooBigMatchesScapy) {
    // Ether()/IPv6()/ICMPv6PacketTooBig(mtu=1280)/IPv6()/TCP(flags='A')/("x"*8)
    const Bytes inner = PacketBuilder()
                            .ipv6("2001:db8::252", "2001:db8::10")
                            .tcp(80, 40000)
                            .payload("xxxxxxxx")
                            .build();
    expect_bytes(PacketBuilder()
                     .eth(kClientMac, kDirectorMac)
                     .ipv6("2001:db8::1", "2001:db8::252")
                     .packet_too_big(1280)
                     .quoting(inner)
                     .build(),
                 "0200000000fe02000000000186dd60000000004c3a4020010db800000000000000000000000120"
                 "010db80000000000000000000002520200347a0000050060000000001c064020010db8000000"
                 "00000000000000025220010db800000000000000000000001000509c400000000100000000"
                 "5010ffffd38500007878787878787878");
}

TEST(PacketBuilder, ArpRequestMatchesScapy) {
    expect_bytes(PacketBuilder()
                     .eth(kClientMac, "ff:ff:ff:ff:ff:ff")
                     .arp_request(kClientMac, "10.99.0.10", "10.99.0.252")
                     .build(),
                 "ffffffffffff020000000001080600010800060400010200000000010a63000a000000000000"
                 "0a6300fc");
}

TEST(PacketBuilder, Ipv6HopByHopAndFragmentMatchScapy) {
    // Ether()/IPv6()/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(m=1,id=0x1234)/TCP(flags='A')
    expect_bytes(PacketBuilder()
                     .eth(kClientMac, kDirectorMac)
                     .ipv6("2001:db8::10", "2001:db8::252")
                     .hop_by_hop()
                     .fragment(0, true, 0x1234)
                     .tcp(40000, 80)
                     .build(),
                 "0200000000fe02000000000186dd600000000024004020010db8000000000000000000000010"
                 "20010db80000000000000000000002522c0001040000000006000001000012349c4000500000"
                 "0001000000005010ffffb56f0000");
}

TEST(PacketBuilder, WithoutEthStartsAtTheIpHeader) {
    const Bytes p = PacketBuilder().ipv4("1.2.3.4", "5.6.7.8").udp(1, 2).build();
    ASSERT_EQ(p.size(), 28u);
    EXPECT_EQ(p[0], 0x45);
    EXPECT_TRUE(net::ipv4_header_checksum_ok(p.data(), 20));
}

TEST(PacketBuilder, CorruptionsLeaveTheChecksumValid) {
    // A frame broken on purpose is broken in one way only.
    const Bytes p =
        PacketBuilder().ipv4("1.2.3.4", "5.6.7.8").ipv4_total_length(1000).udp(1, 2).build();
    EXPECT_EQ(p[2], 0x03);
    EXPECT_EQ(p[3], 0xe8);
    EXPECT_TRUE(net::ipv4_header_checksum_ok(p.data(), 20));
    const Bytes q = PacketBuilder().ipv4("1.2.3.4", "5.6.7.8").ipv4_checksum(0xbeef).build();
    EXPECT_EQ(q[10], 0xbe);
    EXPECT_EQ(q[11], 0xef);
}

TEST(PacketBuilder, ExtensionHeadersChainInCallOrder) {
    const Bytes p = PacketBuilder()
                        .ipv6("2001:db8::1", "2001:db8::2")
                        .hop_by_hop()
                        .destination_options(1)
                        .routing(4, 0, {"2001:db8::3"})
                        .udp(1, 2)
                        .build();
    EXPECT_EQ(p[6], 0);    // IPv6 -> Hop-by-Hop
    EXPECT_EQ(p[40], 60);  // Hop-by-Hop -> Destination Options
    EXPECT_EQ(p[48], 43);  // Destination Options (16 bytes) -> Routing
    EXPECT_EQ(p[64], 17);  // Routing (24 bytes) -> UDP
    EXPECT_EQ(p[65], 2);   // Hdr Ext Len of one address
    EXPECT_EQ(p.size(), 40u + 8 + 16 + 24 + 8);
}

TEST(PacketBuilder, MisuseThrows) {
    EXPECT_THROW(PacketBuilder().ipv4("1.2.3.4", "::1"), std::logic_error);
    EXPECT_THROW(PacketBuilder().ipv4("1.2.3.4", "5.6.7.8").tcp(1, 2).udp(1, 2), std::logic_error);
    EXPECT_THROW(PacketBuilder().hop_by_hop(), std::logic_error);
    EXPECT_THROW(PacketBuilder().ipv6("::1", "::2").frag_needed(1400), std::logic_error);
    EXPECT_THROW(PacketBuilder().eth("nonsense", "02:00:00:00:00:01"), std::logic_error);
}

}  // namespace
}  // namespace director::test
