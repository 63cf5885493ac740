// SPDX-License-Identifier: BSD-3-Clause
#include "net/checksum.h"

#include <gtest/gtest.h>

#include <random>

#include "fixtures/packet_builder.h"

namespace director::net {
namespace {

using test::Bytes;
using test::from_hex;

// Straight from RFC 1071 4.1: big-endian 16-bit words, odd byte padded on the right.
uint32_t reference_sum(const Bytes& b, std::size_t from, std::size_t n) {
    uint64_t sum = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2) {
        sum += uint32_t{b[from + i]} << 8 | b[from + i + 1];
    }
    if (n % 2 != 0) {
        sum += uint32_t{b[from + n - 1]} << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint32_t>(sum);
}

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to dd f2 after the end-around carry.
    const Bytes b = from_hex("0001f203f4f5f6f7");
    EXPECT_EQ(checksum_fold(checksum_add(b.data(), 8)), static_cast<uint16_t>(~0xddf2));
}

TEST(Checksum, OddLengthPadsTheLastByteOnTheRight) {
    const Bytes b = from_hex("010203");
    EXPECT_EQ(checksum(b.data(), 3), static_cast<uint16_t>(~(0x0102 + 0x0300)));
}

TEST(Checksum, EmptyBufferSumsToZero) { EXPECT_EQ(checksum(nullptr, 0), 0xffff); }

TEST(Checksum, MatchesTheReferenceAtAnyLengthAndAlignment) {
    std::mt19937 rng(7);
    Bytes b(600);
    for (int round = 0; round < 2000; ++round) {
        for (uint8_t& x : b) {
            x = static_cast<uint8_t>(rng());
        }
        const std::size_t from = rng() % 64;
        const std::size_t n = rng() % 500;
        const uint32_t got = checksum_add(b.data() + from, static_cast<uint32_t>(n));
        EXPECT_EQ(checksum_fold(got), static_cast<uint16_t>(~reference_sum(b, from, n)))
            << "from " << from << " n " << n;
    }
}

TEST(Checksum, ChainedEvenChunksEqualOneSum) {
    const Bytes b = from_hex("4500007300004000401100000a6300010a6300fc0102030405");
    const uint32_t one = checksum_add(b.data(), static_cast<uint32_t>(b.size()));
    uint32_t chained = checksum_add(b.data(), 6);
    chained = checksum_add(b.data() + 6, 10, chained);
    chained = checksum_add(b.data() + 16, static_cast<uint32_t>(b.size() - 16), chained);
    EXPECT_EQ(checksum_fold(one), checksum_fold(chained));
}

TEST(Checksum, Ipv4HeaderKnownValue) {
    // The classic example header: 192.168.0.1 -> 192.168.0.199, UDP, checksum b861.
    Bytes h = from_hex("45000073000040004011b861c0a80001c0a800c7");
    EXPECT_TRUE(ipv4_header_checksum_ok(h.data(), 20));
    EXPECT_EQ(ipv4_header_checksum(h.data(), 20), 0xb861);  // ignores the stored value
    h[10] = 0;
    h[11] = 0;
    EXPECT_EQ(ipv4_header_checksum(h.data(), 20), 0xb861);
    EXPECT_FALSE(ipv4_header_checksum_ok(h.data(), 20));
    h[10] = 0xb8;
    h[11] = 0x61;
    h[8] = 0x3f;  // TTL decremented without updating the checksum
    EXPECT_FALSE(ipv4_header_checksum_ok(h.data(), 20));
}

// The unrolled 20-byte check against the general sum, on random headers with the right
// checksum, a wrong one, and the carry-heavy all-0xff words.
TEST(Checksum, Ipv4HeaderCheckAgreesWithTheGeneralSum) {
    std::mt19937 rng(11);
    int right = 0;
    for (int round = 0; round < 20000; ++round) {
        Bytes h(20);
        for (uint8_t& x : h) {
            // A third of the headers mostly 0xff bytes: every end-around carry happens.
            x = static_cast<uint8_t>(round % 3 != 0 || rng() % 16 == 0 ? rng() : 0xff);
        }
        if (round % 2 == 0) {
            const uint16_t c = ipv4_header_checksum(h.data(), 20);
            h[10] = static_cast<uint8_t>(c >> 8);
            h[11] = static_cast<uint8_t>(c);
        }
        const bool expected = reference_sum(h, 0, 20) == 0xffff;
        right += expected ? 1 : 0;
        ASSERT_EQ(ipv4_header_checksum_ok(h.data(), 20), expected) << test::hex(h);
    }
    EXPECT_GE(right, 10000);  // every header given its checksum, and a few by chance
}

TEST(Checksum, Ipv4HeaderWithOptions) {
    Bytes h = from_hex("46000020000000004001000001020304050607089404000000000000");
    h.resize(24);
    const uint16_t c = ipv4_header_checksum(h.data(), 24);
    h[10] = static_cast<uint8_t>(c >> 8);
    h[11] = static_cast<uint8_t>(c);
    EXPECT_TRUE(ipv4_header_checksum_ok(h.data(), 24));
    EXPECT_FALSE(ipv4_header_checksum_ok(h.data(), 20));  // the options are covered
}

// Known answers from scapy 2.5 (see packet_builder_test.cc for the frames).
TEST(Checksum, TcpOverIpv4KnownValue) {
    Bytes f = from_hex(
        "0200000000fe02000000000108004500002c00000000400665010a63000a0a6300fc9c40005000000001"
        "000000006002ffffe5c90000020405b4");
    const uint8_t* ip = f.data() + 14;
    uint8_t* tcp = f.data() + 34;
    tcp[16] = tcp[17] = 0;
    const uint32_t pseudo = ipv4_pseudo_header_sum(ip + 12, ip + 16, 6, 24);
    EXPECT_EQ(l4_checksum(pseudo, tcp, 24), 0xe5c9);
}

TEST(Checksum, UdpOverIpv6KnownValue) {
    Bytes f = from_hex(
        "0200000000fe0200000000018100006486dd60000000000d114020010db80000000000000000000000102001"
        "0db800000000000000000000025214e90035000d491068656c6c6f");
    const uint8_t* ip = f.data() + 18;
    uint8_t* udp = f.data() + 58;
    EXPECT_EQ(checksum_fold(checksum_add(udp, 13, ipv6_pseudo_header_sum(ip + 8, ip + 24, 17, 13))),
              0);  // verifying over the stored checksum gives zero
    udp[6] = udp[7] = 0;
    EXPECT_EQ(l4_checksum(ipv6_pseudo_header_sum(ip + 8, ip + 24, 17, 13), udp, 13), 0x4910);
}

TEST(Checksum, Icmpv4HasNoPseudoHeader) {
    // frag-needed from packet_builder_test: ICMP checksum 0d6a over 8 + 40 bytes.
    Bytes f = from_hex(
        "0200000000fe02000000000108004500004400000000400164f70a6300010a6300fc03040d6a00000578"
        "4500002800004000400625050a6300fc0a63000a00509c4000000001000000005012fffffd750000");
    EXPECT_EQ(checksum(f.data() + 34, 48), 0);
    f[36] = f[37] = 0;
    EXPECT_EQ(checksum(f.data() + 34, 48), 0x0d6a);
}

}  // namespace
}  // namespace director::net
