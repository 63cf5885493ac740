// SPDX-License-Identifier: BSD-3-Clause
// The userspace TCP_CHECK (syn_prober.h) on a fake clock with a fake network: the SYN's bytes
// (checksums recomputed here, independently of lib/net), the verdicts of SYN-ACK / RST /
// silence, the answering RST, the kernel-like retransmission timeline, what is and is not
// consumed, source-port exhaustion and reuse order, IPv6; then the engine driving it
// (EngineOptions::raw_tcp) with its kernel-socket fallback.
#include "health/syn_prober.h"

#include <gtest/gtest.h>

#include <vector>

#include "health/engine.h"

namespace director::health {
namespace {

using namespace std::chrono_literals;

constexpr TimePoint kT0 = TimePoint{} + 1000s;
const net::MacAddress kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const net::MacAddress kRsMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }

uint16_t rd16(const std::vector<uint8_t>& f, std::size_t o) {
    return static_cast<uint16_t>((f[o] << 8) | f[o + 1]);
}
uint32_t rd32(const std::vector<uint8_t>& f, std::size_t o) {
    return (uint32_t{f[o]} << 24) | (uint32_t{f[o + 1]} << 16) | (uint32_t{f[o + 2]} << 8) |
           f[o + 3];
}
void wr16(std::vector<uint8_t>& f, std::size_t o, uint16_t v) {
    f[o] = static_cast<uint8_t>(v >> 8);
    f[o + 1] = static_cast<uint8_t>(v);
}
void wr32(std::vector<uint8_t>& f, std::size_t o, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        f[o + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    }
}

/** RFC 1071 the slow, obvious way: 16-bit big-endian words, end-around carry. */
uint32_t sum16(const std::vector<uint8_t>& f, std::size_t o, std::size_t n, uint32_t s = 0) {
    for (std::size_t i = 0; i < n; i += 2) {
        s += (uint32_t{f[o + i]} << 8) | (i + 1 < n ? f[o + i + 1] : 0u);
    }
    return s;
}
uint16_t fold(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return static_cast<uint16_t>(~s);
}

/** Offsets of a frame built here or by the prober (no VLAN tag). */
struct Layout {
    bool v6;
    std::size_t ip = 14;
    std::size_t tcp() const { return v6 ? 54 : 34; }
};

/** The TCP checksum of a frame (pseudo-header from its IP header), computed from scratch. */
uint16_t tcp_sum(const std::vector<uint8_t>& f, bool v6) {
    const Layout l{v6};
    uint32_t s = 0;
    std::size_t len;
    if (v6) {
        len = rd16(f, 18);
        s = sum16(f, 22, 32);  // source + destination
        s += static_cast<uint32_t>(len) + 6;
    } else {
        len = rd16(f, 16) - std::size_t{(f[14] & 0x0fu) * 4u};
        s = sum16(f, 26, 8);
        s += static_cast<uint32_t>(len) + 6;
    }
    return fold(sum16(f, l.tcp(), len, s));  // 0 when the stored checksum is right
}

/** A reply from the real server: src/dst swapped relative to a probe's SYN. */
std::vector<uint8_t> reply(const std::vector<uint8_t>& syn, uint8_t flags, uint32_t seq,
                           uint32_t ack) {
    const bool v6 = rd16(syn, 12) == 0x86dd;
    const Layout l{v6};
    const std::size_t tcp = l.tcp();
    std::vector<uint8_t> f(tcp + 20, 0);
    std::copy(syn.begin() + 6, syn.begin() + 12, f.begin());
    std::copy(syn.begin(), syn.begin() + 6, f.begin() + 6);
    wr16(f, 12, v6 ? 0x86dd : 0x0800);
    if (v6) {
        f[14] = 0x60;
        wr16(f, 18, 20);
        f[20] = 6;
        f[21] = 64;
        std::copy(syn.begin() + 38, syn.begin() + 54, f.begin() + 22);  // src = SYN's dst
        std::copy(syn.begin() + 22, syn.begin() + 38, f.begin() + 38);
    } else {
        f[14] = 0x45;
        wr16(f, 16, 40);
        f[22] = 64;
        f[23] = 6;
        std::copy(syn.begin() + 30, syn.begin() + 34, f.begin() + 26);
        std::copy(syn.begin() + 26, syn.begin() + 30, f.begin() + 30);
        wr16(f, 24, fold(sum16(f, 14, 20)));
    }
    wr16(f, tcp, rd16(syn, tcp + 2));
    wr16(f, tcp + 2, rd16(syn, tcp));
    wr32(f, tcp + 4, seq);
    wr32(f, tcp + 8, ack);
    f[tcp + 12] = 0x50;
    f[tcp + 13] = flags;
    wr16(f, tcp + 14, 29200);
    wr16(f, tcp + 16, tcp_sum(f, v6));
    return f;
}

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

struct FakeSink final : FrameSink {
    bool send(uint16_t port_id, std::span<const uint8_t> frame) override {
        ports.push_back(port_id);
        frames.emplace_back(frame.begin(), frame.end());
        return !refuse;
    }
    std::vector<std::vector<uint8_t>> frames;
    std::vector<uint16_t> ports;
    bool refuse = false;
};

SynProberConfig base_config(uint16_t first = kSynFirstPort, uint16_t last = kSynLastPort) {
    SynProberConfig c;
    c.endpoints.push_back(
        SynEndpoint{.port_id = 3, .mac = kOurMac, .v4 = ip("10.0.0.1"), .v6 = ip("2001:db8::1")});
    c.first_port = first;
    c.last_port = last;
    c.seed = 42;
    return c;
}

struct Rig {
    explicit Rig(SynProberConfig c = base_config()) : prober(std::move(c)) {}
    SynStart start(uint64_t token, const char* dst, Duration timeout = 5s, TimePoint at = kT0) {
        return prober.start(token, 3, ip(dst), 8080, kRsMac, timeout, at, sink);
    }
    bool feed(const std::vector<uint8_t>& f, TimePoint at = kT0) {
        return prober.on_frame(f, at, sink, out);
    }
    SynProber prober;
    FakeSink sink;
    std::vector<SynOutcome> out;
};

TEST(SynProber, SynFrameIpv4HasTheRightBytesAndChecksums) {
    Rig r;
    ASSERT_EQ(r.start(7, "10.0.0.20"), SynStart::Started);
    ASSERT_EQ(r.sink.frames.size(), 1u);
    EXPECT_EQ(r.sink.ports[0], 3);
    const auto& f = r.sink.frames[0];
    ASSERT_EQ(f.size(), 60u);  // 58 bytes padded to the Ethernet minimum
    EXPECT_TRUE(std::equal(kRsMac.bytes.begin(), kRsMac.bytes.end(), f.begin()));
    EXPECT_TRUE(std::equal(kOurMac.bytes.begin(), kOurMac.bytes.end(), f.begin() + 6));
    EXPECT_EQ(rd16(f, 12), 0x0800);
    EXPECT_EQ(f[14], 0x45);
    EXPECT_EQ(rd16(f, 16), 44);      // total length: 20 + 24
    EXPECT_EQ(rd16(f, 20), 0x4000);  // DF
    EXPECT_EQ(f[22], 64);
    EXPECT_EQ(f[23], 6);
    EXPECT_EQ(fold(sum16(f, 14, 20)), 0) << "IPv4 header checksum";
    EXPECT_EQ(rd32(f, 26), 0x0a000001u);
    EXPECT_EQ(rd32(f, 30), 0x0a000014u);
    EXPECT_EQ(rd16(f, 34), kSynFirstPort);
    EXPECT_EQ(rd16(f, 36), 8080);
    EXPECT_EQ(rd32(f, 42), 0u);  // ack
    EXPECT_EQ(f[46], 0x60);      // data offset 6 words
    EXPECT_EQ(f[47], kSyn);
    EXPECT_EQ(rd16(f, 48), 64240);
    EXPECT_EQ(f[54], 2);  // MSS option
    EXPECT_EQ(f[55], 4);
    EXPECT_EQ(rd16(f, 56), 1460);
    EXPECT_EQ(tcp_sum(f, false), 0) << "TCP checksum";
    EXPECT_EQ(r.prober.stats().in_flight, 1u);
}

TEST(SynProber, SynFrameIpv6HasTheRightBytesAndChecksums) {
    Rig r;
    ASSERT_EQ(r.start(7, "2001:db8::20"), SynStart::Started);
    const auto& f = r.sink.frames.at(0);
    ASSERT_EQ(f.size(), 78u);
    EXPECT_EQ(rd16(f, 12), 0x86dd);
    EXPECT_EQ(f[14], 0x60);
    EXPECT_EQ(rd16(f, 18), 24);  // payload length
    EXPECT_EQ(f[20], 6);
    EXPECT_EQ(f[21], 64);
    EXPECT_EQ(f[22], 0x20);
    EXPECT_EQ(f[37], 0x01);  // source ...::1
    EXPECT_EQ(f[53], 0x20);  // destination ...::20
    EXPECT_EQ(f[67], kSyn);
    EXPECT_EQ(rd16(f, 76), 1440);
    EXPECT_EQ(tcp_sum(f, true), 0) << "TCP checksum";
}

TEST(SynProber, SynAckMeansOpenAndIsAnsweredWithARst) {
    for (const char* dst : {"10.0.0.20", "2001:db8::20"}) {
        SCOPED_TRACE(dst);
        Rig r;
        ASSERT_EQ(r.start(77, dst), SynStart::Started);
        const auto syn = r.sink.frames.at(0);
        const bool v6 = rd16(syn, 12) == 0x86dd;
        const std::size_t tcp = Layout{v6}.tcp();
        const uint32_t isn = rd32(syn, tcp + 4);
        EXPECT_TRUE(r.feed(reply(syn, kSyn | kAck, 5000, isn + 1)));
        ASSERT_EQ(r.out.size(), 1u);
        EXPECT_EQ(r.out[0].token, 77u);
        EXPECT_EQ(r.out[0].verdict, SynVerdict::Open);
        ASSERT_EQ(r.sink.frames.size(), 2u);
        const auto& rst = r.sink.frames[1];
        EXPECT_EQ(rd16(rst, tcp), rd16(syn, tcp));
        EXPECT_EQ(rd16(rst, tcp + 2), 8080);
        EXPECT_EQ(rd32(rst, tcp + 4), isn + 1);
        EXPECT_EQ(rd32(rst, tcp + 8), 5001u);
        EXPECT_EQ(rst[tcp + 12], 0x50);
        EXPECT_EQ(rst[tcp + 13], kRst | kAck);
        EXPECT_EQ(tcp_sum(rst, v6), 0);
        if (!v6) {
            EXPECT_EQ(fold(sum16(rst, 14, 20)), 0);
        }
        EXPECT_EQ(r.prober.stats().in_flight, 0u);
        EXPECT_FALSE(r.prober.next_deadline());
        // A duplicate SYN-ACK is no longer ours: the kernel (TAP) answers it.
        EXPECT_FALSE(r.feed(reply(syn, kSyn | kAck, 5000, isn + 1)));
        EXPECT_EQ(r.out.size(), 1u);
    }
}

TEST(SynProber, RstMeansRefused) {
    Rig r;
    ASSERT_EQ(r.start(5, "10.0.0.20"), SynStart::Started);
    const auto syn = r.sink.frames.at(0);
    EXPECT_TRUE(r.feed(reply(syn, kRst | kAck, 0, rd32(syn, 38) + 1)));
    ASSERT_EQ(r.out.size(), 1u);
    EXPECT_EQ(r.out[0].verdict, SynVerdict::Refused);
    EXPECT_EQ(r.sink.frames.size(), 1u);  // nothing answers a RST
    EXPECT_EQ(r.prober.stats().refused, 1u);
}

TEST(SynProber, RetransmitsAfterOneThenDoublingAndTimesOutAtConnectTimeout) {
    Rig r;
    ASSERT_EQ(r.start(1, "10.0.0.20", 10s), SynStart::Started);
    const uint32_t isn = rd32(r.sink.frames[0], 38);
    EXPECT_EQ(r.prober.next_deadline(), kT0 + 1s);
    r.prober.poll(kT0 + 999ms, r.sink, r.out);
    EXPECT_EQ(r.sink.frames.size(), 1u);
    r.prober.poll(kT0 + 1s, r.sink, r.out);
    ASSERT_EQ(r.sink.frames.size(), 2u);
    EXPECT_EQ(rd32(r.sink.frames[1], 38), isn);  // same ISN, same 4-tuple
    EXPECT_EQ(rd16(r.sink.frames[1], 34), rd16(r.sink.frames[0], 34));
    EXPECT_EQ(r.prober.next_deadline(), kT0 + 3s);
    r.prober.poll(kT0 + 3s, r.sink, r.out);
    EXPECT_EQ(r.prober.next_deadline(), kT0 + 7s);
    r.prober.poll(kT0 + 7s, r.sink, r.out);
    EXPECT_EQ(r.sink.frames.size(), 4u);
    EXPECT_EQ(r.prober.next_deadline(), kT0 + 10s);  // the 15 s retransmission is past it
    EXPECT_TRUE(r.out.empty());
    r.prober.poll(kT0 + 10s, r.sink, r.out);
    EXPECT_EQ(r.sink.frames.size(), 4u);
    ASSERT_EQ(r.out.size(), 1u);
    EXPECT_EQ(r.out[0].verdict, SynVerdict::Timeout);
    EXPECT_EQ(r.prober.stats().retransmits, 3u);
    EXPECT_FALSE(r.prober.next_deadline());
}

TEST(SynProber, ShortTimeoutNeverRetransmits) {
    Rig r;
    ASSERT_EQ(r.start(1, "10.0.0.20", 500ms), SynStart::Started);
    EXPECT_EQ(r.prober.next_deadline(), kT0 + 500ms);
    r.prober.poll(kT0 + 500ms, r.sink, r.out);
    EXPECT_EQ(r.sink.frames.size(), 1u);
    ASSERT_EQ(r.out.size(), 1u);
    EXPECT_EQ(r.out[0].verdict, SynVerdict::Timeout);
}

TEST(SynProber, ReplyToARetransmittedSynStillCounts) {
    Rig r;
    ASSERT_EQ(r.start(9, "10.0.0.20", 3s), SynStart::Started);
    r.prober.poll(kT0 + 1s, r.sink, r.out);
    const auto syn = r.sink.frames.at(1);
    EXPECT_TRUE(r.feed(reply(syn, kSyn | kAck, 1, rd32(syn, 38) + 1), kT0 + 1100ms));
    ASSERT_EQ(r.out.size(), 1u);
    EXPECT_EQ(r.out[0].verdict, SynVerdict::Open);
    r.prober.poll(kT0 + 10s, r.sink, r.out);  // its timers are dead
    EXPECT_EQ(r.out.size(), 1u);
}

TEST(SynProber, StrayAndMalformedRepliesAreNotConsumed) {
    Rig r;
    ASSERT_EQ(r.start(3, "10.0.0.20"), SynStart::Started);
    const auto syn = r.sink.frames.at(0);
    const uint32_t isn = rd32(syn, 38);
    const auto good = reply(syn, kSyn | kAck, 100, isn + 1);

    EXPECT_FALSE(r.feed(reply(syn, kSyn | kAck, 100, isn + 2))) << "wrong ack";
    EXPECT_FALSE(r.feed(reply(syn, kSyn, 100, isn + 1))) << "no ACK flag";
    EXPECT_FALSE(r.feed(reply(syn, kRst, 0, isn + 1))) << "RST without ACK";
    EXPECT_FALSE(r.feed(reply(syn, kAck, 100, isn + 1))) << "neither SYN nor RST";
    auto f = good;
    f[35] ^= 1;  // source port 8081
    wr16(f, 50, 0);
    wr16(f, 50, tcp_sum(f, false));
    EXPECT_FALSE(r.feed(f)) << "other source port";
    f = good;
    f[29] = 21;  // from 10.0.0.21
    wr16(f, 24, 0);
    wr16(f, 24, fold(sum16(f, 14, 20)));
    wr16(f, 50, 0);
    wr16(f, 50, tcp_sum(f, false));
    EXPECT_FALSE(r.feed(f)) << "other source address";
    f = good;
    f[33] = 2;  // to 10.0.0.2
    wr16(f, 24, 0);
    wr16(f, 24, fold(sum16(f, 14, 20)));
    wr16(f, 50, 0);
    wr16(f, 50, tcp_sum(f, false));
    EXPECT_FALSE(r.feed(f)) << "not our address";
    f = good;
    wr16(f, 36, 40000);  // a kernel socket's port
    wr16(f, 50, 0);
    wr16(f, 50, tcp_sum(f, false));
    EXPECT_FALSE(r.feed(f)) << "port outside the range";
    f = good;
    f[51] ^= 0xff;
    EXPECT_FALSE(r.feed(f)) << "bad TCP checksum";
    f = good;
    f[25] ^= 0xff;
    EXPECT_FALSE(r.feed(f)) << "bad IP checksum";
    f = good;
    f.resize(40);
    EXPECT_FALSE(r.feed(f)) << "truncated";
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(r.sink.frames.size(), 1u);
    EXPECT_TRUE(r.feed(good));
    ASSERT_EQ(r.out.size(), 1u);
    EXPECT_EQ(r.prober.stats().consumed, 1u);
}

TEST(SynProber, VlanTaggedReplyIsRecognised) {
    Rig r;
    ASSERT_EQ(r.start(3, "10.0.0.20"), SynStart::Started);
    const auto syn = r.sink.frames.at(0);
    auto f = reply(syn, kSyn | kAck, 100, rd32(syn, 38) + 1);
    const uint8_t tag[4] = {0x81, 0x00, 0x00, 0x0a};
    f.insert(f.begin() + 12, tag, tag + 4);
    EXPECT_TRUE(r.feed(f));
    EXPECT_EQ(r.out.size(), 1u);
}

TEST(SynProber, SourcePortsRunOutAndAreReusedOldestFirst) {
    Rig r(base_config(61000, 61002));
    ASSERT_EQ(r.start(1, "10.0.0.20"), SynStart::Started);
    ASSERT_EQ(r.start(2, "10.0.0.21"), SynStart::Started);
    ASSERT_EQ(r.start(3, "10.0.0.22"), SynStart::Started);
    EXPECT_EQ(r.start(4, "10.0.0.23"), SynStart::NoFreePort);
    EXPECT_EQ(r.sink.frames.size(), 3u);
    EXPECT_EQ(r.prober.stats().no_free_port, 1u);
    // Free 61001, then 61000: the next probes get them in that order.
    for (int i : {1, 0}) {
        const auto& syn = r.sink.frames[static_cast<std::size_t>(i)];
        EXPECT_TRUE(r.feed(reply(syn, kRst | kAck, 0, rd32(syn, 38) + 1)));
    }
    ASSERT_EQ(r.start(5, "10.0.0.24"), SynStart::Started);
    ASSERT_EQ(r.start(6, "10.0.0.25"), SynStart::Started);
    EXPECT_EQ(rd16(r.sink.frames[3], 34), 61001);
    EXPECT_EQ(rd16(r.sink.frames[4], 34), 61000);
}

TEST(SynProber, PortsAreUsedRoundRobin) {
    Rig r(base_config(61000, 61002));
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(r.start(1, "10.0.0.20"), SynStart::Started);
        const auto& syn = r.sink.frames.back();
        EXPECT_EQ(rd16(syn, 34), 61000 + i % 3);
        EXPECT_TRUE(r.feed(reply(syn, kRst | kAck, 0, rd32(syn, 38) + 1)));
    }
}

