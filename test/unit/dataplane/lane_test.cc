// SPDX-License-Identifier: BSD-3-Clause
// The fast lane's stage 1 (dataplane/lane.h): lane_parse_vec, 4 or 8 frames across vector
// lanes, must take exactly the frames lane_parse takes that are untagged, in groups without a
// frame shorter than kLaneVecBytes, with the same lane word and hash; lane_parse's word and
// hash must be those of the frame (parse_frame's flow key, net::flow_hash); and both stages,
// lane_stage_x4 and lane_stage_x8, must give every frame of a chunk lane_parse's answer.
#include "dataplane/lane.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "fixtures/flow_crc_zero.h"
#include "harness.h"
#include "lb/conn_table.h"
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

/** Mbufs, freed at scope exit. */
template <unsigned N>
struct Mbufs {
    std::array<rte_mbuf*, N> m{};
    ~Mbufs() {
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

bool cpu_has_avx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}

unsigned parse_x4(rte_mbuf* const* m, const dp::LaneFilter& f, uint64_t* lane, uint32_t* hash) {
    const dp::LaneVecFilter<4> k(f);
    return dp::lane_parse_vec<4>(m, k, lane, hash, [](auto) {});
}

// lane_parse_vec<8> runs only in code built for AVX2, as lane_stage_x8 is.
[[gnu::target("avx2")]] unsigned parse_x8(rte_mbuf* const* m, const dp::LaneFilter& f,
                                          uint64_t* lane, uint32_t* hash) {
    const dp::LaneVecFilter<8> k(f);
    return dp::lane_parse_vec<8>(m, k, lane, hash, [](auto) {});
}

/** Random frames for stage 1: the seeds, most with a few of their first 50 bytes changed. */
class FrameMutator {
public:
    explicit FrameMutator(uint32_t seed) : rng_(seed) {}

    uint32_t pick(uint32_t lo, uint32_t hi) {
        return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
    }

    /** One frame as an mbuf (port kPort, or now and then another), and its bytes. */
    rte_mbuf* next(Bytes& fr) {
        static constexpr uint64_t kCsumFlags[] = {
            RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
            RTE_MBUF_F_RX_IP_CKSUM_NONE};
        fr = base_[pick(0, static_cast<uint32_t>(base_.size() - 1))];
        // Most frames get one to three bytes of the first 50 changed; half of those then get a
        // right checksum, so that the checks behind it are reached too.
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
        if (pick(0, short_one_in_) == 0) {
            fr.resize(pick(0, static_cast<uint32_t>(fr.size())));
            pkt_len = static_cast<uint32_t>(fr.size()) + (pick(0, 1) != 0 ? pick(1, 64) : 0);
        }
        rte_mbuf* m = to_mbuf(fr, pick(0, 7) == 0 ? kPort + 1 : kPort);
        if (m != nullptr) {
            m->pkt_len = pkt_len;
            m->ol_flags = kCsumFlags[pick(0, 3)];
        }
        return m;
    }

