// SPDX-License-Identifier: BSD-3-Clause
// Classification through the real Worker::process_burst (lib/dataplane/worker.cc), table-driven
// after Katran's PacketAttributes: {description, input frame, expected action (forward to a
// real / punt with a reason / drop), expected counters}. Each row runs on a fresh director
// (net_ring port, exception channel, published snapshot), and checks that
//   * a forwarded frame leaves on the tx ring with dst MAC = the real's, src MAC = the port's,
//     and every byte after the MAC addresses unchanged (DR: L3/L4 untouched);
//   * a punted frame reaches the ExceptionChannel unchanged, tagged with its reason;
//   * a dropped frame appears nowhere;
//   * exactly one outcome counter moved (every decision is counted, none twice), plus the
//     listed extra counters, and for malformed frames malformed()[drop_index(reason)].
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "unit/dataplane/harness.h"

namespace director::dptest {
namespace {

using test::kTcpAck;
using test::kTcpSyn;

enum class Action { Forward, Punt, Drop };

struct ClassifyCase {
    const char* name;         ///< test-name suffix
    const char* description;  ///< what the row asserts, in words
    Bytes frame;
    Action action;
    const char* real = nullptr;                 ///< Forward: the real's name
    dp::PuntReason punt = dp::PuntReason::Arp;  ///< Punt: the reason
    const char* outcome = nullptr;              ///< the one outcome counter that must move by 1
    std::vector<std::pair<const char*, uint64_t>> extra = {};  ///< other counters to check
    std::optional<net::Verdict> malformed = std::nullopt;
    size_t split_at = 0;    ///< > 0: two mbuf segments, the first this long
    uint64_t ol_flags = 0;  ///< rx offload flags on the mbuf
};

void PrintTo(const ClassifyCase& c, std::ostream* os) { *os << c.name << ": " << c.description; }

// Counters that record what became of a frame: each frame moves exactly one of them.
constexpr const char* kOutcomeCounters[] = {
    "forwarded",        "icmp_error_forwarded", "ignored_other_mac",   "drop_malformed",
    "drop_not_service", "drop_fragment",        "drop_no_real",        "drop_real_no_mac",
    "drop_nodest",      "drop_tcp_no_conn",     "exception_arp",       "exception_vrrp",
    "exception_icmp",   "exception_host",       "exception_ring_full", "bug_bad_real",
};

std::vector<lb::ServiceSpec> lab_services(uint16_t tx_port) {
    return {
        service(kVip, 80, {real(kRs1, tx_port), real(kRs2, tx_port)}, 1),
        service(kVip, 53, {real(kRs1, tx_port), real(kRs2, tx_port)}, 2, lb::Protocol::Udp),
        service(kVip6, 80, {real(kRs1, tx_port, 1, true), real(kRs2, tx_port, 1, true)}, 3),
    };
}

Bytes vip_reply_quote(uint16_t vip_port, uint16_t client_port) {
    // What a real sent from the VIP to the client (DR replies bypass the director).
    return PacketBuilder().ipv4(kVip, kClient).tcp(vip_port, client_port).flags(kTcpAck).build();
}

// Row constructors: each row reads "<name>: <description> -> <fate>".
ClassifyCase forwarded_to(const char* name, const char* description, Bytes frame,
                          const char* real_name,
                          std::vector<std::pair<const char*, uint64_t>> extra = {}) {
    return {.name = name,
            .description = description,
            .frame = std::move(frame),
            .action = Action::Forward,
            .real = real_name,
            .outcome = "forwarded",
            .extra = std::move(extra)};
}

ClassifyCase punted_as(const char* name, const char* description, Bytes frame,
                       dp::PuntReason reason, const char* counter) {
    return {.name = name,
            .description = description,
            .frame = std::move(frame),
            .action = Action::Punt,
            .punt = reason,
            .outcome = counter};
}

ClassifyCase dropped(const char* name, const char* description, Bytes frame, const char* counter) {
    return {.name = name,
            .description = description,
            .frame = std::move(frame),
            .action = Action::Drop,
            .outcome = counter};
}

ClassifyCase malformed(const char* name, const char* description, Bytes frame, net::Verdict reason,
                       size_t split_at = 0) {
    return {.name = name,
            .description = description,
            .frame = std::move(frame),
            .action = Action::Drop,
            .outcome = "drop_malformed",
            .malformed = reason,
            .split_at = split_at};
}

/** A frame from the client to the port's MAC; the caller adds L3 and up. */
PacketBuilder to_port() {
    PacketBuilder b;
    b.eth(kClientMac, kPortMac);
    return b;
}

std::vector<ClassifyCase> cases() {
    using dp::PuntReason;
    using net::Verdict;
    const std::string ff = "ff:ff:ff:ff:ff:ff";
    Bytes ns_target(16);  // neighbour discovery target: the IPv6 VIP
    const net::IpAddress vip6 = test::ip(kVip6);
    std::copy(vip6.bytes(), vip6.bytes() + 16, ns_target.begin());
    const Bytes vrrp_advert = {0x31, 0x3e, 0x64, 0x01, 0x00, 0x64, 0x00, 0x00, 10, 99, 0, 252};

    ClassifyCase nic_checked = forwarded_to(
        "BadChecksumNicVerifiedGood",
        "the IPv4 checksum is not re-verified when the NIC marked it good",
        to_port().ipv4(kClient, kVip).ipv4_checksum(0x1234).tcp(40000, 80).flags(kTcpSyn).build(),
        "RS1");
    nic_checked.ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;

    return {
        // ---- forwarded -----------------------------------------------------------------------
        forwarded_to("TcpSynToVip",
                     "TCP SYN to VIP:80 goes to the first real (rr), only the MACs rewritten",
                     syn(kClient, 40000), "RS1", {{"conn_new", 1}}),
        forwarded_to("UdpToVip", "UDP to VIP:53 is forwarded and tracked", udp(kClient, 5353),
                     "RS1", {{"conn_new", 1}}),
        forwarded_to("Ipv6SynToVip", "TCP SYN to the IPv6 VIP is forwarded to an IPv6 real",
                     syn(kClient6, 40000, kVip6), "RS1", {{"conn_new", 1}}),
        forwarded_to("VlanTaggedSyn", "an 802.1Q-tagged SYN is forwarded with its tag intact",
                     to_port().vlan(100).ipv4(kClient, kVip).tcp(40000, 80).flags(kTcpSyn).build(),
                     "RS1"),
        forwarded_to("Ipv4OptionsSyn", "a SYN with IPv4 options is forwarded",
                     to_port()
                         .ipv4(kClient, kVip)
                         .ipv4_options({0x01, 0x01, 0x01, 0x00})
                         .tcp(40000, 80)
                         .flags(kTcpSyn)
                         .build(),
                     "RS1"),
        forwarded_to("FirstFragment",
                     "the first fragment of a SYN (it carries the ports) is forwarded",
                     to_port()
                         .ipv4(kClient, kVip)
                         .fragment(0, true)
                         .tcp(40000, 80)
                         .flags(kTcpSyn)
                         .payload_size(32)
                         .build(),
                     "RS1"),
        nic_checked,
        // ---- not for us ----------------------------------------------------------------------
        dropped("OtherUnicastMac", "a SYN to the VIP sent to another host's MAC is ignored",
                PacketBuilder()
                    .eth(kClientMac, kOtherMac)
                    .ipv4(kClient, kVip)
                    .tcp(40000, 80)
                    .flags(kTcpSyn)
                    .build(),
                "ignored_other_mac"),
        dropped("ArpReplyForOtherMac", "ARP unicast to another host's MAC is ignored",
                PacketBuilder()
                    .eth(kClientMac, kOtherMac)
                    .arp_reply(kClientMac, kClient, kOtherMac, "10.99.0.77")
                    .build(),
                "ignored_other_mac"),
        dropped("BroadcastUdp", "a broadcast that is neither ARP nor VRRP is ignored",
                PacketBuilder()
                    .eth(kClientMac, ff)
                    .ipv4(kClient, "255.255.255.255")
                    .udp(68, 67)
                    .payload_size(20)
                    .build(),
                "ignored_other_mac"),
        dropped("MulticastMdns", "multicast mDNS (not VRRP) is ignored",
                PacketBuilder()
                    .eth(kClientMac, "01:00:5e:00:00:fb")
                    .ipv4(kClient, "224.0.0.251")
                    .udp(5353, 5353)
                    .payload_size(20)
                    .build(),
                "ignored_other_mac"),
        // ---- punted to the control lcore -----------------------------------------------------
        punted_as(
            "ArpRequestForVip", "a broadcast ARP request for the VIP is punted",
            PacketBuilder().eth(kClientMac, ff).arp_request(kClientMac, kClient, kVip).build(),
            PuntReason::Arp, "exception_arp"),
        punted_as("ArpReplyToPort", "an ARP reply unicast to the port is punted",
                  PacketBuilder()
                      .eth(kRs1.mac, kPortMac)
                      .arp_reply(kRs1.mac, kRs1.v4, kPortMac, kOwnV4)
                      .build(),
                  PuntReason::Arp, "exception_arp"),
        punted_as("VrrpAdvert", "a VRRP advert (proto 112 to 224.0.0.18, multicast MAC) is punted",
                  PacketBuilder()
                      .eth("00:00:5e:00:01:3e", "01:00:5e:00:00:12")
                      .ipv4("10.99.0.123", "224.0.0.18")
                      .ttl(255)
                      .ip_proto(112)
                      .payload(vrrp_advert)
                      .build(),
                  PuntReason::Vrrp, "exception_vrrp"),
        punted_as("Ipv6NeighbourSolicitation",
                  "an IPv6 neighbour solicitation for the VIP is punted",
                  PacketBuilder()
                      .eth(kClientMac, "33:33:ff:00:02:52")
                      .ipv6(kClient6, "ff02::1:ff00:252")
                      .ttl(255)
                      .icmp(135, 0, 0)
                      .payload(ns_target)
                      .build(),
                  PuntReason::Icmp, "exception_icmp"),
        punted_as("Ipv6NeighbourAdvert", "an IPv6 neighbour advertisement to the port is punted",
                  PacketBuilder()
                      .eth(kRs1.mac, kPortMac)
                      .ipv6(kRs1.v6, kOwnV6)
                      .ttl(255)
                      .icmp(136, 0, 0x60000000)
                      .payload(ns_target)
                      .build(),
                  PuntReason::Icmp, "exception_icmp"),
        punted_as("SshToOwnV4", "TCP to the director's own IPv4 address is punted as Host",
                  syn(kClient, 50000, kOwnV4, 22), PuntReason::Host, "exception_host"),
        punted_as("TcpToOwnV6", "TCP to the director's own IPv6 address is punted as Host",
                  syn(kClient6, 50000, kOwnV6, 22), PuntReason::Host, "exception_host"),
        punted_as("EchoToOwnV4", "ICMP echo to the director's own address is punted as Host",
                  to_port().ipv4(kClient, kOwnV4).echo_request(7, 1).build(), PuntReason::Host,
                  "exception_host"),
        punted_as("EchoToVip", "ICMP echo to the VIP is punted (the control lcore answers it)",
                  to_port().ipv4(kClient, kVip).echo_request(7, 1).build(), PuntReason::Icmp,
                  "exception_icmp"),
        punted_as("Echo6ToVip6", "ICMPv6 echo to the IPv6 VIP is punted",
                  to_port().ipv6(kClient6, kVip6).echo_request(7, 1).build(), PuntReason::Icmp,
                  "exception_icmp"),
        // ---- dropped -------------------------------------------------------------------------
        dropped("EchoToNonVip", "ICMP echo to an address that is neither a VIP nor ours",
                to_port().ipv4(kClient, "10.99.0.77").echo_request(7, 1).build(),
                "drop_not_service"),
        dropped("VipNonServicePort", "TCP to VIP:443 (no service)", syn(kClient, 40000, kVip, 443),
                "drop_not_service"),
        dropped("UdpToTcpOnlyPort", "UDP to VIP:80 (a TCP-only service)",
                udp(kClient, 40000, kVip, 80), "drop_not_service"),
        dropped("TcpToUnknownAddress", "TCP to an address that is not a VIP",
                syn(kClient, 40000, "10.99.0.77", 80), "drop_not_service"),
        dropped("EspToVip", "an IP protocol without a service (ESP) to the VIP",
                to_port().ipv4(kClient, kVip).ip_proto(50).payload_size(24).build(),
                "drop_not_service"),
        dropped("Lldp", "a non-IP frame (LLDP)",
                PacketBuilder()
                    .eth(kClientMac, "01:80:c2:00:00:0e")
                    .ethertype(0x88cc)
                    .payload_size(46)
                    .build(),
                "drop_not_service"),
        dropped("NonFirstFragmentToVip", "a non-first fragment to the VIP is counted as fragment",
                to_port()
                    .ipv4(kClient, kVip)
                    .fragment(1480, false)
                    .ip_proto(6)
                    .payload_size(40)
                    .build(),
                "drop_fragment"),
        dropped("NonFirstFragment6ToVip6", "a non-first IPv6 fragment to the IPv6 VIP",
                to_port()
                    .ipv6(kClient6, kVip6)
                    .fragment(1448, false)
                    .ip_proto(6)
                    .payload_size(40)
                    .build(),
                "drop_fragment"),
        dropped("NonFirstFragmentToOther", "a non-first fragment to a non-VIP is no service's",
                to_port()
                    .ipv4(kClient, "10.99.0.77")
                    .fragment(1480, false)
                    .ip_proto(6)
                    .payload_size(40)
                    .build(),
                "drop_not_service"),
        dropped("IcmpErrorNoConnection", "frag-needed quoting VIP:80 -> client, no connection",
                PacketBuilder()
                    .eth(kRouterMac, kPortMac)
                    .ipv4("10.99.0.1", kVip)
                    .frag_needed(1400)
                    .quoting(vip_reply_quote(80, 40000))
                    .build(),
                "drop_not_service"),
        dropped("IcmpErrorNonServicePortOfVip", "frag-needed quoting VIP:22 (no service)",
                PacketBuilder()
                    .eth(kRouterMac, kPortMac)
                    .ipv4("10.99.0.1", kVip)
                    .frag_needed(1400)
                    .quoting(vip_reply_quote(22, 40000))
                    .build(),
                "drop_not_service"),
        // ---- malformed: dropped and counted by reason ----------------------------------------
        malformed("TooShort", "a 10-byte frame", Bytes(10, 0x02), Verdict::TooShort),
        malformed("TruncatedSegment", "a SYN whose IPv4 header continues in a second segment",
                  syn(kClient, 40000), Verdict::TruncatedSegment, 20),
        malformed("Ipv4BadChecksum", "an IPv4 header checksum mismatch (NIC did not verify)",
                  to_port()
                      .ipv4(kClient, kVip)
                      .ipv4_checksum(0x1234)
                      .tcp(40000, 80)
                      .flags(kTcpSyn)
                      .build(),
                  Verdict::Ipv4BadChecksum),
        malformed("Ipv4BadVersion", "IPv4 ethertype with IP version 5",
                  to_port().ipv4(kClient, kVip).ip_version(5).tcp(40000, 80).build(),
                  Verdict::Ipv4BadVersion),
        malformed("Ipv4BadIhl", "IPv4 IHL of 4 words",
                  to_port().ipv4(kClient, kVip).ipv4_ihl(4).tcp(40000, 80).build(),
                  Verdict::Ipv4BadIhl),
        malformed("Ipv4BadTotalLength", "IPv4 total length beyond the frame",
                  to_port().ipv4(kClient, kVip).ipv4_total_length(1500).tcp(40000, 80).build(),
                  Verdict::Ipv4BadTotalLength),
        malformed("TcpBadDataOffset", "TCP data offset of 3 words",
                  to_port().ipv4(kClient, kVip).tcp(40000, 80).tcp_data_offset(3).build(),
                  Verdict::TcpBadDataOffset),
        malformed("UdpBadLength", "UDP length below 8",
                  to_port().ipv4(kClient, kVip).udp(5353, 53).udp_length(4).payload_size(8).build(),
                  Verdict::UdpBadLength),
        malformed("VlanStacked", "two 802.1Q tags",
                  to_port().vlan(1).vlan(2).ipv4(kClient, kVip).tcp(40000, 80).build(),
                  Verdict::VlanStacked),
        malformed("Ipv6BadPayloadLength", "IPv6 payload length beyond the frame",
                  to_port().ipv6(kClient6, kVip6).ipv6_payload_length(1400).tcp(40000, 80).build(),
                  Verdict::Ipv6BadPayloadLength),
        malformed("ArpUnsupported", "ARP for a non-Ethernet hardware type",
                  PacketBuilder()
                      .eth(kClientMac, ff)
                      .arp_request(kClientMac, kClient, kVip)
                      .arp_format(6, 0x0800, 6, 4)
                      .build(),
                  Verdict::ArpUnsupported),
        malformed("IcmpBadInner", "an ICMP error quoting only 10 bytes of a packet",
                  PacketBuilder()
                      .eth(kRouterMac, kPortMac)
                      .ipv4("10.99.0.1", kVip)
                      .frag_needed(1400)
                      .quoting(vip_reply_quote(80, 40000), 10)
                      .build(),
                  Verdict::IcmpBadInner),
    };
}

class Classify : public DataplaneTest, public ::testing::WithParamInterface<ClassifyCase> {};

TEST_P(Classify, FrameHasExpectedFateAndCounters) {
    const ClassifyCase& c = GetParam();
    SCOPED_TRACE(c.description);
    auto d = Director::create({});
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    const auto before = d->counters();

    rte_mbuf* m = to_mbuf(c.frame, d->port_id(), c.split_at);
    ASSERT_NE(m, nullptr);
    m->ol_flags |= c.ol_flags;
    d->worker().process_burst(d->snapshot(), &m, 1, kNow);
    const std::vector<Bytes> tx = d->drain_tx();
    const std::vector<Punted> punted = d->drain_punted();
    const auto after = d->counters();

    // Where the frame went.
    switch (c.action) {
        case Action::Forward: {
            ASSERT_EQ(tx.size(), 1u) << "expected one forwarded frame";
            EXPECT_TRUE(punted.empty());
            const Bytes& out = tx.front();
            ASSERT_EQ(out.size(), c.frame.size());
            EXPECT_EQ(real_name(out.data()).value_or("?"), c.real) << test::hex(out);
            EXPECT_TRUE(
                std::equal(out.begin() + 6, out.begin() + 12, test::mac(kPortMac).bytes.begin()))
                << "source MAC must be the port's";
            EXPECT_TRUE(std::equal(out.begin() + 12, out.end(), c.frame.begin() + 12))
                << "bytes after the MAC addresses changed:\n in  " << test::hex(c.frame)
                << "\n out " << test::hex(out);
            break;
        }
        case Action::Punt:
            EXPECT_TRUE(tx.empty());
            ASSERT_EQ(punted.size(), 1u) << "expected one punted frame";
            EXPECT_EQ(punt_name(punted.front().reason), punt_name(c.punt));
            EXPECT_EQ(punted.front().frame, c.frame) << "a punted frame must be unchanged";
            break;
        case Action::Drop:
            EXPECT_TRUE(tx.empty()) << "dropped frame was transmitted";
            EXPECT_TRUE(punted.empty()) << "dropped frame was punted";
            break;
    }

    // Exactly one outcome counter moved, by one.
    EXPECT_EQ(after.at("rx_packets") - before.at("rx_packets"), 1u);
    for (const char* name : kOutcomeCounters) {
        const uint64_t expected = std::string(name) == c.outcome ? 1 : 0;
        EXPECT_EQ(after.at(name) - before.at(name), expected) << "counter " << name;
    }
    for (const auto& [name, value] : c.extra) {
        EXPECT_EQ(after.at(name) - before.at(name), value) << "counter " << name;
    }
    EXPECT_EQ(after.at("tx_packets") - before.at("tx_packets"),
              c.action == Action::Forward ? 1u : 0u);
    EXPECT_EQ(after.at("tx_dropped"), before.at("tx_dropped"));

    // Malformed frames: counted under their reason, and only there.
    uint64_t malformed_total = 0;
    for (size_t i = 0; i < net::kDropReasonCount; ++i) {
        malformed_total += d->worker().malformed()[i];
    }
    if (c.malformed) {
        EXPECT_EQ(d->malformed(*c.malformed), 1u) << net::to_string(*c.malformed);
        EXPECT_EQ(malformed_total, 1u);
    } else {
        EXPECT_EQ(malformed_total, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Frames, Classify, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ClassifyCase>& info) {
                             return std::string(info.param.name);
                         });

// ---- burst-level behaviour ------------------------------------------------------------------

TEST_F(DataplaneTest, MixedBurstEachFrameGetsItsOwnFate) {
    auto d = Director::create(lab_services(0));
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    const Output out = d->send({
        syn(kClient, 40000),  // RS1
        PacketBuilder()
            .eth(kClientMac, "ff:ff:ff:ff:ff:ff")
            .arp_request(kClientMac, kClient, kVip)
            .build(),                    // punt
        syn(kClient, 40001),             // RS2
        syn(kClient, 40000, kVip, 443),  // drop
        syn(kClient, 40002),             // RS1
    });
    ASSERT_EQ(out.tx.size(), 3u);
    EXPECT_EQ(real_name(out.tx[0].data()).value_or("?"), "RS1");
    EXPECT_EQ(real_name(out.tx[1].data()).value_or("?"), "RS2");
    EXPECT_EQ(real_name(out.tx[2].data()).value_or("?"), "RS1");
    ASSERT_EQ(out.punted.size(), 1u);
    EXPECT_EQ(d->counter("rx_packets"), 5u);
    EXPECT_EQ(d->counter("rx_bursts"), 1u);
    EXPECT_EQ(d->counter("forwarded"), 3u);
    EXPECT_EQ(d->counter("tx_packets"), 3u);
    EXPECT_EQ(d->counter("exception_arp"), 1u);
    EXPECT_EQ(d->counter("drop_not_service"), 1u);
}

// The worker remembers the last service lookup of a burst: every frame must still find its
// own (address, port, protocol), and a burst after a new snapshot must use the new one.
TEST_F(DataplaneTest, ServiceLookupFollowsEachFrameAndEachSnapshot) {
    auto d = Director::create(lab_services(0));
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    const Output first = d->send({
        syn(kClient, 40000),             // TCP VIP:80: forwarded
        udp(kClient, 40001, kVip, 80),   // UDP VIP:80: no service
        udp(kClient, 5353),              // UDP VIP:53: forwarded
        syn(kClient, 40002, kVip, 53),   // TCP VIP:53: no service
        syn(kClient, 40003, kVip, 443),  // TCP VIP:443: no service
        syn(kClient, 40004),             // TCP VIP:80 again: forwarded
    });
    EXPECT_EQ(first.tx.size(), 3u);
    EXPECT_EQ(d->counter("forwarded"), 3u);
    EXPECT_EQ(d->counter("drop_not_service"), 3u);
    // The next snapshot lists VIP:80 last, with RS2 only, and drops VIP:53: a lookup kept
    // from the previous burst would name another service's index.
    const uint16_t port = d->port_id();
    ASSERT_TRUE(d->publish({
        service(kVip6, 80, {real(kRs1, port, 1, true), real(kRs2, port, 1, true)}, 3),
        service(kVip, 80, {real(kRs2, port)}, 1),
    }));
    const Output second = d->send({
        syn(kClient, 41000), syn(kClient, 41001), syn(kClient, 41002), syn(kClient, 41003),
        udp(kClient, 5353),  // VIP:53 is gone
    });
    ASSERT_EQ(second.tx.size(), 4u);
    for (const Bytes& f : second.tx) {
        EXPECT_EQ(real_name(f.data()).value_or("?"), "RS2");
    }
    EXPECT_EQ(d->counter("drop_not_service"), 4u);
}

// Packets of live connections take the worker's fast lane, which decides from the burst's first
// packet's port (its MAC, its own address): every frame of a burst around them must still get
// the fate classify() gives it, whatever its place in the burst.
TEST_F(DataplaneTest, LivePacketsAndOthersShareABurst) {
    auto d = Director::create(lab_services(0));
    ASSERT_TRUE(d);
    const uint16_t port = d->port_id();
    const uint16_t stranger = static_cast<uint16_t>(port + 1);  // not one of the worker's ports
    ASSERT_TRUE(d->publish(lab_services(port)));
    ASSERT_EQ(d->send({syn(kClient, 40000), syn(kClient, 40001)}).tx.size(), 2u);  // RS1, RS2
    const Bytes other_mac = PacketBuilder()
                                .eth(kClientMac, "02:00:00:00:00:77")
                                .ipv4(kClient, kVip)
                                .tcp(40000, 80)
                                .flags(kTcpAck)
                                .build();
    for (const bool lane_port_first : {true, false}) {
        SCOPED_TRACE(lane_port_first ? "first frame on the port" : "first frame on a stranger");
        const std::vector<std::pair<Bytes, uint16_t>> frames = {
            {ack(kClient, 40001), lane_port_first ? port : stranger},  // RS2, or bug_bad_real
            {ack(kClient, 40000), port},                               // RS1
            {other_mac, port},                                         // ignored_other_mac
            {ack(kClient, 40001), stranger},                           // bug_bad_real
            {ack(kClient, 40001), RTE_MBUF_PORT_INVALID},              // bug_bad_real
            {ack(kClient, 50000, kOwnV4, 22), port},                   // punt Host
            {udp(kClient, 40000, kVip, 80), port},                     // drop_not_service
            {ack(kClient, 40001), port},                               // RS2
        };
        const auto before = d->counters();
        std::vector<rte_mbuf*> ms;
        for (const auto& [frame, p] : frames) {
            ms.push_back(to_mbuf(frame, p));
        }
        d->worker().process_burst(d->snapshot(), ms.data(), static_cast<uint16_t>(ms.size()),
                                  kNow);
        const std::vector<Bytes> tx = d->drain_tx();
        std::vector<std::string> reals;
        for (const Bytes& f : tx) {
            reals.push_back(real_name(f.data()).value_or("?"));
        }
        const std::vector<std::string> expected =
            lane_port_first ? std::vector<std::string>{"RS2", "RS1", "RS2"}
                            : std::vector<std::string>{"RS1", "RS2"};
        EXPECT_EQ(reals, expected);
        const std::vector<Punted> punted = d->drain_punted();
        ASSERT_EQ(punted.size(), 1u);
        EXPECT_EQ(punted[0].reason, dp::PuntReason::Host);
        auto delta = [&](const char* name) { return d->counter(name) - before.at(name); };
        EXPECT_EQ(delta("forwarded"), expected.size());
        EXPECT_EQ(delta("conn_hit"), expected.size());
        EXPECT_EQ(delta("bug_bad_real"), lane_port_first ? 2u : 3u);
        EXPECT_EQ(delta("ignored_other_mac"), 1u);
        EXPECT_EQ(delta("drop_not_service"), 1u);
        EXPECT_EQ(delta("conn_new"), 0u);
    }
}

TEST_F(DataplaneTest, BurstLargerThanTxBufferIsForwardedWhole) {
    // process_burst is public and takes any n; the per-port tx buffer holds kBurstSize.
    auto d = Director::create(lab_services(0));
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    std::vector<Bytes> frames;
    for (uint16_t i = 0; i < 3 * dp::kBurstSize + 5; ++i) {
        frames.push_back(syn(kClient, static_cast<uint16_t>(20000 + i)));
    }
    const Output out = d->send(frames);
    EXPECT_EQ(out.tx.size(), frames.size());
    EXPECT_EQ(d->counter("forwarded"), frames.size());
    EXPECT_EQ(d->counter("tx_packets"), frames.size());
    EXPECT_EQ(d->counter("tx_dropped"), 0u);
    // The same connections' ACKs, in one burst: the handshake's (a change of state) and then
    // the fast lane's hits, chunk after chunk.
    for (int round = 0; round < 2; ++round) {
        std::vector<Bytes> acks;
        for (uint16_t i = 0; i < frames.size(); ++i) {
            acks.push_back(ack(kClient, static_cast<uint16_t>(20000 + i)));
        }
        EXPECT_EQ(d->send(acks).tx.size(), acks.size()) << round;
    }
    EXPECT_EQ(d->counter("conn_hit"), 2 * frames.size());
    EXPECT_EQ(d->counter("forwarded"), 3 * frames.size());
    EXPECT_EQ(d->counter("tx_packets"), 3 * frames.size());
    EXPECT_EQ(d->counter("tx_dropped"), 0u);
}

TEST_F(DataplaneTest, TxRingFullFramesAreFreedAndCounted) {
    DirectorOptions opt;
    opt.ring_size = 16;  // holds 15
    auto d = Director::create(lab_services(0), opt);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    std::vector<rte_mbuf*> ms;
    for (uint16_t i = 0; i < 20; ++i) {
        ms.push_back(to_mbuf(syn(kClient, static_cast<uint16_t>(30000 + i)), d->port_id()));
    }
    d->worker().process_burst(d->snapshot(), ms.data(), static_cast<uint16_t>(ms.size()), kNow);
    EXPECT_EQ(d->counter("forwarded"), 20u);
    EXPECT_EQ(d->counter("tx_packets"), 15u);
    EXPECT_EQ(d->counter("tx_dropped"), 5u);
    EXPECT_EQ(d->drain_tx().size(), 15u);
    // The fixture's TearDown checks that the 5 refused mbufs went back to the pool.
}

TEST_F(DataplaneTest, ExceptionRingFullFramesAreFreedAndCounted) {
    auto d = Director::create(lab_services(0));
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    const Bytes arp = PacketBuilder()
                          .eth(kClientMac, "ff:ff:ff:ff:ff:ff")
                          .arp_request(kClientMac, kClient, kVip)
                          .build();
    const unsigned capacity = dp::ExceptionChannel::kFrameRingSize - 1;
    const unsigned total = capacity + 40;
    for (unsigned sent = 0; sent < total;) {
        std::vector<rte_mbuf*> ms;
        for (unsigned i = 0; i < dp::kBurstSize && sent < total; ++i, ++sent) {
            ms.push_back(to_mbuf(arp, d->port_id()));
        }
        d->worker().process_burst(d->snapshot(), ms.data(), static_cast<uint16_t>(ms.size()), kNow);
    }
    EXPECT_EQ(d->counter("exception_arp"), capacity);
    EXPECT_EQ(d->counter("exception_ring_full"), 40u);
    EXPECT_EQ(d->drain_punted().size(), capacity);
}

TEST_F(DataplaneTest, WorkerWithRteMallocTablesForwards) {
    DirectorOptions opt;
    opt.use_rte_malloc = true;
    auto d = Director::create(lab_services(0), opt);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->publish(lab_services(d->port_id())));
    EXPECT_EQ(d->route(syn(kClient, 40000)), "RS1");
    EXPECT_EQ(d->route(ack(kClient, 40000)), "RS1");
    EXPECT_EQ(d->route(syn(kClient, 40001)), "RS2");
    EXPECT_EQ(d->worker().conn_table().size(), 2u);
}

TEST_F(DataplaneTest, WorkerCreateRejectsBadConfig) {
    auto pub = rcu::Publisher<lb::Snapshot>::create(1);
    ASSERT_TRUE(pub);
    auto exc = dp::ExceptionChannel::create(7, SOCKET_ID_ANY);
    ASSERT_TRUE(exc);
    dp::PortContext pc;
    pc.port_id = 3;
    const dp::RxQueue on_other_port{4, 0};
    dp::WorkerConfig cfg;
    cfg.use_rte_malloc = false;
    cfg.conn_table.capacity = 64;
    cfg.persist_table.capacity = 64;

    EXPECT_FALSE(dp::Worker::create(cfg, **pub, **exc).has_value()) << "no ports";
    cfg.ports = {&pc, 1};
    EXPECT_FALSE(dp::Worker::create(cfg, **pub, **exc).has_value()) << "no rx queues";
    cfg.rx_queues = {&on_other_port, 1};
    auto r = dp::Worker::create(cfg, **pub, **exc);
    ASSERT_FALSE(r.has_value()) << "rx queue on a port the worker does not serve";
    EXPECT_NE(r.error().message.find("unknown port 4"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace director::dptest
