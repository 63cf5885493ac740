// SPDX-License-Identifier: BSD-3-Clause
// FlowKey: the 5-tuple (plus address family) that identifies a connection, and the hashes the
// load balancer computes from it: flow_hash for the per-lcore connection table and Maglev,
// client_hash for source-hashing schedulers (sh, mh) and persistence by client prefix.
//
// Why CRC32-C (rte_hash_crc): one crc32 instruction per 8 bytes on x86-64 with SSE4.2 and on
// arm64, the same function as rte_hash's default, and a *defined* function: DPDK's software
// fallback returns the same values, so two directors (or two cores) compute the same hash for
// the same flow, which the design relies on for agreement without shared state. There is no
// final mixing step: CRC already spreads sequential ports and addresses evenly over the low
// bits that `hash % table_size` and `hash & mask` use (flow_test checks the distribution).
//
// The hashes are directional on purpose: in direct-routing mode the director sees only the
// client-to-VIP direction, so there is no reverse packet to match.
//
// Caller: any lcore. Everything here is inline, noexcept and allocation-free.
#pragma once

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "net/addr.h"

namespace director::net {

/**
 * A connection's identity as the director sees it. POD, 40 bytes, no implicit padding: an
 * IPv4 address fills bytes [0, 4) and the remaining 12 bytes are zero, as in IpAddress, so
 * keys compare and hash as plain bytes. Value-initialise (`FlowKey{}`) before filling it.
 */
struct FlowKey {
    std::array<uint8_t, 16> src_addr{};  ///< network byte order
    std::array<uint8_t, 16> dst_addr{};  ///< network byte order
    uint16_t src_port = 0;  ///< network byte order; 0 without ports (ICMP, non-first fragment)
    uint16_t dst_port = 0;  ///< network byte order; 0 without ports
    uint8_t proto = 0;      ///< IP protocol / IPv6 upper-layer next header (6, 17, 1, 58, ...)
    Family family{};        ///< V4 or V6; 0 in a key the parser did not fill
    uint8_t reserved[2] = {0, 0};  ///< always zero: part of the hashed bytes

    friend bool operator==(const FlowKey&, const FlowKey&) = default;
};
static_assert(sizeof(FlowKey) == 40, "an IPv6 FlowKey is hashed as five 8-byte words");
static_assert(offsetof(FlowKey, dst_port) == offsetof(FlowKey, src_port) + 2);

/** Host-order view of a network-order port field. */
inline uint16_t port_host(uint16_t network_order) noexcept {
    return rte_be_to_cpu_16(network_order);
}

/** Network-order port field from a host-order number, for building keys in tests and config. */
inline uint16_t port_net(uint16_t host_order) noexcept { return rte_cpu_to_be_16(host_order); }

/** The same flow seen from the other end: addresses and ports swapped. */
inline FlowKey reversed(const FlowKey& k) noexcept {
    FlowKey r = k;
    r.src_addr = k.dst_addr;
    r.dst_addr = k.src_addr;
    r.src_port = k.dst_port;
    r.dst_port = k.src_port;
    return r;
}

/**
 * One CRC32-C step over 8 bytes, the same function as rte_hash_crc_8byte. Where the compiler
 * may assume SSE4.2 (the datapath's -march baseline) it is the crc32 instruction itself:
 * rte_hash_crc_8byte reads a run-time algorithm flag and branches on it twice per call, which
 * was a tenth of the per-packet instructions spent hashing. Elsewhere it is DPDK's function.
 */
inline uint32_t crc32c_u64(uint64_t data, uint32_t init) noexcept {
#if defined(__SSE4_2__) && defined(__x86_64__)
    return static_cast<uint32_t>(__builtin_ia32_crc32di(init, data));
#else
    return rte_hash_crc_8byte(data, init);
#endif
}

/** One CRC32-C step over 4 bytes, the same function as rte_hash_crc_4byte (see crc32c_u64). */
inline uint32_t crc32c_u32(uint32_t data, uint32_t init) noexcept {
#if defined(__SSE4_2__)
    return __builtin_ia32_crc32si(init, data);
#else
    return rte_hash_crc_4byte(data, init);
#endif
}

/** Default seed for flow_hash and client_hash. Both directors must use the same seed. */
inline constexpr uint32_t kFlowHashSeed = 0x9e3779b9u;

/** The family byte of flow_hash_v4's second word, in place. */
inline constexpr uint64_t kFlowHashV4Family = uint64_t{static_cast<uint8_t>(Family::V4)} << 40;

/**
 * A flow hash is never 0: the connection table keeps 0 for an empty slot, and a hash that is
 * never 0 needs no remapping on the table's per-packet path. CRC32-C's 0 becomes 1.
 */
constexpr uint32_t flow_hash_nonzero(uint32_t crc) noexcept {
    return crc + static_cast<uint32_t>(crc == 0);
}

/**
 * The CRC32-C of flow_hash_v4's two words already built, before flow_hash_nonzero: `addrs` =
 * src | dst << 32, `rest` = ports | proto << 32 | kFlowHashV4Family. The fast lane's stage 1
 * builds the words in vectors and makes the hashes nonzero in a vector too.
 */
inline uint32_t flow_crc_v4_words(uint64_t addrs, uint64_t rest,
                                  uint32_t seed = kFlowHashSeed) noexcept {
#if defined(__SSE4_2__) && defined(__x86_64__)
    // The 64-bit crc32 leaves its upper half 0: chained in 64 bits, no zero-extension between.
    return static_cast<uint32_t>(__builtin_ia32_crc32di(__builtin_ia32_crc32di(seed, addrs), rest));
#else
    return crc32c_u64(rest, crc32c_u64(addrs, seed));
#endif
}

/** flow_hash_v4 of its two words already built (flow_crc_v4_words, made nonzero). */
inline uint32_t flow_hash_v4_words(uint64_t addrs, uint64_t rest,
                                   uint32_t seed = kFlowHashSeed) noexcept {
    return flow_hash_nonzero(flow_crc_v4_words(addrs, rest, seed));
}

/**
 * Hash of an IPv4 flow from its fields: CRC32-C, with `seed` as the initial value and no final
 * inversion (rte_hash_crc's convention), of two 8-byte words: the source and destination
 * address as they sit in the header, then the two ports, the protocol and the family (4); 0
 * becomes 1 (flow_hash_nonzero).
 * Two crc32 steps: the hash is on the chain from packet bytes to the connection table's
 * prefetch, so its latency counts. The parser's fast path calls this with the fields in
 * registers; reading a key back right after storing it field by field stalls on
 * store-to-load forwarding (narrow stores, wide loads: a third of the per-packet time).
 *
 * @param src, dst  the addresses' 4 bytes as loaded from the header (memcpy, network order)
 * @param ports     the 4 bytes of source and destination port as loaded from the L4 header
 */
inline uint32_t flow_hash_v4(uint32_t src, uint32_t dst, uint32_t ports, uint8_t proto,
                             uint32_t seed = kFlowHashSeed) noexcept {
    static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "the words below are little-endian");
    const uint64_t addrs = uint64_t{src} | uint64_t{dst} << 32;
    return flow_hash_v4_words(addrs, uint64_t{ports} | uint64_t{proto} << 32 | kFlowHashV4Family,
                              seed);
}

