// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/codec.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "vrrp/timers.h"

namespace director::vrrp {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

Bytes from_hex(std::string_view hex) {
    Bytes out;
    std::string digits;
    for (char c : hex) {
        if (std::isxdigit(static_cast<unsigned char>(c))) {
            digits.push_back(c);
        }
    }
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

std::string to_hex(const Bytes& b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (uint8_t x : b) {
        s.push_back(d[x >> 4]);
        s.push_back(d[x & 15]);
    }
    return s;
}

net::IpAddress ip(const char* text) { return *net::IpAddress::parse(text); }

// Straight from RFC 1071 §4.1, independent of net/checksum.h: big-endian words, end-around carry.
uint16_t rfc1071(const Bytes& b, uint32_t sum = 0) {
    for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
        sum += uint32_t{b[i]} << 8 | b[i + 1];
    }
    if (b.size() % 2 != 0) {
        sum += uint32_t{b.back()} << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(~sum);
}

// ---- golden packets ------------------------------------------------------------------------
//
// kKa*: bytes keepalived 2.2.7 put on the wire, copied from the tshark decodes in
// shared/reference/keepalived-netns.md §3 (IP header on; the v3 one is the same capture).
// kScapy*: produced once with Debian's python3-scapy 2.5.0 (/usr/bin/python3), e.g.
//   from scapy.all import IP, raw; from scapy.layers.vrrp import VRRP, VRRPv3
//   raw(IP(src="10.99.0.120", dst="224.0.0.18", tos=0xc0, id=1, flags=0, ttl=255, proto=112) /
//       VRRP(version=2, type=1, vrid=62, priority=200, ipcount=1, authtype=1, adv=1,
//            addrlist=["10.99.0.252"], auth1=0x31313131, auth2=0)).hex()
// scapy fills in both checksums itself: VRRP without pseudo-header, VRRPv3 with the IPv4 or
// IPv6 pseudo-header (scapy/layers/vrrp.py post_build), i.e. keepalived's default.

constexpr const char* kKaV2Pass =  // == scapy's, byte for byte
    "45c0002800010000ff70cfb70a630078e0000012"
    "213ec8010101a7fd0a6300fc3131313100000000";
constexpr const char* kKaV2Frame =  // 54 bytes, as captured on the bridge (not padded)
    "01005e000012029900000078080045c0002800010000ff70cfb70a630078e0000012"
    "213ec8010101a7fd0a6300fc3131313100000000";
constexpr const char* kKaV3Mcast =  // checksum 0x0fed includes the IPv4 pseudo-header
    "45c0002000010000ff70cfbf0a630078e0000012"
    "313ec801000a0fed0a6300fc";
// VRRPv3(vrid=62, priority=200, adv=10, addrlist=["10.99.0.252"]) to 10.99.0.123, id=7.
constexpr const char* kScapyV3Unicast =
    "45c0002000070000ff70a4ee0a6300780a63007b"
    "313ec801000ae5210a6300fc";
// IPv6(src="fe80::99:ff:fe00:78", dst="ff02::12", tc=0xc0, hlim=255, nh=112) /
// VRRPv3(vrid=62, priority=100, ipcount=2, adv=100, addrlist=["fe80::1", "2001:db8::252"]).
constexpr const char* kScapyV3Ipv6 =
    "6c000000002870fffe80000000000000009900fffe000078ff020000000000000000000000000012"
    "313e640200643d8ffe80000000000000000000000000000120010db8000000000000000000000252";
// Ether(dst="33:33:00:00:00:12", src="02:99:00:00:00:78") / the packet above.
constexpr const char* kScapyV3Ipv6Frame =
    "33330000001202990000007886dd"
    "6c000000002870fffe80000000000000009900fffe000078ff020000000000000000000000000012"
    "313e640200643d8ffe80000000000000000000000000000120010db8000000000000000000000252";
// IP(src="192.0.2.1", dst="224.0.0.18", tos=0xc0, id=0x1234, ttl=255, proto=112) /
// VRRP(vrid=1, priority=0, ipcount=2, authtype=0, adv=3, addrlist=["192.0.2.10","192.0.2.11"]).
constexpr const char* kScapyV2NoAuthPrio0 =
    "45c0002c12340000ff70065ac0000201e0000012"
    "2101000200035ae3c000020ac000020b0000000000000000";

// The specs live in statics: Expect holds spans into their address lists.
const AdvertSpec& ka_v2() {
    static const AdvertSpec spec = [] {
        AdvertSpec s;
        s.advert.version = 2;
        s.advert.vrid = 62;
        s.advert.priority = 200;
        s.advert.auth_type = AuthType::Pass;
        s.advert.auth_data = make_auth_data("1111");
        s.advert.adver_int = 1s;
        s.advert.addresses = {ip("10.99.0.252")};
        s.src = ip("10.99.0.120");
        s.dst = mcast_group_v4();
        s.ip_id = 1;
        return s;
    }();
    return spec;
}

const AdvertSpec& ka_v3() {
    static const AdvertSpec spec = [] {
        AdvertSpec s = ka_v2();
        s.advert.version = 3;
        s.advert.auth_type = AuthType::None;
        s.advert.auth_data = {};
        s.advert.adver_int = 100ms;
        return s;
    }();
    return spec;
}

const AdvertSpec& v6_spec() {
    static const AdvertSpec spec = [] {
        AdvertSpec s;
        s.advert.version = 3;
        s.advert.vrid = 62;
        s.advert.priority = 100;
        s.advert.adver_int = 1s;
        s.advert.addresses = {ip("fe80::1"), ip("2001:db8::252")};
        s.src = ip("fe80::99:ff:fe00:78");
        s.dst = mcast_group_v6();
        return s;
    }();
    return spec;
}

Expect expect_for(const AdvertSpec& s) {
    Expect e;
    e.family = s.src.family();
    e.version = s.advert.version;
    e.vrid = s.advert.vrid;
    e.auth_type = s.advert.auth_type;
    e.auth_data = s.advert.auth_data;
    e.adver_int = s.advert.adver_int;
    e.unicast = !s.dst.is_multicast();
    e.v3_checksum_as_v2 = s.v3_checksum_as_v2;
    e.vips = s.advert.addresses;
    return e;
}

Bytes encode(const AdvertSpec& s) {
    auto r = encode_ip(s);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : Bytes{};
}

TEST(VrrpCodec, V2PassIsByteIdenticalToKeepalivedAndScapy) {
    EXPECT_EQ(to_hex(encode(ka_v2())), kKaV2Pass);
    EXPECT_EQ(encode(ka_v2()), from_hex(kKaV2Pass));
}

TEST(VrrpCodec, V2PriorityZeroMatchesKeepalivedStopAdvert) {
    // keepalived-netns.md §3: the SIGTERM advert is the same packet with priority 0, 0x6ffe.
    AdvertSpec s = ka_v2();
    s.advert.priority = 0;
    const Bytes b = encode(s);
    EXPECT_EQ(b[22], 0);
    EXPECT_EQ(b[26], 0x6f);
    EXPECT_EQ(b[27], 0xfe);
}

TEST(VrrpCodec, V2IsTheRfc3768LayoutBuiltByHand) {
    // RFC 791 §3.1 header + RFC 3768 §5.1 message, field by field, checksums by RFC 1071.
    Bytes vrrp = {0x21, 62,  200, 1,    // Version 2 | Type 1, VRID, Priority, Count IP Addrs
                  1,    1,   0,   0,    // Auth Type 1 (PASS), Adver Int 1 s, Checksum 0
                  10,   99,  0,   252,  // IP Address (1)
                  '1',  '1', '1', '1', 0, 0, 0, 0};  // Authentication Data, NUL-padded
    const uint16_t vsum = rfc1071(vrrp);             // RFC 3768 §5.3.8: no pseudo-header
    vrrp[6] = static_cast<uint8_t>(vsum >> 8);
    vrrp[7] = static_cast<uint8_t>(vsum);
    Bytes ip4 = {0x45, 0xc0, 0, 40,  // v4, IHL 5, TOS 0xc0, total length 40
                 0,    1,    0, 0,   // ID 1, DF clear, offset 0
                 255,  112,  0, 0,   // TTL 255, protocol 112, checksum 0
                 10,   99,   0, 120, 224, 0, 0, 18};
    const uint16_t isum = rfc1071(ip4);
    ip4[10] = static_cast<uint8_t>(isum >> 8);
    ip4[11] = static_cast<uint8_t>(isum);
    ip4.insert(ip4.end(), vrrp.begin(), vrrp.end());
    EXPECT_EQ(encode(ka_v2()), ip4);
}

TEST(VrrpCodec, V2WithoutAuthMatchesScapy) {
    AdvertSpec s;
    s.advert.version = 2;
    s.advert.vrid = 1;
    s.advert.priority = 0;
    s.advert.adver_int = 3s;
    s.advert.addresses = {ip("192.0.2.10"), ip("192.0.2.11")};
    s.advert.auth_data = make_auth_data("ignored");  // not written for auth type 0
    s.src = ip("192.0.2.1");
    s.dst = mcast_group_v4();
    s.ip_id = 0x1234;
    EXPECT_EQ(to_hex(encode(s)), kScapyV2NoAuthPrio0);
}

TEST(VrrpCodec, V3Ipv4IsByteIdenticalToKeepalivedWithPseudoHeader) {
    EXPECT_EQ(to_hex(encode(ka_v3())), kKaV3Mcast);
}

TEST(VrrpCodec, V3Ipv4IsTheRfc5798LayoutBuiltByHand) {
    Bytes vrrp = {0x31, 62,   200, 1,  // Version 3 | Type 1, VRID, Priority, Count
                  0x00, 0x0a, 0,   0,  // Rsvd 0 | Max Adver Int 10 cs, Checksum 0
                  10,   99,   0,   252};
    // keepalived's default: IPv4 pseudo-header {src, dst, 0, 112, length} (keepalived.md §2.2).
    const Bytes pseudo = {10, 99, 0, 120, 224, 0, 0, 18, 0, 112, 0, 12};
    Bytes both = pseudo;
    both.insert(both.end(), vrrp.begin(), vrrp.end());
    const uint16_t sum = rfc1071(both);
    EXPECT_EQ(sum, 0x0fed);
    const Bytes b = encode(ka_v3());
    EXPECT_EQ(Bytes(b.begin() + 20, b.begin() + 26), Bytes(vrrp.begin(), vrrp.begin() + 6));
    EXPECT_EQ(b[26] << 8 | b[27], sum);
}

TEST(VrrpCodec, V3ChecksumAsV2LeavesThePseudoHeaderOut) {
    AdvertSpec s = ka_v3();
    s.v3_checksum_as_v2 = true;
    const Bytes b = encode(s);
    // keepalived-netns.md §3: "without it the sum is 0xfb56".
    EXPECT_EQ(b[26] << 8 | b[27], 0xfb56);
    EXPECT_EQ(rfc1071(Bytes(b.begin() + 20, b.end())), 0);
}

TEST(VrrpCodec, V3UnicastChecksumUsesTheActualDestination) {
    AdvertSpec s = ka_v3();
    s.dst = ip("10.99.0.123");
    s.ip_id = 7;
    const Bytes b = encode(s);
    EXPECT_EQ(to_hex(b), kScapyV3Unicast);
    // Not the checksum a 224.0.0.18 pseudo-header would give (keepalived <= 1.3.6).
    const Bytes v(b.begin() + 20, b.end());
    EXPECT_NE(vrrp_checksum(v, 3, s.src, mcast_group_v4(), false), 0);
    EXPECT_EQ(vrrp_checksum(v, 3, s.src, s.dst, false), 0);
}

TEST(VrrpCodec, V3Ipv6MatchesScapyWithHopLimit255AndTrafficClassC0) {
    AdvertSpec s = v6_spec();
    const Bytes b = encode(s);
    EXPECT_EQ(to_hex(b), kScapyV3Ipv6);
    EXPECT_EQ(b[0], 0x6c);  // version 6, traffic class 0xc0
    EXPECT_EQ(b[1], 0x00);  // flow label 0
    EXPECT_EQ(b[6], 112);
    EXPECT_EQ(b[7], 255);
    EXPECT_EQ(b.size(), 40u + 8 + 32);
}

TEST(VrrpCodec, FrameUsesThePortMacAndTheGroupMac) {
    FrameMacs macs{*net::MacAddress::parse("02:99:00:00:00:78"), std::nullopt};
    auto f = encode_frame(ka_v2(), macs);
    ASSERT_TRUE(f);
    EXPECT_EQ(to_hex(*f), kKaV2Frame);
    auto f6 = encode_frame(v6_spec(), macs);
    ASSERT_TRUE(f6);
    EXPECT_EQ(to_hex(*f6), kScapyV3Ipv6Frame);
    EXPECT_EQ(frame_length(v6_spec()), f6->size());
}

TEST(VrrpCodec, UnicastFrameNeedsThePeersMac) {
    AdvertSpec s = ka_v2();
    s.dst = ip("10.99.0.123");
    FrameMacs macs{*net::MacAddress::parse("02:99:00:00:00:78"), std::nullopt};
    EXPECT_FALSE(encode_frame(s, macs));
    macs.dst = *net::MacAddress::parse("02:99:00:00:00:7b");
    auto f = encode_frame(s, macs);
    ASSERT_TRUE(f);
    EXPECT_EQ(to_hex(Bytes(f->begin(), f->begin() + 14)),
              "02990000007b029900000078"
              "0800");
    // keepalived-netns.md §3: the unicast VRRP payload is byte-identical to the multicast one.
    const Bytes mc = encode(ka_v2());
    EXPECT_EQ(Bytes(f->begin() + 34, f->end()), Bytes(mc.begin() + 20, mc.end()));
}

TEST(VrrpCodec, MulticastMacsFollowRfc1112AndRfc2464) {
    EXPECT_EQ(multicast_mac(mcast_group_v4()).to_string(), "01:00:5e:00:00:12");
    EXPECT_EQ(multicast_mac(mcast_group_v6()).to_string(), "33:33:00:00:00:12");
    EXPECT_EQ(multicast_mac(ip("239.129.2.3")).to_string(), "01:00:5e:01:02:03");
    EXPECT_EQ(mcast_group(net::Family::V6).to_string(), "ff02::12");
}

TEST(VrrpCodec, AuthDataIsTheFirstEightBytesNulPadded) {
    EXPECT_EQ(make_auth_data("1111"), (AuthData{'1', '1', '1', '1', 0, 0, 0, 0}));
    EXPECT_EQ(make_auth_data("0123456789"), (AuthData{'0', '1', '2', '3', '4', '5', '6', '7'}));
    EXPECT_EQ(make_auth_data(""), AuthData{});
}

TEST(VrrpCodec, EncodeRefusesWhatTheWireCannotCarry) {
    auto bad = [](auto mutate) {
        AdvertSpec s = ka_v2();
        mutate(s);
        return !encode_ip(s).has_value();
    };
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.version = 4; }));
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.adver_int = 1500ms; }));  // v2: whole seconds
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.adver_int = 256s; }));
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.adver_int = 0s; }));
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.auth_type = AuthType::Ah; }));
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.dst = mcast_group_v6(); }));
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.addresses.push_back(ip("2001:db8::1")); }));
    EXPECT_TRUE(bad([](AdvertSpec& s) { s.advert.addresses.resize(256, ip("10.0.0.1")); }));
    EXPECT_TRUE(bad([](AdvertSpec& s) {  // VRRPv2 has no IPv6 (RFC 3768)
        s.src = ip("fe80::1");
        s.dst = mcast_group_v6();
        s.advert.addresses = {};
    }));
    auto bad3 = [](Duration d) {
        AdvertSpec s = ka_v3();
        s.advert.adver_int = d;
        return !encode_ip(s).has_value();
    };
    EXPECT_TRUE(bad3(5ms));      // not a whole centisecond
    EXPECT_TRUE(bad3(40960ms));  // 4096 cs: beyond the 12-bit field
    EXPECT_FALSE(bad3(40950ms));
    EXPECT_FALSE(bad3(10ms));
    Bytes small(ip_length(ka_v2()) - 1);
    EXPECT_FALSE(encode_ip(ka_v2(), small).has_value());
    Bytes exact(ip_length(ka_v2()));
    EXPECT_EQ(*encode_ip(ka_v2(), exact), exact.size());
}