TEST(SynProber, NoEndpointForTheFamilyOrPort) {
    SynProberConfig c = base_config();
    c.endpoints[0].v6.reset();
    Rig r(c);
    EXPECT_FALSE(r.prober.can_probe(3, ip("2001:db8::20")));
    EXPECT_TRUE(r.prober.can_probe(3, ip("10.0.0.20")));
    EXPECT_EQ(r.start(1, "2001:db8::20"), SynStart::NoEndpoint);
    EXPECT_EQ(r.prober.start(1, 4, ip("10.0.0.20"), 80, kRsMac, 1s, kT0, r.sink),
              SynStart::NoEndpoint);
    EXPECT_TRUE(r.sink.frames.empty());
}

TEST(SynProber, CancelForgetsTheProbe) {
    Rig r;
    SynProber::Handle h = 0;
    ASSERT_EQ(r.prober.start(11, 3, ip("10.0.0.20"), 8080, kRsMac, 5s, kT0, r.sink, &h),
              SynStart::Started);
    EXPECT_EQ(h, kSynFirstPort);
    r.prober.cancel(h, 12);  // wrong token: no-op
    EXPECT_EQ(r.prober.stats().in_flight, 1u);
    r.prober.cancel(h, 11);
    EXPECT_EQ(r.prober.stats().in_flight, 0u);
    EXPECT_FALSE(r.prober.next_deadline());
    const auto& syn = r.sink.frames[0];
    EXPECT_FALSE(r.feed(reply(syn, kSyn | kAck, 1, rd32(syn, 38) + 1)));
    r.prober.poll(kT0 + 10s, r.sink, r.out);
    EXPECT_TRUE(r.out.empty());
}

