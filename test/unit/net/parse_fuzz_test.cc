// SPDX-License-Identifier: BSD-3-Clause
// Fuzz smoke test: a million random and mutated frames through the parser, deterministic (fixed
// seed). Under -Db_sanitize=address,undefined any out-of-bounds read or undefined arithmetic
// aborts the run; the assertions only check that a verdict comes back and that the offsets of
// accepted frames lie inside the frame. Coverage-guided fuzzing lives in test/fuzz/.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fixtures/packet_builder.h"
#include "net/parse.h"

namespace director::net {
namespace {

using test::Bytes;
using test::PacketBuilder;

constexpr std::size_t kArena = 4096;

std::vector<Bytes> corpus() {
    const char* a = "02:00:00:00:00:01";
    const char* b = "02:00:00:00:00:fe";
    auto v4 = [&] { return PacketBuilder().eth(a, b).ipv4("10.99.0.10", "10.99.0.252"); };
    auto v6 = [&] { return PacketBuilder().eth(a, b).ipv6("2001:db8::10", "2001:db8::252"); };
    const Bytes reply4 = PacketBuilder().ipv4("10.99.0.252", "10.99.0.10").tcp(80, 4000).build();
    const Bytes reply6 = PacketBuilder()
                             .ipv6("2001:db8::252", "2001:db8::10")
                             .destination_options()
                             .tcp(80, 4000)
                             .payload_size(40)
                             .build();
    return {
        v4().tcp(40000, 80).flags(test::kTcpSyn).mss(1460).build(),
        v4().vlan(10).udp(1, 53).payload("query").build(),
        v4().ipv4_options({0x94, 4, 0, 0, 1, 1, 1, 0}).tcp(1, 2).payload_size(30).build(),
        v4().fragment(0, true).udp(1, 53).payload_size(40).build(),
        v4().fragment(1480, false).ip_proto(17).payload_size(40).build(),
        v4().echo_request(1, 2).payload_size(16).build(),
        v4().frag_needed(1400).quoting(reply4).build(),
        v4().time_exceeded()
            .quoting(PacketBuilder().ipv4("10.99.0.252", "1.2.3.4").udp(53, 9).build())
            .build(),
        v6().tcp(40000, 80).flags(test::kTcpSyn).build(),
        v6().hop_by_hop()
            .routing(4, 1, {"2001:db8::1"})
            .destination_options(1)
            .fragment(0, true)
            .authentication_header()
            .udp(1, 53)
            .payload_size(10)
            .build(),
        v6().fragment(1448, true).payload_size(32).build(),
        v6().packet_too_big(1280).quoting(reply6).build(),
        v6().dest_unreachable(1)
            .quoting(PacketBuilder().ipv6("2001:db8::252", "::1").fragment(8, false).build())
            .build(),
        v6().icmp(135, 0).payload_size(20).build(),
        PacketBuilder()
            .eth(a, "ff:ff:ff:ff:ff:ff")
            .arp_request(a, "10.99.0.10", "10.99.0.252")
            .build(),
        PacketBuilder()
            .eth(a, b)
            .vlan(3)
            .arp_reply(a, "10.99.0.10", b, "10.99.0.252")
            .pad_to(60)
            .build(),
        PacketBuilder().eth(a, b).ethertype(0x88cc).payload_size(30).build(),
    };
}

class Fuzzer {
public:
    Fuzzer() : arena_(new uint8_t[kArena]), rng_(0x5eed'd1ec'7012ull) {}

