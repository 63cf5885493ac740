// SPDX-License-Identifier: BSD-3-Clause
#include "lb/maglev.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <numeric>

namespace director::lb {

namespace {

// Seeds of the two independent permutation hashes (paper §3.4: h1 -> offset, h2 -> skip).
// Fixed forever: changing them remaps every key on every director.
constexpr uint64_t kOffsetSeed = 0x6d61676c65762d31ull;  // "maglev-1"
constexpr uint64_t kSkipSeed = 0x6d61676c65762d32ull;    // "maglev-2"

constexpr uint64_t fmix64(uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

constexpr std::array<uint32_t, 9> kPrimeSizes = {251,  509,   1021,  2039, 4093,
                                                 8191, 16381, 32749, 65537};

}  // namespace

uint64_t hash_bytes(const void* data, uint32_t len, uint64_t seed) noexcept {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = seed ^ (static_cast<uint64_t>(len) * 0x9e3779b97f4a7c15ull);
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        if constexpr (std::endian::native == std::endian::big) {
            w = __builtin_bswap64(w);  // words are little-endian on every host
        }
        h = fmix64(h ^ w) * 0x9e3779b97f4a7c15ull;
    }
    uint64_t tail = 0;
    for (unsigned b = 0; i < len; ++i, ++b) {
        tail |= static_cast<uint64_t>(p[i]) << (8 * b);
    }
    return fmix64(h ^ tail ^ 0x2545f4914f6cdd1dull);
}

uint64_t maglev_backend_key(const net::IpAddress& addr, uint16_t port) noexcept {
    uint8_t buf[19];
    buf[0] = static_cast<uint8_t>(addr.family());
    std::memcpy(buf + 1, addr.bytes(), 16);
    buf[17] = static_cast<uint8_t>(port >> 8);
    buf[18] = static_cast<uint8_t>(port);
    return hash_bytes(buf, sizeof(buf), 0);
}

bool is_prime(uint32_t n) noexcept {
    if (n < 2) {
        return false;
    }
    for (uint32_t d = 2; static_cast<uint64_t>(d) * d <= n; ++d) {
        if (n % d == 0) {
            return false;
        }
    }
    return true;
}

std::vector<uint32_t> maglev_turns(std::span<const MaglevBackend> backends, uint32_t table_size) {
    std::vector<uint32_t> turns(backends.size(), 0);
    uint32_t g = 0;
    uint32_t max_w = 0;
    for (const MaglevBackend& b : backends) {
        if (b.weight > 0) {
            g = std::gcd(g, b.weight);
            max_w = std::max(max_w, b.weight);
        }
    }
    if (g == 0) {
        return turns;
    }
    // ip_vs_mh_shift_weight: shift so that the largest turn count stays small; here the cap is
    // kMaglevMaxTurns, and the shift grows further while the turns of one round would not fit
    // in half the table (only possible with an explicit, small table size).
    unsigned shift = 0;
    while (((max_w / g) >> shift) > kMaglevMaxTurns) {
        ++shift;
    }
    for (;; ++shift) {
        uint64_t sum = 0;
        for (size_t i = 0; i < backends.size(); ++i) {
            const uint32_t w = backends[i].weight;
            const uint32_t t = (w / g) >> shift;
            turns[i] = (t != 0 || w == 0) ? t : 1;  // ip_vs_mh_permutate: "?: (lw != 0)"
            sum += turns[i];
        }
        if (table_size == 0 || sum <= table_size / 2 || shift >= 31) {
            break;
        }
    }
    return turns;
}

uint32_t maglev_table_size_for(uint32_t n_reals) noexcept {
    const uint64_t want = static_cast<uint64_t>(n_reals) * kMaglevSlotsPerReal;
    for (const uint32_t p : kPrimeSizes) {
        if (p >= want) {
            return p;
        }
    }
    return kMaglevMaxSize;
}

void maglev_build(std::span<const MaglevBackend> backends, std::span<uint16_t> out) {
    std::fill(out.begin(), out.end(), kMaglevEmpty);
    const auto m = static_cast<uint32_t>(out.size());
    if (m == 0) {
        return;
    }
    const std::vector<uint32_t> turns = maglev_turns(backends, m);
    struct Cursor {
        uint32_t perm;  // current preferred slot (IPVS ds->perm)
        uint32_t skip;
    };
    std::vector<Cursor> cur(backends.size());
    bool any = false;
    for (size_t i = 0; i < backends.size(); ++i) {
        // Paper §3.4: offset = h1(name) mod M, skip = h2(name) mod (M - 1) + 1.
        cur[i].perm = static_cast<uint32_t>(fmix64(backends[i].key ^ kOffsetSeed) % m);
        cur[i].skip =
            m > 1 ? static_cast<uint32_t>(fmix64(backends[i].key ^ kSkipSeed) % (m - 1)) + 1 : 1;
        any = any || turns[i] > 0;
    }
    if (!any) {
        return;
    }
    // Pseudocode 1 with IPVS ip_vs_mh_populate's turns: backend i claims its next free
    // preferred slot turns[i] times in a row, then the next backend; rounds repeat until full.
    uint32_t filled = 0;
    while (true) {
        for (size_t i = 0; i < backends.size(); ++i) {
            for (uint32_t t = 0; t < turns[i]; ++t) {
                uint32_t c = cur[i].perm;
                const uint32_t skip = cur[i].skip;
                while (out[c] != kMaglevEmpty) {
                    // (c + skip) mod M without a branch: the wrap is unpredictable and a
                    // mispredict per probe tripled the build time.
                    c += skip;
                    c -= m & (0u - static_cast<uint32_t>(c >= m));
                }
                cur[i].perm = c;
                out[c] = static_cast<uint16_t>(i);
                if (++filled == m) {
                    return;
                }
            }
        }
    }
}

std::vector<uint16_t> maglev_build(std::span<const MaglevBackend> backends, uint32_t table_size) {
    std::vector<uint16_t> table(table_size);
    maglev_build(backends, table);
    return table;
}

}  // namespace director::lb
