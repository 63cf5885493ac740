// SPDX-License-Identifier: BSD-3-Clause
// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
// Load Balancer", NSDI 2016, §3.4): a pure table builder plus the hash helpers every scheduler
// and director must agree on.
//
// Why it exists: the lookup table maps any flow or client hash to a backend so that
//  - every backend owns a share of the slots proportional to its weight,
//  - removing or adding one of N backends moves only about 1/N of the keys, and
//  - two directors (or two cores) given the same backends in the same order build byte-identical
//    tables, so they agree on a flow without sharing state (paper §3.4, Katran, IPVS `mh`).
//
// Weights follow IPVS `ip_vs_mh.c`: each backend takes `turns = weight / gcd` consecutive slots
// per round of the populate loop, with turns shifted down (`ip_vs_mh_shift_weight`) when the
// largest would exceed kMaglevMaxTurns; a nonzero weight always keeps at least one turn.
//
// Table entries are backend *positions* (uint16_t, the order of the input span), not ids, so a
// table can be shared between snapshots as long as the backend list is unchanged.
//
// Caller: maglev_build and maglev_turns on the control lcore (they allocate and loop over the
// whole table). The hash helpers, maglev_index and maglev_table_size_for are noexcept,
// allocation-free and safe on any lcore, including workers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "net/addr.h"

namespace director::lb {

/** Table size used by Katran and Envoy and the paper's default (prime). */
inline constexpr uint32_t kMaglevDefaultSize = 65537;
/** Smallest table we build (IPVS `IP_VS_MH_TAB_SIZE` choice for CONFIG_IP_VS_MH_TAB_INDEX=8). */
inline constexpr uint32_t kMaglevMinSize = 251;
/** Largest table we build (the paper's default); bigger tables cost memory and build time. */
inline constexpr uint32_t kMaglevMaxSize = 65537;
/** Slots per real when sizing automatically: paper §3.4 "M larger than 100 x N". */
inline constexpr uint32_t kMaglevSlotsPerReal = 100;
/** Cap on turns per round for one backend (IPVS keeps the max within a few bits). */
inline constexpr uint32_t kMaglevMaxTurns = 63;
/** Entry of a table built from an empty (or all-zero-weight) backend list. */
inline constexpr uint16_t kMaglevEmpty = 0xFFFF;

/** One backend as the builder sees it: a stable identity hash and a weight. */
struct MaglevBackend {
    /** Stable 64-bit identity, e.g. maglev_backend_key(addr, port). Equal keys collide. */
    uint64_t key = 0;
    /** Relative weight; 0 = no slots. */
    uint32_t weight = 0;
};

/**
 * 64-bit hash of a byte string with a seed (murmur3-style mixing of 8-byte little-endian
 * words). Deterministic on every host, so directors agree.
 *
 * Caller: any lcore. noexcept, no allocation.
 *
 * @param data  bytes to hash
 * @param len   number of bytes
 * @param seed  distinguishes independent hash functions (offset vs skip)
 * @return the hash
 */
uint64_t hash_bytes(const void* data, uint32_t len, uint64_t seed) noexcept;

/**
 * murmur3 fmix32 finaliser: a bijective 32-bit mix that spreads every input bit.
 *
 * Caller: any lcore. noexcept.
 *
 * @param x  value to mix
 * @return the mixed value
 */
constexpr uint32_t mix32(uint32_t x) noexcept {
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/**
 * Maps a 32-bit hash onto [0, size) by multiply-shift (Lemire's fast range reduction) instead
 * of a division; deterministic, so every director maps a hash to the same slot.
 *
 * Caller: any lcore. noexcept.
 *
 * @param hash  a well-mixed 32-bit hash
 * @param size  table size (> 0)
 * @return an index < size
 */
constexpr uint32_t maglev_index(uint32_t hash, uint32_t size) noexcept {
    return static_cast<uint32_t>((static_cast<uint64_t>(hash) * size) >> 32);
}

/**
 * Identity key of a real server for the permutation: its address and port, the same inputs
 * as IPVS `ip_vs_mh_permutate` (ids are not used: two directors may number reals differently).
 *
 * Caller: any lcore. noexcept.
 *
 * @param addr  real server address
 * @param port  real server port (host order; 0 when it follows the service)
 * @return the key
 */
uint64_t maglev_backend_key(const net::IpAddress& addr, uint16_t port) noexcept;

/**
 * True when n is prime (trial division; n <= a few hundred thousand on the control plane).
 *
 * @param n  candidate
 * @return whether n is prime
 */
bool is_prime(uint32_t n) noexcept;

/**
 * Turns per populate round for each backend, IPVS `ip_vs_mh_permutate` + `_shift_weight`:
 * weight / gcd(nonzero weights), shifted right until the largest is <= kMaglevMaxTurns and the
 * sum fits the table, never below 1 for a nonzero weight.
 *
 * Caller: control lcore (allocates).
 *
 * @param backends    the backends in list order
 * @param table_size  the table size the turns must fit (0 = only apply kMaglevMaxTurns)
 * @return one turn count per backend
 */
std::vector<uint32_t> maglev_turns(std::span<const MaglevBackend> backends, uint32_t table_size);

/**
 * Automatic table size: the smallest prime from {251, 509, 1021, 2039, 4093, 8191, 16381,
 * 32749, 65537} that is at least kMaglevSlotsPerReal x n_reals (paper §3.4: M > 100 N keeps
 * every share within about 1% for equal weights), capped at kMaglevMaxSize.
 *
 * The size depends on the number of configured reals only, not on weights or health, so a
 * weight change or a failed health check never changes M (which would remap every key).
 * Memory is 2 bytes per slot: 100 reals take 16381 slots (32 KiB), so 1,000 such services need
 * 32 MiB, against 128 KiB per service at a fixed 65537. With unequal weights a share is
 * accurate to about (sum of turns) / M; pass an explicit size when that matters.
 *
 * Caller: any lcore. noexcept.
 *
 * @param n_reals  number of configured reals of the service
 * @return a prime table size
 */
uint32_t maglev_table_size_for(uint32_t n_reals) noexcept;

/**
 * Fills a Maglev lookup table (paper §3.4, Pseudocode 1, with IPVS weighted turns).
 *
 * Each backend i gets offset = h1(key) mod M and skip = h2(key) mod (M-1) + 1; its preference
 * list is offset, offset+skip, ... (mod M), a permutation because M is prime. Backends take
 * turns in list order, each claiming its next free preferred slot `turns[i]` times per round,
 * until every slot is owned.
 *
 * Caller: control lcore. Allocates a scratch bitmap; O(M log M) expected.
 *
 * @param backends  backends in list order (size < 0xFFFF and < out.size())
 * @param out       the table, out.size() = M, prime; filled with backend positions, or with
 *                  kMaglevEmpty everywhere when no backend has a nonzero weight
 */
void maglev_build(std::span<const MaglevBackend> backends, std::span<uint16_t> out);

/**
 * Convenience form of maglev_build returning a new table.
 *
 * @param backends    backends in list order
 * @param table_size  prime M
 * @return the table
 */
std::vector<uint16_t> maglev_build(std::span<const MaglevBackend> backends, uint32_t table_size);

}  // namespace director::lb