    // Runs one frame placed at the very end of the arena, so a read past `len` leaves the heap
    // block and ASan reports it. Returns an error description, or "" when every check holds.
    std::string run(const Bytes& frame, uint32_t pkt_len, bool verify) {
        const uint32_t len = static_cast<uint32_t>(frame.size());
        uint8_t* data = arena_.get() + kArena - len;
        if (len != 0) {
            std::memcpy(data, frame.data(), len);
        }
        ParsedPacket pp;
        const Verdict v =
            parse_frame(data, len, pp, {.pkt_len = pkt_len, .verify_ipv4_checksum = verify});
        const auto i = static_cast<std::size_t>(v);
        if (i >= kVerdictCount) {
            return "verdict out of range";
        }
        ++seen_[i];
        if (pp.verdict != v) {
            return "out.verdict differs from the return value";
        }
        const uint32_t frame_len = pkt_len != 0 ? pkt_len : len;
        const uint32_t seg = len < frame_len ? len : frame_len;
        if (v == Verdict::Ok || v == Verdict::IcmpError || v == Verdict::Fragment) {
            if (pp.l3_offset != pp.l2_len || pp.l2_len + 20u > seg) {
                return "L3 offset outside the segment";
            }
            if (uint64_t{pp.l3_offset} + pp.l3_len > frame_len) {
                return "IP packet extends past the frame";
            }
            if (pp.l4_offset < pp.l3_offset + 20u || pp.l4_offset > pp.l3_offset + pp.l3_len) {
                return "L4 offset outside the IP packet";
            }
        }
        if (v == Verdict::Ok && pp.flow.proto == kIpProtoTcp && pp.l4_offset + 20u > seg) {
            return "TCP header outside the segment";
        }
        if (v == Verdict::Ok && pp.flow.proto == kIpProtoUdp && pp.l4_offset + 8u > seg) {
            return "UDP header outside the segment";
        }
        if (v == Verdict::IcmpError &&
            (pp.inner_l3_offset != pp.l4_offset + 8u || pp.inner_l3_offset + 20u > seg ||
             pp.inner_l3_offset + 20u > pp.l3_offset + pp.l3_len)) {
            return "quoted header outside the ICMP message";
        }
        if (v == Verdict::Arp && pp.l3_offset + 28u > seg) {
            return "ARP outside the segment";
        }
        return check_fast_path(data, len, pkt_len, verify, pp);
    }

    // parse_frame_fast on the same bytes must either decline or agree with parse_frame on
    // every field but `inner` (which it does not write); and it must not decline the frames
    // it exists for (single-segment IPv4 without options, not fragmented, TCP or UDP).
    std::string check_fast_path(const uint8_t* data, uint32_t len, uint32_t pkt_len, bool verify,
                                const ParsedPacket& full) {
        ParsedPacket fast;
        std::memset(static_cast<void*>(&fast), 0xa5, sizeof fast);  // anything the fast path leaves stays poisoned
        uint32_t hash = 0;
        const bool taken = parse_frame_fast(data, len, pkt_len, verify, fast, hash);
        const bool should = full.verdict == Verdict::Ok && (pkt_len == 0 || pkt_len == len) &&
                            full.flow.family == Family::V4 &&
                            full.l4_offset == full.l3_offset + 20u && !full.is_fragment &&
                            (full.flow.proto == kIpProtoTcp || full.flow.proto == kIpProtoUdp);
        if (!taken) {
            return should ? "fast path declined a frame it should take" : "";
        }
        ++fast_taken_;
        if (!should) {
            return "fast path accepted a frame parse_frame classifies otherwise";
        }
        if (!(fast.flow == full.flow) || fast.l3_len != full.l3_len ||
            fast.ethertype != full.ethertype || fast.vlan_tci != full.vlan_tci ||
            fast.l3_offset != full.l3_offset || fast.l4_offset != full.l4_offset ||
            fast.inner_l3_offset != full.inner_l3_offset || fast.l2_len != full.l2_len ||
            fast.tcp_flags != full.tcp_flags || fast.icmp_type != full.icmp_type ||
            fast.icmp_code != full.icmp_code || fast.has_vlan != full.has_vlan ||
            fast.is_fragment != full.is_fragment ||
            fast.is_first_fragment != full.is_first_fragment ||
            fast.inner_is_fragment != full.inner_is_fragment || fast.verdict != full.verdict) {
            return "fast path and parse_frame disagree";
        }
        if (hash != flow_hash(full.flow)) {
            return "fast path hash differs from flow_hash of the key";
        }
        return "";
    }
    uint64_t fast_taken() const { return fast_taken_; }

    Bytes random_frame() {
        Bytes f(pick(0, 256));
        for (uint8_t& byte : f) {
            byte = static_cast<uint8_t>(rng_());
        }
        // Bias half of them towards a plausible Ethernet type and IP version, to get deeper.
        if (f.size() >= 15 && coin()) {
            static constexpr std::array<uint16_t, 5> kTypes = {0x0800, 0x86dd, 0x0806, 0x8100,
                                                               0x88a8};
            const uint16_t t = kTypes[pick(0, kTypes.size() - 1)];
            f[12] = static_cast<uint8_t>(t >> 8);
            f[13] = static_cast<uint8_t>(t);
            f[14] = t == 0x86dd ? 0x60 : 0x45;
        }
        return f;
    }