TEST(SynProber, RefusedTransmitIsCountedAndRetransmitted) {
    Rig r;
    r.sink.refuse = true;
    ASSERT_EQ(r.start(1, "10.0.0.20", 2s), SynStart::Started);
    EXPECT_EQ(r.prober.stats().tx_failed, 1u);
    r.sink.refuse = false;
    r.prober.poll(kT0 + 1s, r.sink, r.out);
    EXPECT_EQ(r.sink.frames.size(), 2u);
}

TEST(SynProber, ManyProbesKeepTheTimerHeapBounded) {
    // Probes answered at once leave stale timers; the heap compacts instead of growing.
    Rig r(base_config(61000, 61009));
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(r.start(static_cast<uint64_t>(i), "10.0.0.20", 5s, kT0 + Duration(i)),
                  SynStart::Started);
        const auto& syn = r.sink.frames.back();
        ASSERT_TRUE(r.feed(reply(syn, kSyn | kAck, 1, rd32(syn, 38) + 1)));
    }
    EXPECT_EQ(r.out.size(), 1000u);
    r.prober.poll(kT0 + 60s, r.sink, r.out);
    EXPECT_EQ(r.out.size(), 1000u);
    EXPECT_EQ(r.prober.stats().open, 1000u);
}

// ---- the engine driving it -------------------------------------------------------------------