// ---- decode: round trips -------------------------------------------------------------------

void expect_round_trip(const AdvertSpec& s) {
    const Bytes b = encode(s);
    auto r = decode(b, s.dst.is_multicast(), expect_for(s));
    ASSERT_TRUE(r.has_value()) << to_string(r.error());
    EXPECT_EQ(r->advert, s.advert);
    EXPECT_EQ(r->src, s.src);
    EXPECT_EQ(r->dst, s.dst);
    EXPECT_EQ(r->ttl, 255);
    EXPECT_FALSE(r->vips_differ);
    EXPECT_FALSE(r->old_unicast_checksum);
}

TEST(VrrpCodec, RoundTripsEveryVariant) {
    expect_round_trip(ka_v2());
    expect_round_trip(ka_v3());
    expect_round_trip(v6_spec());
    AdvertSpec none = ka_v2();
    none.advert.auth_type = AuthType::None;
    none.advert.auth_data = {};
    expect_round_trip(none);
    AdvertSpec uni = ka_v3();
    uni.dst = ip("10.99.0.123");
    expect_round_trip(uni);
    AdvertSpec uni6 = v6_spec();
    uni6.dst = ip("fe80::7b");
    expect_round_trip(uni6);
    AdvertSpec as_v2 = ka_v3();
    as_v2.v3_checksum_as_v2 = true;
    expect_round_trip(as_v2);
    AdvertSpec empty = ka_v3();
    empty.advert.addresses.clear();
    expect_round_trip(empty);
    AdvertSpec max = ka_v3();
    max.advert.adver_int = 40950ms;
    max.advert.priority = 255;
    expect_round_trip(max);
}

