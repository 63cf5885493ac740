// SPDX-License-Identifier: BSD-3-Clause
#include "net/flow.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "fixtures/flow_crc_zero.h"
#include "fixtures/packet_builder.h"

namespace director::net {
namespace {

// Bitwise CRC32-C (Castagnoli, reflected polynomial 0x82f63b78) with the caller's initial value
// and no final inversion: rte_hash_crc's definition, written independently of DPDK.
uint32_t reference_crc32c(const uint8_t* p, std::size_t n, uint32_t crc) {
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int b = 0; b < 8; ++b) {
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
        }
    }
    return crc;
}

FlowKey v4_key(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
    FlowKey k{};
    std::memcpy(k.src_addr.data(), test::ip(src).bytes(), 4);
    std::memcpy(k.dst_addr.data(), test::ip(dst).bytes(), 4);
    k.src_port = port_net(sport);
    k.dst_port = port_net(dport);
    k.proto = 6;
    k.family = Family::V4;
    return k;
}

TEST(FlowKey, IsFortyZeroedBytes) {
    static_assert(sizeof(FlowKey) == 40);
    static_assert(std::is_trivially_copyable_v<FlowKey>);
    static_assert(std::is_standard_layout_v<FlowKey>);
    const FlowKey k{};
    uint8_t zero[40] = {};
    EXPECT_EQ(std::memcmp(&k, zero, 40), 0);
}

TEST(FlowKey, ReversedSwapsEndsAndIsAnInvolution) {
    const FlowKey k = v4_key("10.0.0.1", "10.0.0.2", 1000, 80);
    const FlowKey r = reversed(k);
    EXPECT_EQ(r, v4_key("10.0.0.2", "10.0.0.1", 80, 1000));
    EXPECT_EQ(reversed(r), k);
}

TEST(FlowKey, PortsAreNetworkOrder) {
    const FlowKey k = v4_key("10.0.0.1", "10.0.0.2", 0x1234, 80);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&k.src_port);
    EXPECT_EQ(bytes[0], 0x12);
    EXPECT_EQ(bytes[1], 0x34);
    EXPECT_EQ(port_host(k.src_port), 0x1234);
}

TEST(FlowHash, IsCrc32cOfTheKeyBytes) {
    // IPv4: the 16 bytes src, dst, ports, proto, family, two zeros.
    const FlowKey k = v4_key("192.0.2.7", "198.51.100.9", 51000, 443);
    const uint8_t v4_words[16] = {192,  0,    2,    7,    198, 51, 100, 9,
                                  0xc7, 0x38, 0x01, 0xbb, 6,   4,  0,   0};
    EXPECT_EQ(flow_hash(k), reference_crc32c(v4_words, 16, kFlowHashSeed));
    EXPECT_EQ(flow_hash(k, 0), reference_crc32c(v4_words, 16, 0));
    uint32_t src;
    uint32_t dst;
    uint32_t ports;
    std::memcpy(&src, v4_words, 4);
    std::memcpy(&dst, v4_words + 4, 4);
    std::memcpy(&ports, v4_words + 8, 4);
    EXPECT_EQ(flow_hash_v4(src, dst, ports, 6), flow_hash(k));
    // IPv6: all 40 bytes of the key.
    FlowKey v6 = k;
    v6.family = Family::V6;
    v6.src_addr[15] = 1;
    EXPECT_EQ(flow_hash(v6),
              reference_crc32c(reinterpret_cast<const uint8_t*>(&v6), 40, kFlowHashSeed));
    // CRC32-C check value: "123456789" with init ~0 and final inversion gives e3069283.
    const char* check = "123456789";
    EXPECT_EQ(~reference_crc32c(reinterpret_cast<const uint8_t*>(check), 9, ~0u), 0xe3069283u);
}

