// SPDX-License-Identifier: BSD-3-Clause
// The worker's fast lane, stage 1: which received frames it takes, and the 8-byte word it
// keeps of each (Worker::process_burst explains the lane). A frame is a lane frame when it
// came in on the lane's port, is addressed to that port's MAC, is IPv4 TCP or UDP that
// net::parse_fast_v4 accepts, and is not for the director's own address: exactly the frames
// for which classify() would go straight to the service lookup. Anything else takes the
// general path, which decides every case.
//
// Two ways to the same answer. lane_parse takes one frame, in scalar code. lane_parse_x4 takes
// four untagged frames of at least kLaneX4Bytes at once, across the frames (one SSE lane per
// frame, after DPDK l3fwd's processx4_step1): every check and field of lane_parse is a few
// vector instructions for all four. Stage 1 went from about 100 to about 65 instructions per
// frame (callgrind; throughput in the bench stayed within its noise: the transposes and
// register copies keep the vector unit busy). It takes exactly the frames lane_parse takes
// that are untagged and at least kLaneX4Bytes long, with the same word and hash
// (test/unit/dataplane/lane_test.cc checks both on mutated frames); a frame it declines goes
// to lane_parse, so 802.1Q tags and short frames still take the lane.
//
// Caller: the worker's lcore (inline, noexcept, no allocation); tests.
#pragma once

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "net/flow.h"
#include "net/parse.h"

#if defined(__SSSE3__) && defined(__SSE4_1__)
#include <immintrin.h>
#define DIRECTOR_LANE_X4_SSE 1
#endif

