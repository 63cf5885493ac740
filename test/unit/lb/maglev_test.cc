// SPDX-License-Identifier: BSD-3-Clause
// Properties of the Maglev table builder (lib/lb/maglev.cc), after Eisenbud et al. NSDI'16
// §3.4 and Katran's MaglevHashTest.
#include "lb/maglev.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace director::lb {
namespace {

std::vector<MaglevBackend> make_backends(uint32_t n, uint32_t weight = 1, uint32_t first = 0) {
    std::vector<MaglevBackend> out;
    for (uint32_t i = 0; i < n; ++i) {
        const auto addr = net::IpAddress::v4(0x0a000000u + first + i);
        out.push_back(MaglevBackend{maglev_backend_key(addr, 80), weight});
    }
    return out;
}

std::vector<uint32_t> shares(const std::vector<uint16_t>& table, size_t n) {
    std::vector<uint32_t> count(n, 0);
    for (const uint16_t e : table) {
        ++count.at(e);
    }
    return count;
}

// Fraction of slots whose owner (by identity key) differs between two tables.
double moved_fraction(const std::vector<uint16_t>& a, const std::vector<MaglevBackend>& ba,
                      const std::vector<uint16_t>& b, const std::vector<MaglevBackend>& bb) {
    size_t moved = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ba[a[i]].key != bb[b[i]].key) {
            ++moved;
        }
    }
    return static_cast<double>(moved) / static_cast<double>(a.size());
}

TEST(Maglev, EmptyBackendsGiveEmptyTable) {
    const auto table = maglev_build({}, 251);
    ASSERT_EQ(table.size(), 251u);
    EXPECT_TRUE(
        std::all_of(table.begin(), table.end(), [](uint16_t e) { return e == kMaglevEmpty; }));
}

TEST(Maglev, AllZeroWeightsGiveEmptyTable) {
    const auto table = maglev_build(make_backends(3, 0), 251);
    EXPECT_TRUE(
        std::all_of(table.begin(), table.end(), [](uint16_t e) { return e == kMaglevEmpty; }));
}

TEST(Maglev, Deterministic) {
    const auto backends = make_backends(37);
    EXPECT_EQ(maglev_build(backends, 4093), maglev_build(backends, 4093));
}

// A change detector on purpose: two directors (or two versions during an upgrade) agree on
// flows only if they build identical tables. Changing the hash seeds or the populate order
// breaks that and must be a conscious, announced decision.
TEST(Maglev, TableIsStableAcrossReleases) {
    const auto table = maglev_build(make_backends(5), 251);
    uint64_t h = 0;
    for (const uint16_t e : table) {
        h = h * 31 + e;
    }
    EXPECT_EQ(h, 0x59ac277e568b27f0ull);
}

TEST(Maglev, EveryEntryFilledWithAValidBackend) {
    for (const uint32_t n : {1u, 2u, 7u, 100u}) {
        const auto table = maglev_build(make_backends(n), 16381);
        for (const uint16_t e : table) {
            ASSERT_LT(e, n);
        }
    }
}

TEST(Maglev, EqualWeightsGiveSharesWithinOneSlot) {
    const uint32_t n = 100;
    const auto count = shares(maglev_build(make_backends(n), 16381), n);
    const auto [lo, hi] = std::minmax_element(count.begin(), count.end());
    EXPECT_LE(*hi - *lo, 1u);
}

TEST(Maglev, WeightProportionalWithinTolerance) {
    std::vector<MaglevBackend> backends = make_backends(4);
    for (uint32_t i = 0; i < 4; ++i) {
        backends[i].weight = i + 1;  // 1:2:3:4
    }
    const uint32_t m = 65537;
    const auto count = shares(maglev_build(backends, m), 4);
    for (uint32_t i = 0; i < 4; ++i) {
        const double expected = m * (i + 1) / 10.0;
        EXPECT_NEAR(count[i], expected, expected * 0.01) << "backend " << i;
    }
}

TEST(Maglev, ZeroWeightBackendGetsNoSlots) {
    std::vector<MaglevBackend> backends = make_backends(3);
    backends[1].weight = 0;
    const auto count = shares(maglev_build(backends, 509), 3);
    EXPECT_EQ(count[1], 0u);
    EXPECT_EQ(count[0] + count[2], 509u);
}