TEST(VrrpCodec, EthernetPaddingAfterTheIpPacketIsIgnored) {
    Bytes b = encode(ka_v2());
    b.resize(60 - 14, 0);  // a 60-byte frame minus its Ethernet header
    EXPECT_TRUE(decode(b, true, expect_for(ka_v2())).has_value());
    Bytes b3 = encode(ka_v3());
    b3.resize(46, 0);
    EXPECT_TRUE(decode(b3, true, expect_for(ka_v3())).has_value());
}

TEST(VrrpCodec, V3AcceptsAnotherIntervalForTheBackupToAdopt) {
    AdvertSpec s = ka_v3();
    s.advert.adver_int = 1s;
    Expect e = expect_for(ka_v3());  // we are configured with 100 ms
    auto r = decode(encode(s), true, e);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->advert.adver_int, 1s);
}

TEST(VrrpCodec, V3ChecksumAsV2NeverVerifiesIpv4Checksums) {
    Bytes b = encode(ka_v3());
    b[27] ^= 0xff;
    Expect e = expect_for(ka_v3());
    EXPECT_EQ(decode(b, true, e).error(), Reject::BadChecksum);
    e.v3_checksum_as_v2 = true;  // keepalived vrrp.c: received v3/IPv4 checksums ignored
    EXPECT_TRUE(decode(b, true, e).has_value());
    // And a peer using no pseudo-header (RFC 9568) is refused by default.
    AdvertSpec rfc9568 = ka_v3();
    rfc9568.v3_checksum_as_v2 = true;
    EXPECT_EQ(decode(encode(rfc9568), true, expect_for(ka_v3())).error(), Reject::BadChecksum);
}