namespace director::dp {

// The lane word of one packet: bits 0..31 the IPv4 destination, 32..47 the destination port
// (both as loaded, network order), 48..55 the protocol, 56..63 the TCP flags (0 for UDP).
// Never 0, as the protocol is 6 or 17: 0 marks a general-path packet. The low 56 bits are the
// key of the burst's service memory (Worker::LastService).
inline constexpr unsigned kLaneFlagsShift = 56;
inline constexpr uint64_t kLaneKeyMask = (uint64_t{1} << kLaneFlagsShift) - 1;

[[gnu::always_inline]] inline uint64_t lane_key(uint32_t dst, uint16_t dst_port_net,
                                                uint8_t proto) noexcept {
    return uint64_t{dst} | uint64_t{dst_port_net} << 32 | uint64_t{proto} << 48;
}

/** A port number no mbuf's 16-bit port field equals: a filter that takes nothing. */
inline constexpr uint32_t kNoLanePort = 1u << 16;

/** What the lane takes: frames of one port, to its MAC, not to its own IPv4 address. */
struct LaneFilter {
    uint32_t port = kNoLanePort;  ///< rte_mbuf::port of the frames, or kNoLanePort
    uint64_t mac = 0;             ///< the port's MAC, its 6 bytes as loaded in the low 48 bits
    uint32_t own = 0;             ///< the director's IPv4 address as loaded; 0 if none
};

/**
 * IPv4 header checksum policy (net::parse_frame_fast explains why we verify at all): skip the
 * software check when the NIC verified the header (GOOD, or NONE: "header valid, checksum
 * field not recomputed", as virtio reports); check in software when the PMD gives no verdict
 * (UNKNOWN: virtual PMDs, net_pcap) or says BAD (the parser then counts Ipv4BadChecksum).
 */
[[gnu::always_inline]] inline bool needs_ipv4_checksum(const rte_mbuf* m) noexcept {
    return (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD) == 0;  // UNKNOWN (0) or BAD
}
static_assert(RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN == 0 &&
              RTE_MBUF_F_RX_IP_CKSUM_NONE ==
                  (RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_BAD));

/**
 * One frame: true, with its lane word and net::flow_hash, when the lane takes it; false
 * (nothing written) when it takes the general path.
 */
[[gnu::always_inline]] inline bool lane_parse(const rte_mbuf* m, const LaneFilter& f,
                                              uint64_t& lane, uint32_t& hash) noexcept {
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    net::FastV4 v;
    // The parser checks the length first: the MAC compare reads 8 bytes.
    if (likely(m->port == f.port &&
               net::parse_fast_v4(d, m->data_len, m->pkt_len, needs_ipv4_checksum(m), v))) {
        uint64_t w;
        std::memcpy(&w, d, 8);
        if (likely(((w ^ f.mac) << 16) == 0 && v.dst != f.own)) {
            hash = net::flow_hash_v4(v.src, v.dst, v.ports, v.proto);
            lane = lane_key(v.dst, static_cast<uint16_t>(v.ports >> 16), v.proto) |
                   uint64_t{v.tcp_flags} << kLaneFlagsShift;
            return true;
        }
    }
    return false;
}

/** Frames lane_parse_x4 takes at once. */
inline constexpr unsigned kLaneGroup = 4;

/** Frame bytes lane_parse_x4 reads: Ethernet, IPv4 without options, TCP up to its flags. */
inline constexpr uint32_t kLaneX4Bytes = 48;

#if defined(DIRECTOR_LANE_X4_SSE)
namespace detail {

/** Rows r[0..3] of 4 dwords to columns c[0..3] (c[k] holds dword k of every row). */
[[gnu::always_inline]] inline void transpose4(const __m128i r[4], __m128i c[4]) noexcept {
    const __m128i t0 = _mm_unpacklo_epi32(r[0], r[1]);
    const __m128i t1 = _mm_unpacklo_epi32(r[2], r[3]);
    const __m128i t2 = _mm_unpackhi_epi32(r[0], r[1]);
    const __m128i t3 = _mm_unpackhi_epi32(r[2], r[3]);
    c[0] = _mm_unpacklo_epi64(t0, t1);
    c[1] = _mm_unpackhi_epi64(t0, t1);
    c[2] = _mm_unpacklo_epi64(t2, t3);
    c[3] = _mm_unpackhi_epi64(t2, t3);
}

[[gnu::always_inline]] inline __m128i loadu(const void* p) noexcept {
    return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

[[gnu::always_inline]] inline __m128i dwords(uint32_t v) noexcept {
    return _mm_set1_epi32(static_cast<int>(v));
}

/** `ok` where a <= b: signed compares suffice, as every length here is 16-bit. */
[[gnu::always_inline]] inline __m128i and_not_above(__m128i ok, __m128i a, __m128i b) noexcept {
    return _mm_andnot_si128(_mm_cmpgt_epi32(a, b), ok);
}

/** The byte-swapped 16-bit field at byte `at` (0 or 2) of every dword, zero-extended. */
template <int at>
[[gnu::always_inline]] inline __m128i be16(__m128i v) noexcept {
    constexpr char z = -1;  // pshufb: a set top bit writes 0
    return _mm_shuffle_epi8(v, _mm_setr_epi8(at + 1, at, z, z, at + 5, at + 4, z, z, at + 9, at + 8,
                                             z, z, at + 13, at + 12, z, z));
}

// The rte_mbuf fields read, as dwords of two 16-byte loads per mbuf.
inline constexpr std::size_t kMbufRowA = 16;  // data_off, refcnt | nb_segs, port | ol_flags
inline constexpr std::size_t kMbufRowB = 32;  // packet_type | pkt_len | data_len, vlan_tci
static_assert(offsetof(rte_mbuf, port) == kMbufRowA + 6);
static_assert(offsetof(rte_mbuf, ol_flags) == kMbufRowA + 8);
static_assert(RTE_MBUF_F_RX_IP_CKSUM_GOOD < (uint64_t{1} << 31));
static_assert(offsetof(rte_mbuf, pkt_len) == kMbufRowB + 4);
static_assert(offsetof(rte_mbuf, data_len) == kMbufRowB + 8);

}  // namespace detail
#endif

/**
 * lane_parse of the four frames m[0..3] at once: bit j of the result set when the lane takes
 * m[j], with lane[j] and hash[j] written; for a clear bit lane[j] and hash[j] hold garbage,
 * and the caller asks lane_parse, which may still take the frame.
 */
[[gnu::always_inline]] inline unsigned lane_parse_x4(rte_mbuf* const* m, const LaneFilter& f,
                                                     uint64_t* lane, uint32_t* hash) noexcept {
#if defined(DIRECTOR_LANE_X4_SSE)
    using namespace detail;
    // rows() loads one 16-byte row of each of the four mbufs or frames and transposes them:
    // col[k] then holds dword k of the row of every frame, one frame per SSE lane.
    __m128i r[4];
    __m128i col[4];
    const auto rows = [&](const uint8_t* const* base, std::size_t at) {
        for (unsigned j = 0; j < 4; ++j) {
            r[j] = loadu(base[j] + at);
        }
        transpose4(r, col);
    };
    const __m128i lo16 = dwords(0xffff);
    // A frame shorter than the bytes read is read from an all-zero stand-in instead, which
    // fails the EtherType check below.
    alignas(16) static constexpr uint8_t kShort[kLaneX4Bytes] = {};
    const uint8_t* mb[4];
    const uint8_t* d[4];
    for (unsigned j = 0; j < 4; ++j) {
        mb[j] = reinterpret_cast<const uint8_t*>(m[j]);
        d[j] = m[j]->data_len >= kLaneX4Bytes ? rte_pktmbuf_mtod(m[j], const uint8_t*) : kShort;
    }

    // The mbuf: one segment (data_len == pkt_len).
    rows(mb, kMbufRowB);
    const __m128i data_len = _mm_and_si128(col[2], lo16);
    __m128i ok = _mm_cmpeq_epi32(col[1], data_len);
    // IPv4 (net::parse_fast_v4's terms), bytes 16..31: total length from 28 (header + UDP
    // header) up to what the link delivered; no fragment (bytes 20, 21: MF and offset 0; DF
    // may be set); TCP or UDP (byte 23).
    rows(d, 16);
    const __m128i total = be16<0>(col[0]);
    ok = _mm_and_si128(ok, _mm_cmpgt_epi32(total, dwords(27)));
    ok = and_not_above(ok, total, _mm_sub_epi32(data_len, dwords(net::kEtherHdrLen)));
    const __m128i l4_len = _mm_sub_epi32(total, dwords(20));
    const __m128i frag_proto = _mm_and_si128(col[1], dwords(0xff00ff3f));
    const __m128i tcp = _mm_cmpeq_epi32(frag_proto, dwords(uint32_t{net::kIpProtoTcp} << 24));
    const __m128i udp = _mm_cmpeq_epi32(frag_proto, dwords(uint32_t{net::kIpProtoUdp} << 24));
    // The header checksum's ten 16-bit words (bytes 14..33), summed as loaded (RFC 1071:
    // byte order does not change the verdict); folded below.
    __m128i sum = _mm_setzero_si128();
    for (unsigned k = 0; k < 4; ++k) {
        sum = _mm_add_epi32(sum,
                            _mm_add_epi32(_mm_and_si128(col[k], lo16), _mm_srli_epi32(col[k], 16)));
    }
    // Addresses (bytes 26..29, 30..33) as loaded.
    const __m128i src = _mm_or_si128(_mm_srli_epi32(col[2], 16), _mm_slli_epi32(col[3], 16));
    __m128i dst = _mm_srli_epi32(col[3], 16);
    // Ethernet, bytes 0..15: the port's MAC; EtherType IPv4 untagged (bytes 12, 13) and
    // version 4 with IHL 5 (byte 14), as loaded.
    rows(d, 0);
    ok = _mm_and_si128(ok, _mm_cmpeq_epi32(col[0], dwords(static_cast<uint32_t>(f.mac))));
    ok = _mm_and_si128(ok, _mm_cmpeq_epi32(_mm_and_si128(col[1], lo16),
                                           dwords(static_cast<uint32_t>(f.mac >> 32) & 0xffff)));
    ok = _mm_and_si128(
        ok, _mm_cmpeq_epi32(_mm_and_si128(col[3], dwords(0x00ffffff)), dwords(0x00450008)));
    sum = _mm_add_epi32(sum, _mm_srli_epi32(col[3], 16));
    // Bytes 32..47: the rest of the destination, the ports; L4 inside the IP payload: TCP's
    // header (20 bytes, data offset 5..15 words within it), UDP's length (8 up to the
    // payload).
    rows(d, 32);
    sum = _mm_add_epi32(sum, _mm_and_si128(col[0], lo16));
    dst = _mm_or_si128(dst, _mm_slli_epi32(col[0], 16));
    ok = _mm_andnot_si128(_mm_cmpeq_epi32(dst, dwords(f.own)), ok);
    const __m128i ports = _mm_or_si128(_mm_srli_epi32(col[0], 16), _mm_slli_epi32(col[1], 16));
    const __m128i dport = _mm_and_si128(col[1], lo16);
    const __m128i doff = _mm_and_si128(_mm_srli_epi32(col[3], 18), dwords(0x3c));  // byte 46
    const __m128i tcp_ok = and_not_above(
        _mm_and_si128(
            _mm_and_si128(_mm_cmpgt_epi32(l4_len, dwords(19)), _mm_cmpgt_epi32(doff, dwords(19))),
            tcp),
        doff, l4_len);
    const __m128i ulen = be16<2>(col[1]);  // bytes 38, 39
    const __m128i udp_ok =
        and_not_above(_mm_and_si128(_mm_cmpgt_epi32(ulen, dwords(7)), udp), ulen, l4_len);
    ok = _mm_and_si128(ok, _mm_or_si128(tcp_ok, udp_ok));
    const __m128i flags = _mm_and_si128(col[3], _mm_and_si128(tcp, dwords(0xff000000)));
    // The mbuf again: the lane's port; the checksum where the mbuf asks for it
    // (needs_ipv4_checksum). A right one sums to 0xffff.
    rows(mb, kMbufRowA);
    ok = _mm_and_si128(ok, _mm_cmpeq_epi32(_mm_srli_epi32(col[1], 16), dwords(f.port)));
    sum = _mm_add_epi32(_mm_and_si128(sum, lo16), _mm_srli_epi32(sum, 16));
    sum = _mm_add_epi32(_mm_and_si128(sum, lo16), _mm_srli_epi32(sum, 16));
    constexpr auto kGood = static_cast<uint32_t>(RTE_MBUF_F_RX_IP_CKSUM_GOOD);
    const __m128i verified = _mm_cmpeq_epi32(_mm_and_si128(col[2], dwords(kGood)), dwords(kGood));
    ok = _mm_and_si128(ok, _mm_or_si128(verified, _mm_cmpeq_epi32(sum, lo16)));
    const unsigned taken = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(ok)));
    if (unlikely(taken == 0)) {
        return 0;
    }
    // The lane words: dst | dport << 32 | proto << 48 | TCP flags (byte 47) << 56; a taken
    // frame's protocol is 6 or 17.
    const __m128i proto = _mm_xor_si128(
        dwords(net::kIpProtoUdp), _mm_and_si128(tcp, dwords(net::kIpProtoUdp ^ net::kIpProtoTcp)));
    const __m128i high = _mm_or_si128(_mm_or_si128(dport, _mm_slli_epi32(proto, 16)), flags);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lane), _mm_unpacklo_epi32(dst, high));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lane + 2), _mm_unpackhi_epi32(dst, high));
    // The hash's two words (net::flow_hash_v4_words), two frames per vector.
    const __m128i rest_high = _mm_or_si128(proto, dwords(net::kFlowHashV4Family >> 32));
    const __m128i addrs01 = _mm_unpacklo_epi32(src, dst);
    const __m128i addrs23 = _mm_unpackhi_epi32(src, dst);
    const __m128i rest01 = _mm_unpacklo_epi32(ports, rest_high);
    const __m128i rest23 = _mm_unpackhi_epi32(ports, rest_high);
    const auto first = [](__m128i v) { return static_cast<uint64_t>(_mm_cvtsi128_si64(v)); };
    const auto second = [](__m128i v) { return static_cast<uint64_t>(_mm_extract_epi64(v, 1)); };
    hash[0] = net::flow_hash_v4_words(first(addrs01), first(rest01));
    hash[1] = net::flow_hash_v4_words(second(addrs01), second(rest01));
    hash[2] = net::flow_hash_v4_words(first(addrs23), first(rest23));
    hash[3] = net::flow_hash_v4_words(second(addrs23), second(rest23));
    return taken;
#else
    unsigned taken = 0;
    for (unsigned j = 0; j < 4; ++j) {
        taken |= static_cast<unsigned>(lane_parse(m[j], f, lane[j], hash[j])) << j;
    }
    return taken;
#endif
}

}  // namespace director::dp
