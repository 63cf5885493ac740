// SPDX-License-Identifier: BSD-3-Clause
// Responder decisions, table-driven (one row per policy rule, after Katran's fixtures): what
// arrives, whether the VIP's VRRP group is MASTER, and the expected reason, reply and learned
// binding. Frames come from the fixture PacketBuilder, not from the builders under test.
#include "neigh/responder.h"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <optional>
#include <string>

#include "fixtures/packet_builder.h"
#include "nd_frame.h"
#include "neigh/neigh_table.h"

namespace director::neigh {

inline void PrintTo(Reason r, std::ostream* os) { *os << to_string(r); }

namespace {

using fixture::kDirectorMac;
using fixture::kOtherMac;
using fixture::kRsMac;
using fixture::NdFrame;
using test::Bytes;
using test::ip;
using test::mac;
using test::PacketBuilder;

constexpr const char* kBroadcast = "ff:ff:ff:ff:ff:ff";
constexpr const char* kOwn4 = "10.99.0.120";
constexpr const char* kVip4 = "10.99.0.252";
constexpr const char* kUnmanagedVip4 = "10.99.0.253";
constexpr const char* kRs4 = "10.99.0.142";
constexpr const char* kOwn6 = "fd00:99::120";
constexpr const char* kVip6 = "fd00:99::252";
constexpr const char* kRs6 = "fd00:99::142";
constexpr const char* kPort1Own4 = "10.98.0.1";
constexpr uint16_t kPort = 0;
constexpr Ownership::GroupId kGroup = 62;

// Port 0 holds its own addresses, the VIPs of VRRP instance kGroup, and one VIP no VRRP
// instance covers; port 1 has an address of its own.
Ownership make_ownership(bool master) {
    Ownership o;
    o.add_own(kPort, ip(kOwn4));
    o.add_own(kPort, ip(kOwn6));
    o.add_own(1, ip(kPort1Own4));
    o.add_vip(kPort, ip(kVip4), kGroup);
    o.add_vip(kPort, ip(kVip6), kGroup);
    o.add_vip(kPort, ip(kUnmanagedVip4));
    o.set_master(kGroup, master);
    return o;
}

RxPort rx() { return RxPort{.port = kPort, .mac = mac(kDirectorMac), .vlan_id = 0}; }

Bytes arp_request(const char* sha, const char* spa, const char* tpa,
                  const char* eth_dst = kBroadcast) {
    return PacketBuilder().eth(sha, eth_dst).arp_request(sha, spa, tpa).pad_to(60).build();
}

Bytes arp_reply(const char* sha, const char* spa, const char* tha, const char* tpa) {
    return PacketBuilder().eth(sha, tha).arp_reply(sha, spa, tha, tpa).pad_to(60).build();
}

Bytes ns_for(const char* target, const std::function<void(NdFrame&)>& edit = {}) {
    NdFrame f;
    f.target = target;
    f.dst = solicited_node(ip(target)).to_string();
    f.eth_dst = ipv6_multicast_mac(ip(f.dst)).to_string();
    if (edit) {
        edit(f);
    }
    return f.build();
}

struct Row {
    const char* name;
    std::function<Bytes()> frame;
    bool master;  // is the VIPs' VRRP instance MASTER?
    Reason reason;
    bool reply;
    std::optional<Binding> learn;
};

Binding rs4() { return Binding{.ip = ip(kRs4), .mac = mac(kRsMac)}; }
Binding rs6() { return Binding{.ip = ip(kRs6), .mac = mac(kRsMac)}; }

const Row kRows[] = {
    // ---- ARP ----------------------------------------------------------------------------------
    {"OwnAddressAnsweredWhileBackup", [] { return arp_request(kRsMac, kRs4, kOwn4); }, false,
     Reason::ArpReplyOwn, true, rs4()},
    {"OwnAddressAnsweredWhileMaster", [] { return arp_request(kRsMac, kRs4, kOwn4); }, true,
     Reason::ArpReplyOwn, true, rs4()},
    {"VipAnsweredWhileMaster", [] { return arp_request(kRsMac, kRs4, kVip4); }, true,
     Reason::ArpReplyVip, true, rs4()},
    {"VipIgnoredWhileBackup", [] { return arp_request(kRsMac, kRs4, kVip4); }, false,
     Reason::ArpVipNotOwned, false, rs4()},
    {"UnmanagedVipAlwaysAnswered", [] { return arp_request(kRsMac, kRs4, kUnmanagedVip4); }, false,
     Reason::ArpReplyVip, true, rs4()},
    {"UnrelatedAddressIgnored", [] { return arp_request(kRsMac, kRs4, "10.99.0.200"); }, true,
     Reason::ArpNotOurs, false, rs4()},
    {"OtherPortsAddressIgnored", [] { return arp_request(kRsMac, kRs4, kPort1Own4); }, true,
     Reason::ArpNotOurs, false, rs4()},
    {"TaggedRequestAnswered",
     [] {
         return PacketBuilder()
             .eth(kRsMac, kBroadcast)
             .vlan(100)
             .arp_request(kRsMac, kRs4, kOwn4)
             .pad_to(60)
             .build();
     },
     false, Reason::ArpReplyOwn, true, rs4()},
    {"UnicastRefreshOfOurMacAnswered",
     [] { return arp_request(kRsMac, kRs4, kOwn4, kDirectorMac); }, false, Reason::ArpReplyOwn,
     true, rs4()},
    {"GratuitousArpFromRealServerLearned", [] { return arp_request(kRsMac, kRs4, kRs4); }, false,
     Reason::ArpGratuitous, false, rs4()},
    {"GratuitousArpReplyFromRealServerLearned",
     [] { return arp_reply(kRsMac, kRs4, kBroadcast, kRs4); }, false, Reason::ArpGratuitous, false,
     rs4()},
    {"ArpReplyFromRealServerLearned", [] { return arp_reply(kRsMac, kRs4, kDirectorMac, kOwn4); },
     false, Reason::ArpReplyReceived, false, rs4()},
    {"ProbeForOwnAddressAnsweredNothingLearned",
     [] { return arp_request(kRsMac, "0.0.0.0", kOwn4); }, false, Reason::ArpReplyOwn, true,
     std::nullopt},
    {"ProbeForUnrelatedAddressIgnored", [] { return arp_request(kRsMac, "0.0.0.0", kRs4); }, false,
     Reason::ArpNotOurs, false, std::nullopt},
    {"PeerGarpForVipWhileMasterIsAConflict", [] { return arp_request(kOtherMac, kVip4, kVip4); },
     true, Reason::ArpConflict, false, std::nullopt},
    {"PeerGarpForVipWhileBackupIsOffered", [] { return arp_request(kOtherMac, kVip4, kVip4); },
     false, Reason::ArpGratuitous, false, Binding{.ip = ip(kVip4), .mac = mac(kOtherMac)}},
    {"SomeoneUsingOurOwnAddressIsAConflict", [] { return arp_request(kOtherMac, kOwn4, kRs4); },
     false, Reason::ArpConflict, false, std::nullopt},
    {"OurOwnFrameLoopedBack",
     [] {
         return PacketBuilder()
             .eth(kDirectorMac, kBroadcast)
             .arp_request(kDirectorMac, kVip4, kVip4)
             .pad_to(60)
             .build();
     },
     true, Reason::ArpLooped, false, std::nullopt},
    {"BroadcastSenderMac",
     [] {
         return PacketBuilder()
             .eth(kRsMac, kBroadcast)
             .arp_request(kBroadcast, kRs4, kOwn4)
             .pad_to(60)
             .build();
     },
     false, Reason::ArpBadSender, false, std::nullopt},
    {"MulticastSenderIp", [] { return arp_request(kRsMac, "224.0.0.18", kOwn4); }, false,
     Reason::ArpBadSender, false, std::nullopt},
    {"LoopbackSenderIp", [] { return arp_request(kRsMac, "127.0.0.1", kOwn4); }, false,
     Reason::ArpBadSender, false, std::nullopt},
    {"UnicastToAnotherMacIgnored", [] { return arp_request(kRsMac, kRs4, kOwn4, kOtherMac); },
     false, Reason::NotOurMac, false, std::nullopt},
    {"BadOpcode",
     [] {
         return PacketBuilder()
             .eth(kRsMac, kBroadcast)
             .arp_request(kRsMac, kRs4, kOwn4)
             .arp_op(3)
             .pad_to(60)
             .build();
     },
     false, Reason::ArpMalformed, false, std::nullopt},
    {"NotEthernetIpv4Arp",
     [] {
         return PacketBuilder()
             .eth(kRsMac, kBroadcast)
             .arp_request(kRsMac, kRs4, kOwn4)
             .arp_format(6, 0x0800, 6, 4)
             .pad_to(60)
             .build();
     },
     false, Reason::ArpMalformed, false, std::nullopt},
    // ---- Neighbour discovery ------------------------------------------------------------------
    {"NsForOwnAddressAnswered", [] { return ns_for(kOwn6); }, false, Reason::NsReplyOwn, true,
     rs6()},
    {"NsForVipAnsweredWhileMaster", [] { return ns_for(kVip6); }, true, Reason::NsReplyVip, true,
     rs6()},
    {"NsForVipIgnoredWhileBackup", [] { return ns_for(kVip6); }, false, Reason::NsVipNotOwned,
     false, rs6()},
    {"NsForUnrelatedAddressIgnored", [] { return ns_for("fd00:99::200"); }, true, Reason::NsNotOurs,
     false, rs6()},
    {"TaggedNsAnswered", [] { return ns_for(kOwn6, [](NdFrame& f) { f.vlan = 100; }); }, false,
     Reason::NsReplyOwn, true, rs6()},
    {"NsWithoutSourceOptionAnsweredNothingLearned",
     [] { return ns_for(kOwn6, [](NdFrame& f) { f.options.clear(); }); }, false, Reason::NsReplyOwn,
     true, std::nullopt},
    {"DadProbeForVipDefendedWhileMaster",
     [] {
         return ns_for(kVip6, [](NdFrame& f) {
             f.src = "::";
             f.options.clear();
         });
     },
     true, Reason::NsReplyVip, true, std::nullopt},
    {"NaFromRealServerLearned", [] { return NdFrame::na_from_rs().build(); }, false,
     Reason::NaReceived, false, rs6()},
    {"NaWithoutTargetOptionLearnsEthernetSource",
     [] {
         NdFrame f = NdFrame::na_from_rs();
         f.options.clear();
         return f.build();
     },
     false, Reason::NaReceived, false, rs6()},
    {"PeerNaForVipWhileMasterIsAConflict",
     [] {
         NdFrame f = NdFrame::na_from_rs(kVip6);
         f.eth_src = kOtherMac;
         f.options = fixture::tllao(kOtherMac);
         return f.build();
     },
     true, Reason::NdConflict, false, std::nullopt},
    {"NsFromOurOwnAddressIsAConflict",
     [] { return ns_for(kRs6, [](NdFrame& f) { f.src = kOwn6; }); }, false, Reason::NdConflict,
     false, std::nullopt},
    {"NsLoopedBack",
     [] {
         return ns_for(kVip6, [](NdFrame& f) {
             f.eth_src = kDirectorMac;
             f.options = fixture::sllao(kDirectorMac);
         });
     },
     true, Reason::NdLooped, false, std::nullopt},
    {"NsWithMulticastLinkLayerAddress",
     [] { return ns_for(kOwn6, [](NdFrame& f) { f.options = fixture::sllao(kBroadcast); }); },
     false, Reason::NdBadSender, false, std::nullopt},
    {"MalformedNsRejectedWithReason",
     [] { return ns_for(kOwn6, [](NdFrame& f) { f.hop_limit = 64; }); }, false,
     Reason::NdBadHopLimit, false, std::nullopt},
    {"NsForMulticastTargetRejected", [] { return ns_for("ff02::1"); }, false,
     Reason::NdMulticastTarget, false, std::nullopt},
    // ---- Not ours -----------------------------------------------------------------------------
    {"EchoRequestIsNotNeighbourDiscovery",
     [] {
         return PacketBuilder()
             .eth(kRsMac, kDirectorMac)
             .ipv6(kRs6, kOwn6)
             .echo_request(1, 1)
             .build();
     },
     false, Reason::NotNeighbour, false, std::nullopt},
    {"TcpIsNotNeighbourDiscovery",
     [] { return PacketBuilder().eth(kRsMac, kDirectorMac).ipv4(kRs4, kOwn4).tcp(1, 2).build(); },
     false, Reason::NotNeighbour, false, std::nullopt},
    {"RuntFrame", [] { return Bytes(10, 0xff); }, false, Reason::FrameMalformed, false,
     std::nullopt},
};

class ResponderDecides : public ::testing::TestWithParam<Row> {};

// The reply must be well-formed, from our MAC, on the request's VLAN, back to the requester.
void check_reply(const Bytes& request, std::span<const uint8_t> reply) {
    net::ParsedPacket req;
    net::ParsedPacket rep;
    ASSERT_FALSE(
        net::is_drop(net::parse_frame(request.data(), static_cast<uint32_t>(request.size()), req)));
    const net::Verdict v = net::parse_frame(reply.data(), static_cast<uint32_t>(reply.size()), rep);
    ASSERT_FALSE(net::is_drop(v)) << net::to_string(v);
    EXPECT_EQ(rep.vlan_tci, req.vlan_tci);
    EXPECT_EQ(net::MacAddress{}.bytes.size(), 6u);
    net::MacAddress src;
    std::memcpy(src.bytes.data(), reply.data() + 6, 6);
    EXPECT_EQ(src, mac(kDirectorMac));
    if (v == net::Verdict::Arp) {
        net::ArpPacket q;
        net::ArpPacket a;
        ASSERT_EQ(net::parse_arp(request.data() + req.l3_offset,
                                 static_cast<uint32_t>(request.size() - req.l3_offset), q),
                  net::Verdict::Arp);
        ASSERT_EQ(net::parse_arp(reply.data() + rep.l3_offset,
                                 static_cast<uint32_t>(reply.size() - rep.l3_offset), a),
                  net::Verdict::Arp);
        EXPECT_EQ(a.op, kArpOpReply);
        EXPECT_EQ(a.sender_mac, mac(kDirectorMac));
        EXPECT_EQ(a.sender_ip, q.target_ip);
        EXPECT_EQ(a.target_mac, q.sender_mac);
        EXPECT_EQ(a.target_ip, q.sender_ip);
        EXPECT_EQ(std::memcmp(reply.data(), q.sender_mac.bytes.data(), 6), 0);
        return;
    }
    NdPacket ns;
    NdPacket na;
    ASSERT_EQ(parse_nd(request, req, ns), NdError::None);
    ASSERT_EQ(parse_nd(reply, rep, na), NdError::None);
    EXPECT_TRUE(na.is_na());
    EXPECT_EQ(na.target, ns.target);
    EXPECT_EQ(na.src, ns.target);
    EXPECT_EQ(na.lladdr, mac(kDirectorMac));
    EXPECT_NE(na.na_flags & kNaFlagOverride, 0);
    EXPECT_EQ(na.na_flags & kNaFlagRouter, 0);
    if (ns.src.is_unspecified()) {
        EXPECT_EQ(na.dst, all_nodes());
        EXPECT_EQ(na.na_flags & kNaFlagSolicited, 0);
    } else {
        EXPECT_EQ(na.dst, ns.src);
        EXPECT_NE(na.na_flags & kNaFlagSolicited, 0);
    }
}

TEST_P(ResponderDecides, AsTheRowSays) {
    const Row& row = GetParam();
    const Ownership ownership = make_ownership(row.master);
    Responder responder(ownership);
    const Bytes frame = row.frame();
    std::array<uint8_t, kMaxFrameLen> out{};
    const Decision d = responder.on_frame(rx(), frame, out);
    EXPECT_EQ(d.reason, row.reason) << test::hex(frame);
    EXPECT_EQ(d.replied(), row.reply);
    ASSERT_EQ(d.learn.has_value(), row.learn.has_value());
    if (row.learn) {
        EXPECT_EQ(d.learn->ip, row.learn->ip);
        EXPECT_EQ(d.learn->mac, row.learn->mac);
    }
    if (d.replied()) {
        check_reply(frame, std::span<const uint8_t>(out.data(), d.reply_len));
    }
    // Every frame is counted exactly once, under its reason.
    uint64_t total = 0;
    for (std::size_t i = 0; i < kReasonCount; ++i) {
        total += responder.counters().get(static_cast<Reason>(i));
    }
    EXPECT_EQ(total, 1u);
    EXPECT_EQ(responder.counters().get(row.reason), 1u);
}

INSTANTIATE_TEST_SUITE_P(Policy, ResponderDecides, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) {
                             return std::string(info.param.name);
                         });

TEST(Responder, FollowsVrrpTransitionsThroughOwnership) {
    Ownership ownership = make_ownership(false);
    Responder responder(ownership);
    const Bytes who_has_vip = arp_request(kRsMac, kRs4, kVip4);
    std::array<uint8_t, kMaxFrameLen> out{};
    EXPECT_EQ(responder.on_frame(rx(), who_has_vip, out).reason, Reason::ArpVipNotOwned);
    ownership.set_master(kGroup, true);  // VRRP: BACKUP -> MASTER
    EXPECT_EQ(responder.on_frame(rx(), who_has_vip, out).reason, Reason::ArpReplyVip);
    ownership.set_master(kGroup, false);  // MASTER -> BACKUP (higher priority peer)
    EXPECT_EQ(responder.on_frame(rx(), who_has_vip, out).reason, Reason::ArpVipNotOwned);
    EXPECT_EQ(responder.counters().get(Reason::ArpVipNotOwned), 2u);
    EXPECT_EQ(responder.counters().get(Reason::ArpReplyVip), 1u);
}

TEST(Responder, ReplyThatDoesNotFitIsCountedAsABugAndStillLearns) {
    const Ownership ownership = make_ownership(true);
    Responder responder(ownership);
    std::array<uint8_t, 20> small{};
    const Decision arp = responder.on_frame(rx(), arp_request(kRsMac, kRs4, kOwn4), small);
    EXPECT_EQ(arp.reason, Reason::BugNoRoom);
    EXPECT_FALSE(arp.replied());
    EXPECT_TRUE(arp.learn);
    const Decision ns = responder.on_frame(rx(), ns_for(kOwn6), small);
    EXPECT_EQ(ns.reason, Reason::BugNoRoom);
    EXPECT_EQ(responder.counters().get(Reason::BugNoRoom), 2u);
}

TEST(Responder, OnArpUsesTheCallersVlan) {
    const Ownership ownership = make_ownership(true);
    Responder responder(ownership);
    const net::ArpPacket request{.op = kArpOpRequest,
                                 .sender_mac = mac(kRsMac),
                                 .sender_ip = ip(kRs4),
                                 .target_mac = {},
                                 .target_ip = ip(kVip4)};
    std::array<uint8_t, kMaxFrameLen> out{};
    RxPort tagged = rx();
    tagged.vlan_id = 42;
    const Decision d = responder.on_arp(tagged, request, out);
    ASSERT_TRUE(d.replied());
    net::ParsedPacket p;
    ASSERT_EQ(net::parse_frame(out.data(), d.reply_len, p), net::Verdict::Arp);
    EXPECT_EQ(p.vlan_tci, 42);
}

// A resolution round trip: the table asks, the real server answers, the responder hands the
// binding to the table, and the MAC is published.
TEST(Responder, ResolutionRoundTripWithTheNeighbourTable) {
    const Ownership ownership = make_ownership(true);
    Responder responder(ownership);
    auto table = NeighbourTable::create().value();
    const TimePoint t0{std::chrono::seconds(1000)};
    table->want(kPort, ip(kRs4), t0);
    const std::vector<Probe> probes = table->poll(t0);
    ASSERT_EQ(probes.size(), 1u);
    std::array<uint8_t, kMaxFrameLen> probe_frame{};
    const uint32_t len =
        build_probe(probe_frame, Link{.mac = mac(kDirectorMac)}, ip(kOwn4), probes[0]);
    ASSERT_EQ(len, kArpFrameLen);
    net::ArpPacket sent;
    ASSERT_EQ(net::parse_arp(probe_frame.data() + 14, len - 14, sent), net::Verdict::Arp);
    EXPECT_EQ(sent.target_ip, ip(kRs4));

    // The real server's reply, as its kernel would send it.
    std::array<uint8_t, kMaxFrameLen> out{};
    const Decision d = responder.on_frame(rx(), arp_reply(kRsMac, kRs4, kDirectorMac, kOwn4), out);
    ASSERT_TRUE(d.learn);
    EXPECT_EQ(table->on_learn(kPort, d.learn->ip, d.learn->mac, t0 + std::chrono::milliseconds(3)),
              LearnResult::Resolved);
    EXPECT_EQ(table->lookup(kPort, ip(kRs4)), mac(kRsMac));
    EXPECT_EQ(table->version(), 1u);
}

}  // namespace
}  // namespace director::neigh