TEST(VrrpCodec, OldKeepalivedUnicastChecksumIsAcceptedAndFlagged) {
    AdvertSpec s = ka_v3();
    s.dst = ip("10.99.0.123");
    Bytes b = encode(s);
    // Re-checksum with 224.0.0.18 in the pseudo-header, as keepalived <= 1.3.6 did.
    b[26] = b[27] = 0;
    const uint16_t old =
        vrrp_checksum({b.data() + 20, b.size() - 20}, 3, s.src, mcast_group_v4(), false);
    b[26] = static_cast<uint8_t>(old >> 8);
    b[27] = static_cast<uint8_t>(old);
    auto r = decode(b, false, expect_for(s));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->old_unicast_checksum);
}

TEST(VrrpCodec, DifferentVipListsAreFlaggedNotRefused) {
    AdvertSpec s = ka_v2();
    Expect e = expect_for(s);
    const std::vector<net::IpAddress> ours = {ip("10.99.0.252"), ip("10.99.0.253")};
    e.vips = ours;
    auto r = decode(encode(s), true, e);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->vips_differ);
    const std::vector<net::IpAddress> same = {ip("10.99.0.252")};
    e.vips = same;
    EXPECT_FALSE(decode(encode(s), true, e)->vips_differ);
}

TEST(VrrpCodec, L2MulticastFlagMakesAUnicastIpDestinationMulticast) {
    AdvertSpec s = ka_v2();
    s.dst = ip("10.99.0.123");
    Expect e = expect_for(ka_v2());  // multicast instance
    EXPECT_EQ(decode(encode(s), false, e).error(), Reject::ExpectedMulticast);
    auto r = decode(encode(s), true, e);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->multicast);
}