TEST(FlowHash, IsNeverZero) {
    // A flow whose CRC32-C is 0 (found by algebra: fixtures/flow_crc_zero.h) hashes to 1 on
    // every path; the connection table keeps 0 for an empty slot.
    FlowKey k = v4_key("0.0.0.0", "10.99.0.100", 40000, 80);
    uint32_t dst;
    uint32_t ports;
    std::memcpy(&dst, k.dst_addr.data(), 4);
    std::memcpy(&ports, &k.src_port, 4);
    const uint32_t src = test::v4_source_with_flow_crc_zero(dst, ports, 6, kFlowHashSeed);
    std::memcpy(k.src_addr.data(), &src, 4);
    uint8_t words[16];
    std::memcpy(words, &src, 4);
    std::memcpy(words + 4, &dst, 4);
    std::memcpy(words + 8, &ports, 4);
    const uint8_t tail[4] = {6, 4, 0, 0};
    std::memcpy(words + 12, tail, 4);
    ASSERT_EQ(reference_crc32c(words, 16, kFlowHashSeed), 0u) << "the fixture's flow";
    const uint64_t addrs = uint64_t{src} | uint64_t{dst} << 32;
    const uint64_t rest = uint64_t{ports} | uint64_t{6} << 32 | kFlowHashV4Family;
    EXPECT_EQ(flow_crc_v4_words(addrs, rest), 0u);
    EXPECT_EQ(flow_hash_v4_words(addrs, rest), 1u);
    EXPECT_EQ(flow_hash_v4(src, dst, ports, 6), 1u);
    EXPECT_EQ(flow_hash(k), 1u);
    // Any other flow keeps its CRC.
    k.src_port ^= 1;
    std::memcpy(&ports, &k.src_port, 4);
    std::memcpy(words + 8, &ports, 4);
    EXPECT_EQ(flow_hash(k), reference_crc32c(words, 16, kFlowHashSeed));
    EXPECT_NE(flow_hash(k), 1u);
    // IPv6: all 40 bytes; the destination's last four make the CRC 0.
    FlowKey v6 = v4_key("0.0.0.0", "0.0.0.0", 40000, 443);
    v6.family = Family::V6;
    v6.src_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    v6.dst_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t dwords[10];
    std::memcpy(dwords, &v6, sizeof dwords);
    dwords[7] = test::dword_zeroing_crc32c(
        reference_crc32c(reinterpret_cast<const uint8_t*>(dwords), 28, kFlowHashSeed),
        std::span<const uint32_t>(dwords + 8, 2));
    std::memcpy(&v6, dwords, sizeof dwords);
    ASSERT_EQ(reference_crc32c(reinterpret_cast<const uint8_t*>(&v6), 40, kFlowHashSeed), 0u);
    EXPECT_EQ(flow_hash(v6), 1u);
    v6.dst_addr[15] ^= 1;
    EXPECT_EQ(flow_hash(v6),
              reference_crc32c(reinterpret_cast<const uint8_t*>(&v6), 40, kFlowHashSeed));
}

TEST(FlowHash, DeterministicAndSensitiveToEveryField) {
    const FlowKey k = v4_key("10.1.2.3", "10.99.0.252", 40000, 80);
    EXPECT_EQ(flow_hash(k), flow_hash(k));
    std::set<uint32_t> hashes{flow_hash(k)};
    FlowKey m = k;
    m.src_addr[3] ^= 1;
    hashes.insert(flow_hash(m));
    m = k;
    m.dst_addr[0] ^= 0x80;
    hashes.insert(flow_hash(m));
    m = k;
    m.src_port ^= 1;
    hashes.insert(flow_hash(m));
    m = k;
    m.dst_port ^= 0x100;
    hashes.insert(flow_hash(m));
    m = k;
    m.proto = 17;
    hashes.insert(flow_hash(m));
    m = k;
    m.family = Family::V6;
    hashes.insert(flow_hash(m));
    EXPECT_EQ(hashes.size(), 7u);
    EXPECT_NE(flow_hash(k, 1), flow_hash(k, 2));
    EXPECT_NE(flow_hash(k), flow_hash(reversed(k)));  // directional by design
}

// Chi-square of `n` hashes over `buckets` bins, normalised: ~1.0 for a uniform hash.
double chi_square_ratio(const std::vector<uint32_t>& hashes, uint32_t buckets) {
    std::vector<uint32_t> count(buckets);
    for (uint32_t h : hashes) {
        ++count[h % buckets];
    }
    const double expected = static_cast<double>(hashes.size()) / buckets;
    double chi = 0;
    for (uint32_t c : count) {
        chi += (c - expected) * (c - expected) / expected;
    }
    return chi / (buckets - 1);
}