config::Config one_real(std::optional<net::IpAddress> bindto = std::nullopt) {
    config::Config cfg;
    config::VirtualServer vs;
    vs.address = ip("10.0.0.100");
    vs.port = 80;
    vs.delay_loop = 10s;
    config::RealServer rs;
    rs.address = ip("10.0.0.20");
    rs.port = 8080;
    config::Check c;
    c.connect_timeout = 3s;
    c.bindto = bindto;
    rs.checks.push_back(c);
    vs.real_servers.push_back(rs);
    cfg.virtual_servers.push_back(std::move(vs));
    return cfg;
}

/** Counts kernel-path probes instead of opening sockets. */
class CountingProbe final : public Probe {
public:
    explicit CountingProbe(int& n) { ++n; }
    std::optional<ProbeResult> start(TimePoint) override { return ProbeResult::success(); }
    std::optional<ProbeResult> on_ready(uint32_t, TimePoint) override { return std::nullopt; }
    ProbeResult on_deadline(TimePoint) override { return ProbeResult::success(); }
    TimePoint deadline() const override { return {}; }
};

struct EngineRig {
    explicit EngineRig(config::Config cfg, bool know_mac = true)
        : prober(base_config()), know(know_mac) {
        EngineOptions o;
        o.probe_factory = [this](const CheckSpec&, const ProbeContext&) {
            return std::make_unique<CountingProbe>(kernel_probes);
        };
        o.raw_tcp.prober = &prober;
        o.raw_tcp.sink = &sink;
        o.raw_tcp.next_hop = [this](const net::IpAddress&) -> std::optional<RawNextHop> {
            if (!know) {
                return std::nullopt;
            }
            return RawNextHop{.port_id = 3, .mac = kRsMac};
        };
        auto created = Engine::create(cfg, kT0, std::move(o));
        EXPECT_TRUE(created);
        engine = std::move(created.value());
    }
    /** Polls at each deadline until a SYN went out (the first probe is spread over 10 s). */
    void until_probe() {
        const std::size_t before = sink.frames.size() + static_cast<std::size_t>(kernel_probes);
        for (int i = 0;
             i < 100 && sink.frames.size() + static_cast<std::size_t>(kernel_probes) == before;
             ++i) {
            now = std::max(now, *engine->next_deadline());
            engine->poll(now);
        }
    }
    SynProber prober;
    FakeSink sink;
    bool know;
    int kernel_probes = 0;
    TimePoint now = kT0;
    std::unique_ptr<Engine> engine;
};