// ---- decode: every reject reason, in keepalived's order --------------------------------------

void fix_ip_checksum(Bytes& b) {
    b[10] = b[11] = 0;
    const uint16_t c = rfc1071(Bytes(b.begin(), b.begin() + 20));
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
}

void fix_vrrp_checksum(Bytes& b, bool pseudo) {
    const std::size_t off = (b[0] & 0x0f) * 4u;
    b[off + 6] = b[off + 7] = 0;
    const Bytes v(b.begin() + static_cast<std::ptrdiff_t>(off), b.end());
    uint16_t c = rfc1071(v);
    if (pseudo) {
        Bytes ph(b.begin() + 12, b.begin() + 20);
        ph.insert(ph.end(), {0, 112, 0, static_cast<uint8_t>(v.size())});
        ph.insert(ph.end(), v.begin(), v.end());
        c = rfc1071(ph);
    }
    b[off + 6] = static_cast<uint8_t>(c >> 8);
    b[off + 7] = static_cast<uint8_t>(c);
}

struct RejectCase {
    const char* what;
    Reject reason;
    Bytes packet;
    bool l2_multicast = true;
    Expect expect;
};

std::vector<RejectCase> reject_cases() {
    const AdvertSpec& v2 = ka_v2();
    const AdvertSpec& v3 = ka_v3();
    const Bytes good2 = encode(v2);
    const Bytes good3 = encode(v3);
    const Expect e2 = expect_for(v2);
    const Expect e3 = expect_for(v3);
    std::vector<RejectCase> cases;
    auto add = [&](const char* what, Reject r, Bytes b, Expect e, bool mc = true) {
        cases.push_back(RejectCase{what, r, std::move(b), mc, e});
    };

    add("empty", Reject::TooShort, {}, e2);
    add("half an IPv4 header", Reject::TooShort, Bytes(good2.begin(), good2.begin() + 10), e2);
    add("total length beyond the bytes", Reject::TooShort, Bytes(good2.begin(), good2.end() - 1),
        e2);
    Bytes b = good2;
    b[0] = 0x55;
    add("IP version 5", Reject::BadIpHeader, b, e2);
    b = good2;
    b[0] = 0x44;
    fix_ip_checksum(b);
    add("IHL 4", Reject::BadIpHeader, b, e2);
    b = good2;
    b[11] ^= 1;
    add("IPv4 header checksum", Reject::BadIpChecksum, b, e2);
    b = good2;
    b[6] = 0x20;  // MF
    fix_ip_checksum(b);
    add("more fragments", Reject::Fragment, b, e2);
    add("IPv6 packet at an IPv4 instance", Reject::WrongFamily, encode(v6_spec()), e2);
    b = good2;
    b[9] = 51;
    fix_ip_checksum(b);
    add("IPsec AH", Reject::AuthAh, b, e2);
    b = good2;
    b[9] = 17;
    fix_ip_checksum(b);
    add("UDP", Reject::NotVrrp, b, e2);
    b = good2;
    b[3] = 27;  // total length 27: a 7-byte "VRRP header"
    fix_ip_checksum(b);
    add("no room for the VRRP header", Reject::NotVrrp, Bytes(b.begin(), b.begin() + 27), e2);
    Expect other = e2;
    other.vrid = 63;
    add("VRID 62 at instance 63", Reject::UnknownVrid, good2, other);
    b = good2;
    b[23] = 2;  // count 2 with one address
    fix_ip_checksum(b);
    add("count says 2, one address", Reject::BadLength, b, e2);
    b = good2;
    b.insert(b.end(), {0, 0, 0, 0});
    b[3] = static_cast<uint8_t>(b.size());
    fix_ip_checksum(b);
    add("4 bytes too long", Reject::BadLength, b, e2);
    b = good2;
    b[8] = 254;
    fix_ip_checksum(b);
    add("TTL 254", Reject::BadTtl, b, e2);
    add("v3 advert at a v2 instance", Reject::VersionMismatch, good3, e2);
    add("v2 advert at a v3 instance", Reject::VersionMismatch, good2, e3);
    Expect noauth = e2;
    noauth.auth_type = AuthType::None;
    noauth.auth_data = {};
    add("PASS at an instance without auth", Reject::BadAuthType, good2, noauth);
    b = good2;
    b[24] = 3;
    fix_vrrp_checksum(b, false);
    add("auth type 3", Reject::BadAuthType, b, e2);
    Expect pw = e2;
    pw.auth_data = make_auth_data("2222");
    add("wrong password", Reject::BadPassword, good2, pw);
    Expect slow = e2;
    slow.adver_int = 2s;
    add("v2 interval 1 s at a 2 s instance", Reject::IntervalMismatch, good2, slow);
    b = good3;
    b[24] = 0;
    b[25] = 0;
    fix_vrrp_checksum(b, true);
    add("v3 interval 0", Reject::BadInterval, b, e3);
    AdvertSpec t = v2;
    t.advert.type = 2;
    add("type 2", Reject::BadType, encode(t), e2);
    b = good2;
    b[27] ^= 1;
    add("v2 checksum", Reject::BadChecksum, b, e2);
    b = encode(v6_spec());
    b[47] ^= 1;
    add("v3 IPv6 checksum", Reject::BadChecksum, b, expect_for(v6_spec()));
    Expect uni = e2;
    uni.unicast = true;
    add("multicast at a unicast instance", Reject::ExpectedUnicast, good2, uni);
    AdvertSpec u = v2;
    u.dst = ip("10.99.0.123");
    add("unicast at a multicast instance", Reject::ExpectedMulticast, encode(u), e2, false);
    Expect peers = uni;
    static const std::vector<net::IpAddress> kPeers = {ip("10.99.0.200")};
    peers.unicast_peers = kPeers;
    peers.check_unicast_src = true;
    add("unicast from a stranger", Reject::UnicastSrcNotPeer, encode(u), peers, false);
    return cases;
}