TEST(Maglev, RemovingOneBackendMovesAtMostItsShare) {
    const uint32_t n = 50;
    const uint32_t m = 8191;
    const auto before_b = make_backends(n);
    const auto before = maglev_build(before_b, m);
    for (const uint32_t removed : {0u, 17u, 49u}) {
        auto after_b = before_b;
        after_b.erase(after_b.begin() + removed);
        const auto after = maglev_build(after_b, m);
        const double moved = moved_fraction(before, before_b, after, after_b);
        // The removed backend's own 1/N must move; the paper reports little extra churn.
        EXPECT_GE(moved, 1.0 / n - 0.001);
        EXPECT_LE(moved, 1.0 / n + 0.02) << "removed " << removed;
    }
}

TEST(Maglev, AddingOneBackendMovesAtMostItsShare) {
    const uint32_t n = 50;
    const uint32_t m = 8191;
    const auto before_b = make_backends(n);
    const auto before = maglev_build(before_b, m);
    auto after_b = before_b;
    after_b.push_back(make_backends(1, 1, 1000)[0]);
    const auto after = maglev_build(after_b, m);
    const double moved = moved_fraction(before, before_b, after, after_b);
    EXPECT_GE(moved, 1.0 / (n + 1) - 0.001);
    EXPECT_LE(moved, 1.0 / (n + 1) + 0.02);
}

TEST(Maglev, TurnsFollowIpvsGcdAndShift) {
    auto backends = make_backends(3);
    backends[0].weight = 4;
    backends[1].weight = 2;
    backends[2].weight = 0;
    EXPECT_EQ(maglev_turns(backends, 0), (std::vector<uint32_t>{2, 1, 0}));
    // 1000 / 1 exceeds kMaglevMaxTurns: shifted by 4 (62), and weight 1 keeps one turn.
    backends[0].weight = 1;
    backends[1].weight = 1000;
    EXPECT_EQ(maglev_turns(backends, 0), (std::vector<uint32_t>{1, 62, 0}));
}

TEST(Maglev, TurnsShrinkToFitASmallTable) {
    auto backends = make_backends(10, 63);
    backends[0].weight = 1;
    uint32_t sum = 0;
    for (const uint32_t t : maglev_turns(backends, 251)) {
        sum += t;
    }
    EXPECT_LE(sum, 251u / 2);
}

TEST(Maglev, TableSizeIsPrimeAndGrowsWithRealCount) {
    EXPECT_EQ(maglev_table_size_for(0), 251u);
    EXPECT_EQ(maglev_table_size_for(2), 251u);
    EXPECT_EQ(maglev_table_size_for(3), 509u);
    EXPECT_EQ(maglev_table_size_for(100), 16381u);
    EXPECT_EQ(maglev_table_size_for(1000), kMaglevDefaultSize);
    for (uint32_t n = 0; n < 2000; n += 7) {
        const uint32_t m = maglev_table_size_for(n);
        EXPECT_TRUE(is_prime(m)) << m;
        EXPECT_GT(m, n);
    }
}

TEST(Maglev, IsPrimeAgreesWithKnownValues) {
    EXPECT_FALSE(is_prime(0));
    EXPECT_FALSE(is_prime(1));
    EXPECT_TRUE(is_prime(2));
    EXPECT_TRUE(is_prime(4093));
    EXPECT_TRUE(is_prime(65537));
    EXPECT_FALSE(is_prime(65535));
}

TEST(Maglev, IndexStaysInRange) {
    for (const uint32_t m : {1u, 251u, 65537u}) {
        EXPECT_LT(maglev_index(0xFFFFFFFFu, m), m);
        EXPECT_EQ(maglev_index(0, m), 0u);
    }
}

TEST(Maglev, BackendKeyDependsOnAddressAndPort) {
    const auto a = *net::IpAddress::parse("10.0.0.1");
    const auto b = *net::IpAddress::parse("10.0.0.2");
    const auto v6 = *net::IpAddress::parse("::ffff:10.0.0.1");
    EXPECT_EQ(maglev_backend_key(a, 80), maglev_backend_key(a, 80));
    EXPECT_NE(maglev_backend_key(a, 80), maglev_backend_key(a, 81));
    EXPECT_NE(maglev_backend_key(a, 80), maglev_backend_key(b, 80));
    EXPECT_NE(maglev_backend_key(a, 80), maglev_backend_key(v6, 80));
}

TEST(Maglev, HashBytesIsSeededAndLengthSensitive) {
    const uint8_t data[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    EXPECT_EQ(hash_bytes(data, 9, 1), hash_bytes(data, 9, 1));
    EXPECT_NE(hash_bytes(data, 9, 1), hash_bytes(data, 9, 2));
    EXPECT_NE(hash_bytes(data, 8, 1), hash_bytes(data, 9, 1));
}

}  // namespace
}  // namespace director::lb