/**
 * Hash of a flow key: for IPv4 flow_hash_v4 of its fields; otherwise CRC32-C (as above) of all
 * 40 bytes of the key as five 8-byte words.
 *
 * Caller: any lcore. noexcept, 2 (IPv4) or 5 crc32 instructions.
 *
 * @param key   a key whose padding and unused address bytes are zero (the parser's are)
 * @param seed  kFlowHashSeed unless the caller needs independent hash functions
 * @return the hash, never 0 (flow_hash_nonzero)
 */
inline uint32_t flow_hash(const FlowKey& key, uint32_t seed = kFlowHashSeed) noexcept {
    if (key.family == Family::V4) {
        uint32_t src;
        uint32_t dst;
        uint32_t ports;
        std::memcpy(&src, key.src_addr.data(), 4);
        std::memcpy(&dst, key.dst_addr.data(), 4);
        std::memcpy(&ports, &key.src_port, 4);  // src_port, dst_port: adjacent, as on the wire
        return flow_hash_v4(src, dst, ports, key.proto, seed);
    }
    uint64_t w[5];
    std::memcpy(w, &key, sizeof w);
    uint32_t h = seed;
    for (uint64_t word : w) {
        h = crc32c_u64(word, h);
    }
    return flow_hash_nonzero(h);
}

/**
 * Hash of a client address masked to its first `prefix_len` bits, so that every client in a
 * prefix hashes alike: the source-hash (sh/mh) schedulers and persistence granularity (IPVS's
 * persistent netmask). The family is hashed too, so 1.2.3.4 and ::102:304 differ.
 *
 * Caller: any lcore. noexcept, branch-free apart from the clamp.
 *
 * @param addr        16 bytes in network order (IPv4 in the first 4, the rest zero)
 * @param family      the address family
 * @param prefix_len  leading bits kept; values above the family width (32 or 128) keep all
 * @param seed        kFlowHashSeed unless the caller needs an independent hash
 */
inline uint32_t client_hash(const uint8_t* addr, Family family, unsigned prefix_len,
                            uint32_t seed = kFlowHashSeed) noexcept {
    const unsigned width = family == Family::V4 ? 32u : 128u;
    const unsigned bits = prefix_len < width ? prefix_len : width;
    uint64_t hi;
    uint64_t lo;
    std::memcpy(&hi, addr, 8);
    std::memcpy(&lo, addr + 8, 8);
    // Masks for the leading `bits` bits of the big-endian 128-bit value, built in host order
    // and swapped so they line up with the bytes in memory.
    const uint64_t hi_mask = bits >= 64 ? ~0ull : (bits == 0 ? 0ull : ~0ull << (64 - bits));
    const uint64_t lo_mask = bits <= 64 ? 0ull : (bits >= 128 ? ~0ull : ~0ull << (128 - bits));
    hi &= rte_cpu_to_be_64(hi_mask);
    lo &= rte_cpu_to_be_64(lo_mask);
    uint32_t h = crc32c_u32(static_cast<uint32_t>(family), seed);
    h = crc32c_u64(hi, h);
    return crc32c_u64(lo, h);
}

/** client_hash over an IpAddress; see the byte overload. */
inline uint32_t client_hash(const IpAddress& addr, unsigned prefix_len,
                            uint32_t seed = kFlowHashSeed) noexcept {
    return client_hash(addr.bytes(), addr.family(), prefix_len, seed);
}

/** Hash of the whole source address of a flow: the sh/mh scheduler key. */
inline uint32_t source_hash(const FlowKey& key, uint32_t seed = kFlowHashSeed) noexcept {
    return client_hash(key.src_addr.data(), key.family, 128, seed);
}

}  // namespace director::net