TEST(VrrpCodec, EveryRejectReasonIsReachable) {
    std::set<Reject> seen;
    for (const RejectCase& c : reject_cases()) {
        auto r = decode(c.packet, c.l2_multicast, c.expect);
        ASSERT_FALSE(r.has_value()) << c.what;
        EXPECT_EQ(r.error(), c.reason) << c.what << ": got " << to_string(r.error());
        seen.insert(c.reason);
    }
    EXPECT_EQ(seen.size(), kRejectCount);
}

TEST(VrrpCodec, ChecksFollowKeepalivedsOrder) {
    // TTL (check 3) before version (4); auth (5) before interval (6); interval before type (7);
    // checksum (9) before unicast/multicast (10).
    AdvertSpec s = ka_v3();
    Bytes b = encode(s);
    b[8] = 64;
    fix_ip_checksum(b);
    EXPECT_EQ(decode(b, true, expect_for(ka_v2())).error(), Reject::BadTtl);
    Expect e = expect_for(ka_v2());
    e.auth_data = make_auth_data("x");
    e.adver_int = 5s;
    EXPECT_EQ(decode(encode(ka_v2()), true, e).error(), Reject::BadPassword);
    AdvertSpec t = ka_v2();
    t.advert.type = 7;
    Expect slow = expect_for(ka_v2());
    slow.adver_int = 5s;
    EXPECT_EQ(decode(encode(t), true, slow).error(), Reject::IntervalMismatch);
    Bytes bad = encode(ka_v2());
    bad[27] ^= 1;
    Expect uni = expect_for(ka_v2());
    uni.unicast = true;
    EXPECT_EQ(decode(bad, true, uni).error(), Reject::BadChecksum);
}