TEST(SynProberEngine, TcpCheckGoesThroughTheProberAndItsVerdictsCount) {
    EngineRig e(one_real());
    e.until_probe();
    ASSERT_EQ(e.sink.frames.size(), 1u);
    EXPECT_EQ(e.kernel_probes, 0);
    EXPECT_EQ(e.engine->stats().raw_probes, 1u);
    EXPECT_EQ(e.engine->stats().in_flight, 1u);
    auto syn = e.sink.frames[0];
    // A frame that is not ours goes on to the TAP.
    EXPECT_FALSE(e.engine->on_host_frame(reply(syn, kSyn | kAck, 1, 0), e.now));
    (void)e.engine->take_changed();
    EXPECT_TRUE(e.engine->on_host_frame(reply(syn, kRst | kAck, 0, rd32(syn, 38) + 1), e.now));
    EXPECT_EQ(e.engine->stats().probes_failed, 1u);
    EXPECT_FALSE(e.engine->checker(0, 0, 0).up());
    EXPECT_FALSE(e.engine->real(0, 0).present);
    EXPECT_TRUE(e.engine->take_changed());
    EXPECT_EQ(e.engine->last_result(0, 0, 0)->reason, "connect: Connection refused");

    e.until_probe();  // delay_loop later
    ASSERT_EQ(e.sink.frames.size(), 2u);
    syn = e.sink.frames[1];
    EXPECT_TRUE(e.engine->on_host_frame(reply(syn, kSyn | kAck, 7, rd32(syn, 38) + 1), e.now));
    EXPECT_EQ(e.sink.frames.size(), 3u);  // the RST
    EXPECT_TRUE(e.engine->checker(0, 0, 0).up());
    EXPECT_TRUE(e.engine->real(0, 0).present);
    EXPECT_EQ(e.engine->stats().in_flight, 0u);
}