    /** Frames cut short: about one in n + 1. */
    void short_one_in(uint32_t n) { short_one_in_ = n; }

private:
    std::mt19937 rng_;
    std::vector<Bytes> base_ = seeds();
    uint32_t short_one_in_ = 15;
};

/** lane_parse_vec<N> against lane_parse, frame by frame, on mutated frames. */
template <unsigned N>
void vec_takes_what_one_at_a_time_takes(unsigned (*parse)(rte_mbuf* const*, const dp::LaneFilter&,
                                                          uint64_t*, uint32_t*)) {
    const dp::LaneFilter f = filter();
    FrameMutator gen(20261126 + N);
    // Short frames, which send their whole group to lane_parse, in about one group in four.
    gen.short_one_in(4 * N - 1);
    uint64_t taken_vec = 0;
    uint64_t taken_one = 0;
    uint64_t declined = 0;
    uint64_t short_groups = 0;
    for (int round = 0; round < 160'000 / static_cast<int>(N); ++round) {
        Mbufs<N> group;
        std::array<Bytes, N> frames;
        bool has_short = false;
        for (unsigned j = 0; j < N; ++j) {
            group.m[j] = gen.next(frames[j]);
            ASSERT_NE(group.m[j], nullptr);
            has_short |= group.m[j]->data_len < dp::kLaneVecBytes;
        }
        short_groups += has_short;
        std::array<uint64_t, N> lanes{};
        std::array<uint32_t, N> hashes{};
        const unsigned taken = parse(group.m.data(), f, lanes.data(), hashes.data());
        for (unsigned j = 0; j < N; ++j) {
            uint64_t lane = 0;
            uint32_t hash = 0;
            const bool one = dp::lane_parse(group.m[j], f, lane, hash);
            const Bytes& fr = frames[j];
            const bool tagged = fr.size() >= 14 && fr[12] == 0x81 && fr[13] == 0x00;
            const bool vec_can = one && !tagged && !has_short;
            const bool vec = ((taken >> j) & 1) != 0;
            ASSERT_EQ(vec, vec_can) << "round " << round << " frame " << j << " lane_parse " << one
                                    << " short group " << has_short << "\n"
                                    << test::hex(fr);
            if (vec) {
                ASSERT_EQ(lanes[j], lane) << test::hex(fr);
                ASSERT_EQ(hashes[j], hash) << test::hex(fr);
                ++taken_vec;
            }
            taken_one += one;
            declined += !one;
        }
    }
    // Every way was exercised: lane frames taken N at a time, frames only lane_parse takes
    // (tagged, or in a group with a short frame), and frames the lane declines.
    EXPECT_GT(taken_vec, 10'000u);
    EXPECT_GT(taken_one, taken_vec + 5'000);
    EXPECT_GT(declined, 40'000u);
    EXPECT_GT(short_groups, 160'000u / N / 8);
}

TEST(Lane, FourAtOnceTakeWhatOneAtATimeTakes) { vec_takes_what_one_at_a_time_takes<4>(parse_x4); }

TEST(Lane, EightAtOnceTakeWhatOneAtATimeTakes) {
    if (!cpu_has_avx2()) {
        GTEST_SKIP() << "this CPU lacks AVX2";
    }
    vec_takes_what_one_at_a_time_takes<8>(parse_x8);
}

// The whole stage, as process_burst calls it: every frame of a chunk (of any length, so the
// groups' tails are covered) gets lane_parse's word and hash, or 0 for the general path, and a
// lane frame gets its hash's bucket.
TEST(Lane, StageGivesEveryFrameOfAChunkWhatLaneParseGives) {
    const dp::LaneFilter f = filter();
    lb::ConnTableConfig tc;
    tc.capacity = 1u << 16;
    auto table = lb::ConnTable::create(tc);
    ASSERT_TRUE(table);
    // A span part way through a level (linear hashing), so that some hashes' buckets are in
    // the half not split yet.
    for (uint32_t i = 1; i <= 700; ++i) {
        (void)(*table)->insert(i * 0x9e3779b9u, 1, 0, lb::ConnState::Established, 0);
    }
    const uint32_t span = (*table)->span();
    ASSERT_GT(span, 2048u);
    ASSERT_LT(span, 4096u);
    const lb::ConnTable::Prefetcher bucket_of = (*table)->prefetcher();
    std::vector<std::pair<const char*, dp::LaneStage>> stages{{"x4", dp::lane_stage_x4}};
    if (cpu_has_avx2()) {
        stages.emplace_back("x8", dp::lane_stage_x8);
    }
    FrameMutator gen(7);
    uint64_t lane_frames = 0;
    uint64_t general_frames = 0;
    uint64_t low_half_buckets = 0;
    for (int round = 0; round < 3'000; ++round) {
        // Mostly intact frames, so that whole groups are taken at once, as in traffic.
        gen.short_one_in(round % 2 == 0 ? 15 : 1'000);
        Mbufs<40> burst;  // chunk + the frames after it, prefetched, never read
        const unsigned count = gen.pick(1, 32);
        std::vector<Bytes> frames(burst.m.size());
        for (unsigned j = 0; j < burst.m.size(); ++j) {
            burst.m[j] = gen.pick(0, 3) == 0
                             ? gen.next(frames[j])
                             : to_mbuf(frames[j] = tcp(kClient, 40000 + j, kAck), kPort);
            ASSERT_NE(burst.m[j], nullptr);
        }
        for (const auto& [name, stage] : stages) {
            std::array<uint64_t, 32> lane{};
            std::array<uint32_t, 32> hash{};
            std::array<lb::ConnBucket*, 32> bucket{};
            const unsigned general =
                stage({burst.m.data(), count, static_cast<unsigned>(burst.m.size()), lane.data(),
                       hash.data(), bucket.data()},
                      f, bucket_of);
            unsigned expect_general = 0;
            for (unsigned j = 0; j < count; ++j) {
                uint64_t one_lane = 0;
                uint32_t one_hash = 0;
                if (dp::lane_parse(burst.m[j], f, one_lane, one_hash)) {
                    ASSERT_EQ(lane[j], one_lane) << name << " frame " << j << "\n"
                                                 << test::hex(frames[j]);
                    ASSERT_EQ(hash[j], one_hash) << name << " frame " << j;
                    ASSERT_EQ(bucket[j], bucket_of(one_hash)) << name << " frame " << j;
                    low_half_buckets += (one_hash & bucket_of.hi) >= span ? 1 : 0;
                    ++lane_frames;
                } else {
                    ASSERT_EQ(lane[j], 0u) << name << " frame " << j << "\n"
                                           << test::hex(frames[j]);
                    ++expect_general;
                    ++general_frames;
                }
            }
            ASSERT_EQ(general, expect_general) << name;
        }
    }
    EXPECT_GT(low_half_buckets, 1'000u) << "hashes whose bucket is not split yet";
    EXPECT_GT(lane_frames, 20'000u);
    EXPECT_GT(general_frames, 5'000u);
}

// A flow whose CRC32-C is 0 hashes to 1 (net::flow_hash_nonzero) in the vector stages as in
// lane_parse and net::flow_hash: lookup_update() relies on a flow hash never being 0.
TEST(Lane, AFlowWhoseCrcIsZeroHashesToOneOnEveryPath) {
    const dp::LaneFilter f = filter();
    uint32_t dst;
    std::memcpy(&dst, test::ip(kVip).bytes(), 4);
    const uint16_t sport = 40000;
    const uint32_t ports = uint32_t{net::port_net(sport)} | uint32_t{net::port_net(80)} << 16;
    const uint32_t src =
        test::v4_source_with_flow_crc_zero(dst, ports, net::kIpProtoTcp, net::kFlowHashSeed);
    uint8_t b[4];
    std::memcpy(b, &src, 4);
    const std::string client = std::to_string(b[0]) + "." + std::to_string(b[1]) + "." +
                               std::to_string(b[2]) + "." + std::to_string(b[3]);
    auto table = lb::ConnTable::create({.capacity = 1u << 12});
    ASSERT_TRUE(table);
    const lb::ConnTable::Prefetcher bucket_of = (*table)->prefetcher();
    std::vector<std::pair<const char*, dp::LaneStage>> stages{{"x4", dp::lane_stage_x4}};
    if (cpu_has_avx2()) {
        stages.emplace_back("x8", dp::lane_stage_x8);
    }
    Mbufs<16> burst;
    for (unsigned j = 0; j < burst.m.size(); ++j) {
        // Every third frame the zero-CRC flow, the others its neighbours (another port).
        burst.m[j] = to_mbuf(tcp(client, j % 3 == 0 ? sport : sport + j, kAck), kPort);
        ASSERT_NE(burst.m[j], nullptr);
    }
    uint64_t one_lane = 0;
    uint32_t one_hash = 0;
    ASSERT_TRUE(dp::lane_parse(burst.m[0], f, one_lane, one_hash));
    EXPECT_EQ(one_hash, 1u);
    for (const auto& [name, stage] : stages) {
        std::array<uint64_t, 16> lane{};
        std::array<uint32_t, 16> hash{};
        std::array<lb::ConnBucket*, 16> bucket{};
        ASSERT_EQ(stage({burst.m.data(), 16, 16, lane.data(), hash.data(), bucket.data()}, f,
                        bucket_of),
                  0u);
        for (unsigned j = 0; j < 16; ++j) {
            ASSERT_TRUE(dp::lane_parse(burst.m[j], f, one_lane, one_hash));
            EXPECT_EQ(hash[j], one_hash) << name << " frame " << j;
            EXPECT_EQ(hash[j] == 1, j % 3 == 0) << name << " frame " << j;
            EXPECT_EQ(bucket[j], bucket_of(one_hash)) << name << " frame " << j;
        }
    }
}

}  // namespace
}  // namespace director::dptest