TEST(VrrpCodec, TtlIsOnlyCheckedForMulticast) {
    AdvertSpec u = ka_v2();
    u.dst = ip("10.99.0.123");
    u.ttl = 64;  // e.g. a routed unicast peer
    Expect e = expect_for(u);
    EXPECT_TRUE(decode(encode(u), false, e).has_value());
}

TEST(VrrpCodec, RejectNamesCountersAndHelpAreComplete) {
    std::set<std::string> names;
    std::set<std::string> counters;
    for (std::size_t i = 0; i < kRejectCount; ++i) {
        const auto r = static_cast<Reject>(i);
        const std::string counter = counter_name(r);
        for (char c : counter) {
            EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) || c == '_') << counter;
        }
        EXPECT_GT(std::string(help_text(r)).size(), 20u);
        names.insert(to_string(r));
        counters.insert(counter);
    }
    EXPECT_EQ(names.size(), kRejectCount);
    EXPECT_EQ(counters.size(), kRejectCount);
    EXPECT_STREQ(counter_name(Reject::BadPassword), "bad_password");
    EXPECT_STREQ(to_string(static_cast<Reject>(200)), "Invalid");
    EXPECT_STREQ(counter_name(static_cast<Reject>(200)), "invalid");
    EXPECT_STREQ(help_text(static_cast<Reject>(200)), "");
}

