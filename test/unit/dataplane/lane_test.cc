// SPDX-License-Identifier: BSD-3-Clause
// The fast lane's stage 1 (dataplane/lane.h): lane_parse_x4, four frames across SSE lanes,
// must take exactly the frames lane_parse takes that are untagged and at least kLaneX4Bytes
// long, with the same lane word and hash; and lane_parse's word and hash must be those of the
// frame (parse_frame's flow key, net::flow_hash).
#include "dataplane/lane.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "harness.h"
#include "net/checksum.h"
#include "net/flow.h"
#include "net/parse.h"

namespace director::dptest {
namespace {

constexpr uint16_t kPort = 3;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kSyn = 0x02;

dp::LaneFilter filter() {
    dp::LaneFilter f;
    f.port = kPort;
    const net::MacAddress mac = *net::MacAddress::parse(kPortMac);
    std::memcpy(&f.mac, mac.bytes.data(), 6);
    const net::IpAddress own = *net::IpAddress::parse(kOwnV4);
    std::memcpy(&f.own, own.bytes(), 4);
    return f;
}

/** Four mbufs, freed at scope exit. */
struct Four {
    std::array<rte_mbuf*, 4> m{};
    ~Four() {
        for (rte_mbuf* x : m) {
            rte_pktmbuf_free(x);
        }
    }
};

/** Frames of every kind stage 1 meets, lane frames and others. */
std::vector<Bytes> seeds() {
    const auto v4 = [] { return PacketBuilder().eth(kClientMac, kPortMac).ipv4(kClient, kVip); };
    return {
        tcp(kClient, 40000, kAck),                                   // 60 bytes
        v4().tcp(40001, 80).flags(kSyn).mss(1460).build(),           // TCP options
        v4().tcp(40002, 443).flags(0x11).payload_size(200).build(),  // FIN ACK, data
        udp(kClient, 5353),                                          // 47 bytes: short
        v4().udp(5354, 53).payload_size(30).build(),
        PacketBuilder().eth(kClientMac, kPortMac).vlan(10).ipv4(kClient, kVip).tcp(1, 80).build(),
        v4().ipv4_options({0x94, 4, 0, 0}).tcp(2, 80).build(),
        v4().fragment(0, true).udp(3, 53).payload_size(40).build(),
        tcp(kClient6, 40003, kAck, kVip6),
        tcp(kClient, 40004, kAck, kOwnV4),  // the director's own
        PacketBuilder().eth(kClientMac, kOtherMac).ipv4(kClient, kVip).tcp(5, 80).build(),
        v4().echo_request(1, 1).payload_size(30).build(),
    };
}

/** Rewrites the IPv4 header checksum of an untagged option-less frame, if it has one. */
void fix_ipv4_checksum(Bytes& f) {
    if (f.size() >= 34 && f[12] == 0x08 && f[13] == 0x00 && (f[14] & 0x0f) == 5) {
        const uint16_t c = net::ipv4_header_checksum(f.data() + 14, 20);
        f[24] = static_cast<uint8_t>(c >> 8);
        f[25] = static_cast<uint8_t>(c);
    }
}

TEST(Lane, OneFrameGivesItsFlowsWordAndHash) {
    const dp::LaneFilter f = filter();
    for (const Bytes& frame :
         {tcp(kClient, 40000, kAck), tcp(kClient, 40001, kSyn, kVip, 8080), udp(kClient, 5353)}) {
        rte_mbuf* m = to_mbuf(frame, kPort);
        ASSERT_NE(m, nullptr);
        uint64_t lane = 0;
        uint32_t hash = 0;
        ASSERT_TRUE(dp::lane_parse(m, f, lane, hash)) << test::hex(frame);
        net::ParsedPacket pp;
        ASSERT_EQ(net::parse_frame(frame.data(), static_cast<uint32_t>(frame.size()), pp),
                  net::Verdict::Ok);
        const net::FlowKey& k = pp.flow;
        uint32_t dst;
        std::memcpy(&dst, k.dst_addr.data(), 4);
        const uint8_t flags = k.proto == net::kIpProtoTcp ? pp.tcp_flags : 0;
        EXPECT_EQ(lane,
                  dp::lane_key(dst, k.dst_port, k.proto) | uint64_t{flags} << dp::kLaneFlagsShift);
        EXPECT_EQ(hash, net::flow_hash(k));
        rte_pktmbuf_free(m);
    }
}

TEST(Lane, FourAtOnceTakeWhatOneAtATimeTakes) {
    const dp::LaneFilter f = filter();
    const std::vector<Bytes> base = seeds();
    std::mt19937 rng(20261126);
    const auto pick = [&](uint32_t lo, uint32_t hi) {
        return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
    };
    constexpr uint64_t kCsumFlags[] = {RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                                       RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_NONE};
    uint64_t taken_x4 = 0;
    uint64_t taken_one = 0;
    uint64_t declined = 0;
    for (int round = 0; round < 40'000; ++round) {
        Four four;
        std::array<Bytes, 4> frames;
        for (unsigned j = 0; j < 4; ++j) {
            Bytes fr = base[pick(0, static_cast<uint32_t>(base.size() - 1))];
            // Most frames get one to three bytes of the first 50 changed; half of those then
            // get a right checksum, so that the checks behind it are reached too.
            if (pick(0, 3) != 0) {
                for (uint32_t n = pick(1, 3); n != 0; --n) {
                    const uint32_t at =
                        pick(0, static_cast<uint32_t>(std::min<size_t>(fr.size(), 50) - 1));
                    fr[at] = static_cast<uint8_t>(pick(0, 1) != 0 ? pick(0, 255)
                                                                  : fr[at] ^ (1u << pick(0, 7)));
                }
                if (pick(0, 1) != 0) {
                    fix_ipv4_checksum(fr);
                }
            }
            // Now and then a frame cut short, on the wire or in its first segment.
            uint32_t pkt_len = static_cast<uint32_t>(fr.size());
            if (pick(0, 15) == 0) {
                fr.resize(pick(0, static_cast<uint32_t>(fr.size())));
                pkt_len = static_cast<uint32_t>(fr.size()) + (pick(0, 1) != 0 ? pick(1, 64) : 0);
            }
            frames[j] = fr;
            four.m[j] = to_mbuf(fr, pick(0, 7) == 0 ? kPort + 1 : kPort);
            ASSERT_NE(four.m[j], nullptr);
            four.m[j]->pkt_len = pkt_len;
            four.m[j]->ol_flags = kCsumFlags[pick(0, 3)];
        }
        std::array<uint64_t, 4> lane4{};
        std::array<uint32_t, 4> hash4{};
        const unsigned taken = dp::lane_parse_x4(four.m.data(), f, lane4.data(), hash4.data());
        for (unsigned j = 0; j < 4; ++j) {
            uint64_t lane = 0;
            uint32_t hash = 0;
            const bool one = dp::lane_parse(four.m[j], f, lane, hash);
            const Bytes& fr = frames[j];
            const bool tagged = fr.size() >= 14 && fr[12] == 0x81 && fr[13] == 0x00;
            const bool x4_can = one && !tagged && four.m[j]->data_len >= dp::kLaneX4Bytes;
            const bool x4 = ((taken >> j) & 1) != 0;
            ASSERT_EQ(x4, x4_can) << "round " << round << " frame " << j << " lane_parse " << one
                                  << "\n"
                                  << test::hex(fr);
            if (x4) {
                ASSERT_EQ(lane4[j], lane) << test::hex(fr);
                ASSERT_EQ(hash4[j], hash) << test::hex(fr);
                ++taken_x4;
            }
            taken_one += one;
            declined += !one;
        }
    }
    // Both ways were exercised: lane frames taken four at a time, frames only lane_parse
    // takes (tagged, short), and frames the lane declines.
    EXPECT_GT(taken_x4, 20'000u);
    EXPECT_GT(taken_one, taken_x4);
    EXPECT_GT(declined, 40'000u);
}

}  // namespace
}  // namespace director::dptest