TEST(SynProberEngine, SilenceTimesOutWithRetransmits) {
    EngineRig e(one_real());
    e.until_probe();
    const TimePoint sent = e.now;
    while (e.engine->stats().probes_failed == 0) {
        e.now = *e.engine->next_deadline();
        e.engine->poll(e.now);
    }
    EXPECT_EQ(e.now, sent + 3s);
    EXPECT_EQ(e.sink.frames.size(), 2u);  // SYNs at 0 and 1 s; the 3 s one would be the deadline
    EXPECT_EQ(e.engine->stats().probe_timeouts, 1u);
    EXPECT_TRUE(e.engine->last_result(0, 0, 0)->timed_out);
}

TEST(SynProberEngine, UnknownMacFallsBackToTheKernel) {
    EngineRig e(one_real(), /*know_mac=*/false);
    e.until_probe();
    EXPECT_EQ(e.kernel_probes, 1);
    EXPECT_TRUE(e.sink.frames.empty());
    EXPECT_EQ(e.engine->stats().raw_fallbacks, 1u);
}

TEST(SynProberEngine, BindtoKeepsTheKernelPath) {
    EngineRig e(one_real(ip("10.0.0.1")));
    e.until_probe();
    EXPECT_EQ(e.kernel_probes, 1);
    EXPECT_TRUE(e.sink.frames.empty());
    EXPECT_EQ(e.engine->stats().raw_fallbacks, 0u);
}

TEST(SynProberEngine, ReloadCancelsTheProbeInFlight) {
    EngineRig e(one_real());
    e.until_probe();
    ASSERT_EQ(e.prober.stats().in_flight, 1u);
    config::Config other = one_real();
    other.virtual_servers[0].real_servers[0].port = 9090;
    ASSERT_TRUE(e.engine->reconfigure(other, e.now));
    EXPECT_EQ(e.prober.stats().in_flight, 0u);
    const auto& syn = e.sink.frames[0];
    EXPECT_FALSE(e.engine->on_host_frame(reply(syn, kSyn | kAck, 1, rd32(syn, 38) + 1), e.now));
}

TEST(SynProberEngine, WithoutRawOptionsNothingIsConsumed) {
    int n = 0;
    EngineOptions o;
    o.probe_factory = [&n](const CheckSpec&, const ProbeContext&) {
        return std::make_unique<CountingProbe>(n);
    };
    auto engine = Engine::create(one_real(), kT0, std::move(o));
    ASSERT_TRUE(engine);
    const std::vector<uint8_t> junk(60, 0);
    EXPECT_FALSE((*engine)->on_host_frame(junk, kT0));
}

}  // namespace
}  // namespace director::health