    Bytes mutate(const Bytes& original) {
        Bytes f = original;
        ParsedPacket pp;
        parse_frame(original.data(), static_cast<uint32_t>(original.size()), pp);
        const std::size_t rounds = pick(1, 3);
        for (std::size_t r = 0; r < rounds && !f.empty(); ++r) {
            switch (pick(0, 5)) {
                case 0: {  // bit flips
                    for (std::size_t k = pick(1, 4); k > 0; --k) {
                        f[pick(0, f.size() - 1)] ^= static_cast<uint8_t>(1u << pick(0, 7));
                    }
                    break;
                }
                case 1:  // truncation
                    f.resize(pick(0, f.size()));
                    break;
                case 2:  // growth (trailing garbage or padding)
                    f.resize(f.size() + pick(1, 64), static_cast<uint8_t>(rng_()));
                    break;
                case 3: {  // a length or next-header field set to a random or nearby value
                    const std::array<std::size_t, 9> at = {
                        pp.l3_offset + 0u, pp.l3_offset + 2u,  pp.l3_offset + 4u,
                        pp.l3_offset + 6u, pp.l3_offset + 9u,  pp.l3_offset + 41u,
                        pp.l4_offset + 4u, pp.l4_offset + 12u, pp.inner_l3_offset + 0u};
                    const std::size_t pos = at[pick(0, at.size() - 1)];
                    if (pos + 1 < f.size()) {
                        if (coin()) {
                            f[pos] = static_cast<uint8_t>(rng_());
                            f[pos + 1] = static_cast<uint8_t>(rng_());
                        } else {
                            f[pos + 1] = static_cast<uint8_t>(f[pos + 1] + pick(0, 8) - 4);
                        }
                    }
                    break;
                }
                case 4: {  // a random byte in the header area
                    f[pick(0, std::min<std::size_t>(f.size(), 160) - 1)] =
                        static_cast<uint8_t>(rng_());
                    break;
                }
                default: {  // an extension-header type dropped into a next-header field
                    static constexpr std::array<uint8_t, 8> kNext = {0, 43, 44, 51, 60, 6, 17, 58};
                    const std::size_t pos = pp.l3_offset + (pp.flow.family == Family::V6 ? 6u : 9u);
                    if (pp.l3_offset != 0 && pos < f.size()) {
                        f[pos] = kNext[pick(0, kNext.size() - 1)];
                    }
                    break;
                }
            }
        }
        return f;
    }

    std::size_t pick(std::size_t lo, std::size_t hi) {
        return lo + static_cast<std::size_t>(rng_() % (hi - lo + 1));
    }
    bool coin() { return (rng_() & 1) != 0; }

    const std::array<uint64_t, kVerdictCount>& seen() const { return seen_; }

private:
    std::unique_ptr<uint8_t[]> arena_;
    std::mt19937_64 rng_;
    std::array<uint64_t, kVerdictCount> seen_{};
    uint64_t fast_taken_ = 0;
};

constexpr int kRandomFrames = 250'000;
constexpr int kMutatedFrames = 750'000;

TEST(ParserFuzzSmoke, RandomFramesGetAVerdict) {
    Fuzzer fz;
    for (int i = 0; i < kRandomFrames; ++i) {
        const Bytes f = fz.random_frame();
        const std::string err = fz.run(f, 0, fz.coin());
        ASSERT_EQ(err, "") << "iteration " << i << "\n" << test::hex(f);
    }
}

TEST(ParserFuzzSmoke, MutatedValidFramesGetAVerdict) {
    Fuzzer fz;
    const std::vector<Bytes> seeds = corpus();
    for (const Bytes& s : seeds) {
        ASSERT_EQ(fz.run(s, 0, true), "");
    }
    for (int i = 0; i < kMutatedFrames; ++i) {
        const Bytes f = fz.mutate(seeds[fz.pick(0, seeds.size() - 1)]);
        // One in eight is the first segment of a longer packet.
        const bool segmented = !f.empty() && fz.pick(0, 7) == 0;
        const uint32_t pkt_len = segmented ? static_cast<uint32_t>(f.size() + fz.pick(1, 1500)) : 0;
        const std::string err = fz.run(f, pkt_len, fz.coin());
        ASSERT_EQ(err, "") << "iteration " << i << "\n" << test::hex(f);
    }
    // The mutations must reach every class and most drop reasons, or the test proves little.
    std::size_t drop_reasons_seen = 0;
    for (std::size_t i = 0; i < kVerdictCount; ++i) {
        const auto v = static_cast<Verdict>(i);
        if (!is_drop(v)) {
            EXPECT_GT(fz.seen()[i], 0u) << to_string(v);
        } else if (fz.seen()[i] > 0) {
            ++drop_reasons_seen;
        }
    }
    EXPECT_GE(drop_reasons_seen, kDropReasonCount - 4);
    // The fast path saw (and agreed on) a good share of the mutated frames.
    EXPECT_GT(fz.fast_taken(), static_cast<uint64_t>(kMutatedFrames) / 50);  // ~22k
}

}  // namespace
}  // namespace director::net