TEST(FlowHash, SpreadsSequentialPortsAndAddressesEvenly) {
    std::vector<uint32_t> by_port;
    std::vector<uint32_t> by_addr;
    for (uint32_t i = 0; i < 65536; ++i) {
        FlowKey k = v4_key("10.1.2.3", "10.99.0.252", 0, 80);
        k.src_port = port_net(static_cast<uint16_t>(i));
        by_port.push_back(flow_hash(k));
        FlowKey a = v4_key("10.0.0.0", "10.99.0.252", 40000, 80);
        a.src_addr[2] = static_cast<uint8_t>(i >> 8);
        a.src_addr[3] = static_cast<uint8_t>(i);
        by_addr.push_back(flow_hash(a));
    }
    EXPECT_EQ(std::set<uint32_t>(by_port.begin(), by_port.end()).size(), 65536u);
    for (uint32_t buckets : {64u, 1024u, 65537u}) {
        // For a uniform hash the ratio is 1 +- a few percent; 1.3 leaves room and still
        // catches a hash that leaves bins empty or doubles them up.
        EXPECT_LT(chi_square_ratio(by_port, buckets), 1.3) << buckets << " buckets, ports";
        EXPECT_LT(chi_square_ratio(by_addr, buckets), 1.3) << buckets << " buckets, addresses";
    }
    // The high bits too (a table indexed by hash >> shift).
    std::vector<uint32_t> high;
    for (uint32_t h : by_port) {
        high.push_back(h >> 26);
    }
    EXPECT_LT(chi_square_ratio(high, 64), 1.3);
}

TEST(ClientHash, MasksToThePrefix) {
    const IpAddress a = test::ip("198.51.100.7");
    const IpAddress b = test::ip("198.51.100.200");
    const IpAddress c = test::ip("198.51.101.7");
    EXPECT_EQ(client_hash(a, 24), client_hash(b, 24));
    EXPECT_NE(client_hash(a, 24), client_hash(c, 24));
    EXPECT_EQ(client_hash(a, 23), client_hash(c, 23));
    EXPECT_NE(client_hash(a, 32), client_hash(b, 32));
    EXPECT_EQ(client_hash(a, 32), client_hash(a, 99));  // clamped to the family width
    EXPECT_EQ(client_hash(a, 0), client_hash(test::ip("1.1.1.1"), 0));
    EXPECT_EQ(client_hash(a, 32), client_hash(a.bytes(), Family::V4, 32));

    const IpAddress x = test::ip("2001:db8:1:2::1");
    const IpAddress y = test::ip("2001:db8:1:2:ffff::9");
    const IpAddress z = test::ip("2001:db8:1:3::1");
    EXPECT_EQ(client_hash(x, 64), client_hash(y, 64));
    EXPECT_NE(client_hash(x, 64), client_hash(z, 64));
    EXPECT_EQ(client_hash(x, 63), client_hash(z, 63));
    EXPECT_NE(client_hash(x, 128), client_hash(y, 128));
    EXPECT_NE(client_hash(x, 65), client_hash(y, 65));  // bit 64 differs (0x0000 vs 0xffff)
    EXPECT_EQ(client_hash(x, 128), client_hash(x, 200));
}

TEST(ClientHash, FamilyIsPartOfTheHash) {
    // 102:304:: holds the same 16 bytes as the padded IPv4 address 1.2.3.4.
    const IpAddress v4 = test::ip("1.2.3.4");
    const IpAddress v6 = IpAddress::v6_bytes(v4.bytes());  // 0102:0304:: with the same bytes
    EXPECT_NE(client_hash(v4, 128), client_hash(v6, 128));
    EXPECT_NE(client_hash(v4, 0), client_hash(v6, 0));
}

TEST(SourceHash, IsTheFullSourceAddress) {
    FlowKey k = v4_key("203.0.113.5", "10.99.0.252", 1234, 80);
    EXPECT_EQ(source_hash(k), client_hash(test::ip("203.0.113.5"), 32));
    FlowKey other_port = k;
    other_port.src_port = port_net(999);
    EXPECT_EQ(source_hash(k), source_hash(other_port));
}

}  // namespace
}  // namespace director::net