TEST(VrrpCodec, PeekGivesTheDispatchKeyCheaply) {
    auto p = peek(encode(ka_v2()));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->family, net::Family::V4);
    EXPECT_EQ(p->version, 2);
    EXPECT_EQ(p->vrid, 62);
    auto p6 = peek(encode(v6_spec()));
    ASSERT_TRUE(p6);
    EXPECT_EQ(p6->family, net::Family::V6);
    EXPECT_EQ(p6->version, 3);
    Bytes udp = encode(ka_v2());
    udp[9] = 17;
    EXPECT_FALSE(peek(udp));
    EXPECT_FALSE(peek(Bytes(10, 0x45)));
    EXPECT_FALSE(peek(Bytes{}));
    const Bytes full = encode(ka_v2());
    EXPECT_FALSE(peek(Bytes(full.begin(), full.begin() + 27)));
}

// ---- timers (RFC 3768 §6.1, RFC 5798 §6.1, keepalived vrrp.h) -------------------------------

TEST(VrrpTimers, V2MasterDownIsThreeIntervalsPlusSkew) {
    // advert 1 s, priority 100: 3 + 156/256 s = 3.609375 s exactly.
    EXPECT_EQ(master_down_interval(2, 100, 1s), 3609375us);
    EXPECT_EQ(skew_time(2, 100, 1s), 609375us);
    // priority 254: 3 + 2/256 s = 3.0078125 s, truncated to the µs as keepalived does.
    EXPECT_EQ(master_down_interval(2, 254, 1s), 3007812us);
    // v2 skew does not scale with the advert interval (RFC 3768 §6.1).
    EXPECT_EQ(master_down_interval(2, 100, 2s), 6609375us);
}

TEST(VrrpTimers, V3SkewUsesMasterAdverIntervalInKeepalivedsArithmetic) {
    // keepalived: ((256 - p) * (interval_us / 10000) * 625) / 16 in µs, truncating:
    // 156 * 10 * 625 / 16 = 60937.5 -> 60937 µs; centiseconds alone would say 6 cs = 60 ms.
    EXPECT_EQ(skew_time(3, 100, 100ms), 60937us);
    EXPECT_EQ(master_down_interval(3, 100, 100ms), 360937us);
    EXPECT_EQ(skew_time(3, 255, 1s), 3906us);  // 100 * 625 / 16 = 3906.25
    EXPECT_EQ(master_down_interval(3, 200, 1s), 3218750us);
    EXPECT_EQ(master_down_interval(3, 100, 100ms, 4), 460937us);  // down_timer_adverts 4
}

}  // namespace
}  // namespace director::vrrp
