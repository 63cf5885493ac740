// SPDX-License-Identifier: BSD-3-Clause
// Internet checksum (RFC 1071): the 16-bit one's-complement sum used by IPv4, ICMP, TCP, UDP
// and VRRP, with the IPv4 and IPv6 pseudo-header sums their L4 checksums cover.
//
// Convention: every sum and checksum here is a *number* in network-order arithmetic, i.e. the
// bytes are read as big-endian 16-bit words. A checksum returned as uint16_t is stored in the
// frame with a big-endian store (detail::store_be16 or rte_cpu_to_be_16). Partial sums are
// uint32_t and may be chained: checksum_add(b, n, checksum_add(a, m)) sums a then b, provided
// every chunk but the last has an even length.
//
// The parser calls ipv4_header_checksum_ok per packet; the rest serves frame builders (VRRP
// adverts, GARP, ICMP replies, test fixtures). Caller: any lcore. Pure, noexcept, no allocation.
#pragma once

#include <cstdint>
#include <cstring>

#include "net/detail/bytes.h"

namespace director::net {

/**
 * Adds the bytes [data, data + len) to a running one's-complement sum (RFC 1071 4.1).
 * An odd final byte counts as the high byte of a zero-padded word.
 *
 * Caller: any lcore. noexcept.
 *
 * @param data  bytes to add; may be unaligned
 * @param len   byte count
 * @param sum   running sum from an earlier call, or 0
 * @return the new running sum, not yet folded or complemented
 */
inline uint32_t checksum_add(const uint8_t* data, uint32_t len, uint32_t sum = 0) noexcept {
    // Sum native-order 32-bit words in 64 bits, fold, then swap into network-order arithmetic:
    // the one's-complement sum is independent of word size and byte order up to that final
    // swap (RFC 1071 2(A), 2(B)).
    uint64_t acc = 0;
    while (len >= 4) {
        uint32_t w;
        std::memcpy(&w, data, sizeof w);
        acc += w;
        data += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        std::memcpy(&w, data, sizeof w);
        acc += w;
        data += 2;
        len -= 2;
    }
    if (len != 0) {
        uint16_t w = 0;
        std::memcpy(&w, data, 1);  // the pad byte is the word's second byte in memory
        acc += w;
    }
    while ((acc >> 16) != 0) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return sum + detail::to_be16(static_cast<uint16_t>(acc));
}

/**
 * Folds a running sum to 16 bits and complements it: the value for a checksum field.
 * Verifying a header whose sum includes its own checksum field yields 0 when it is correct.
 */
inline uint16_t checksum_fold(uint32_t sum) noexcept {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

/**
 * Checksum of a whole buffer: checksum_fold(checksum_add(data, len)). For ICMPv4 (RFC 792),
 * IGMP and VRRP (RFC 5798 5.2.8 over IPv4), which have no pseudo-header.
 */
inline uint16_t checksum(const uint8_t* data, uint32_t len) noexcept {
    return checksum_fold(checksum_add(data, len));
}

/**
 * Computes the IPv4 header checksum (RFC 791 3.1), treating the checksum field (bytes 10-11)
 * as zero, whatever it holds.
 *
 * @param hdr      start of the IPv4 header
 * @param hdr_len  IHL * 4, 20..60; the caller has checked it lies inside the frame
 * @return the value to store big-endian at hdr + 10
 */
inline uint16_t ipv4_header_checksum(const uint8_t* hdr, uint32_t hdr_len) noexcept {
    uint32_t sum = checksum_add(hdr, 10);
    sum = checksum_add(hdr + 12, hdr_len - 12, sum);
    return checksum_fold(sum);
}

/** An option-less IPv4 header as native words: bytes 0..7, 8..15 and 16..19. */
struct Ipv4HeaderWords {
    uint64_t a;
    uint64_t b;
    uint32_t c;
};

/** Loads the 20 bytes at `hdr` (any alignment) as Ipv4HeaderWords. */
inline Ipv4HeaderWords load_ipv4_header_words(const uint8_t* hdr) noexcept {
    Ipv4HeaderWords w;
    std::memcpy(&w.a, hdr, 8);
    std::memcpy(&w.b, hdr + 8, 8);
    std::memcpy(&w.c, hdr + 16, 4);
    return w;
}

/**
 * ipv4_header_checksum_ok of an option-less header given as its words (the parser's fast
 * path has them in registers).
 */
inline bool ipv4_header20_checksum_ok(const Ipv4HeaderWords& w) noexcept {
    // One's-complement sum of the native 8-byte words with end-around carries (add, adc),
    // folded 64 -> 32 -> 16 by adding each half to its rotation (Linux csum_fold): the high
    // half then holds the folded sum. A header whose checksum is right sums to 0xffff in
    // either byte order (RFC 1071 2(B)).
    uint64_t s = w.a + w.b;
    s += s < w.b;  // no overflow: after a carry, s <= 2^64 - 2
    s += w.c;
    s += s < w.c;
    const uint32_t x = static_cast<uint32_t>((s + (s >> 32 | s << 32)) >> 32);
    const uint32_t y = x + (x >> 16 | x << 16);
    return (y >> 16) == 0xffff;
}

/**
 * True when an IPv4 header's checksum field is correct (RFC 791 3.1, RFC 1071 1(3)).
 * The parser's per-packet check: about a dozen adds for a 20-byte header.
 *
 * @param hdr      start of the IPv4 header
 * @param hdr_len  IHL * 4, 20..60, inside the frame
 */
inline bool ipv4_header_checksum_ok(const uint8_t* hdr, uint32_t hdr_len) noexcept {
    if (hdr_len == 20) {  // no options: the common case, unrolled (rte_ipv4_cksum does the same)
        return ipv4_header20_checksum_ok(load_ipv4_header_words(hdr));
    }
    return checksum_fold(checksum_add(hdr, hdr_len)) == 0;
}

/**
 * Sum of the IPv4 pseudo-header (RFC 793 3.1 / RFC 9293 3.1, RFC 768): source, destination,
 * zero, protocol, L4 length. Continue with checksum_add over the L4 header and payload, with
 * the L4 checksum field zeroed, then checksum_fold.
 *
 * @param src     4 bytes, network order
 * @param dst     4 bytes, network order
 * @param proto   IP protocol number (6 TCP, 17 UDP)
 * @param l4_len  L4 header plus payload, in bytes
 */
inline uint32_t ipv4_pseudo_header_sum(const uint8_t* src, const uint8_t* dst, uint8_t proto,
                                       uint16_t l4_len) noexcept {
    uint32_t sum = checksum_add(src, 4);
    sum = checksum_add(dst, 4, sum);
    return sum + proto + l4_len;
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 8.1): source, final destination, upper-layer packet
 * length, three zero bytes, next header. Used for TCP, UDP and ICMPv6 (RFC 4443 2.3).
 *
 * @param src          16 bytes, network order
 * @param dst          16 bytes: the final destination (the last Routing-header address, if any)
 * @param next_header  upper-layer protocol (6, 17, 58)
 * @param l4_len       upper-layer header plus payload, in bytes
 */
inline uint32_t ipv6_pseudo_header_sum(const uint8_t* src, const uint8_t* dst, uint8_t next_header,
                                       uint32_t l4_len) noexcept {
    uint32_t sum = checksum_add(src, 16);
    sum = checksum_add(dst, 16, sum);
    return sum + (l4_len >> 16) + (l4_len & 0xffff) + next_header;
}

/**
 * Full TCP/UDP/ICMPv6 checksum over an IPv4 or IPv6 pseudo-header sum and the L4 bytes, whose
 * checksum field must read zero. A UDP result of 0 is sent as 0xffff (RFC 768); the caller
 * applies that rule, since only UDP has it.
 *
 * @param pseudo_sum  ipv4_pseudo_header_sum or ipv6_pseudo_header_sum
 * @param l4          L4 header start
 * @param l4_len      L4 header plus payload, in bytes
 */
inline uint16_t l4_checksum(uint32_t pseudo_sum, const uint8_t* l4, uint32_t l4_len) noexcept {
    return checksum_fold(checksum_add(l4, l4_len, pseudo_sum));
}

}  // namespace director::net
