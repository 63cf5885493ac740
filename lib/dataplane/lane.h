// SPDX-License-Identifier: BSD-3-Clause
// The worker's fast lane, stage 1: which received frames it takes, and the 8-byte word it
// keeps of each (Worker::process_burst explains the lane). A frame is a lane frame when it
// came in on the lane's port, is addressed to that port's MAC, is IPv4 TCP or UDP that
// net::parse_fast_v4 accepts, and is not for the director's own address: exactly the frames
// for which classify() would go straight to the service lookup. Anything else takes the
// general path, which decides every case.
//
// Two ways to the same answer. lane_parse takes one frame, in scalar code. lane_parse_vec
// takes N untagged frames at once, across the frames (one vector lane per frame, after DPDK
// l3fwd's processx4_step1): every check and field of lane_parse is a few vector instructions
// for all N. It is one body for both widths, in GCC's generic vectors: N = 4 in SSE registers
// (the build's baseline, corei7), N = 8 in AVX2 registers, in lane_stage_x8, which is built
// for AVX2 and chosen at run time (lane_stage_for). It takes exactly the frames lane_parse
// takes that are untagged, in a group without a frame shorter than kLaneVecBytes, with the
// same word and hash (test/unit/dataplane/lane_test.cc checks both widths on mutated frames);
// a frame it declines goes to lane_parse, so 802.1Q tags and short frames still take the
// lane.
//
// Stage 1 per frame, prefetches, hash and bucket included (callgrind, BM_Established/1000):
// 54 instructions eight at a time with AVX2, 89 four at a time. The SSE intrinsics this
// generic body replaced took 81 (65 of them parsing, where lane_parse takes about 100).
//
// Caller: the worker's lcore (inline, noexcept, no allocation); tests.
#pragma once

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lb/conn_table.h"
#include "net/flow.h"
#include "net/parse.h"

#if defined(__x86_64__) && defined(__SSE4_1__)
#include <immintrin.h>
#define DIRECTOR_LANE_VEC 1
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

/** Frame bytes lane_parse_vec reads: Ethernet, IPv4 without options, TCP up to its flags. */
inline constexpr uint32_t kLaneVecBytes = 48;

/** The widest group lane_parse_vec takes (and process_burst prefetches ahead). */
inline constexpr unsigned kLaneMaxGroup = 8;

#if defined(DIRECTOR_LANE_VEC)
namespace detail {

// GCC's generic vectors: one body for both widths, which the compiler maps to SSE registers
// (4 frames) or, in a function built for AVX2, to AVX2 registers (8 frames). Operators work
// lane-wise; a comparison gives -1 or 0 in each lane.
template <unsigned N>
struct LaneVec;
template <>
struct LaneVec<4> {
    typedef uint32_t U __attribute__((vector_size(16)));
    typedef int32_t S __attribute__((vector_size(16)));
    typedef uint64_t P __attribute__((vector_size(32)));  ///< 4 addresses
};
template <>
struct LaneVec<8> {
    typedef uint32_t U __attribute__((vector_size(32)));
    typedef int32_t S __attribute__((vector_size(32)));
};
typedef uint32_t U4 __attribute__((vector_size(16)));

[[gnu::always_inline]] inline U4 load16(const uint8_t* p) noexcept {
    U4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
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

/**
 * A LaneFilter and lane_parse_vec's constants, as vectors of N lanes, built once per chunk.
 * For N = 8, lane_stage hands it over through an opaque pointer, so lane_parse_vec reads them
 * from memory as operands: GCC 12 otherwise rebuilds each AVX2 constant from a general register
 * inside the loop (three instructions) once the loop runs out of vector registers, as this one
 * does. SSE constants it reads from memory anyway, and better where it sees them (N = 4).
 */
template <unsigned N>
struct LaneVecFilter {
    using U = typename detail::LaneVec<N>::U;
    [[gnu::always_inline]] static U all(uint32_t v) noexcept {  // copies: one broadcast
        if constexpr (N == 8) {
            return U{v, v, v, v, v, v, v, v};
        } else {
            return U{v, v, v, v};
        }
    }
    [[gnu::always_inline]] explicit LaneVecFilter(const LaneFilter& f) noexcept
        : mac_lo(all(static_cast<uint32_t>(f.mac))),
          mac_hi(all(static_cast<uint32_t>(f.mac >> 32) & 0xffff)),
          own(all(f.own)),
          port(all(f.port)) {}
    U mac_lo;  ///< the port's MAC, bytes 0..3 as loaded
    U mac_hi;  ///< bytes 4, 5
    U own;
    U port;
    U min_frame = all(kLaneVecBytes);
    U lo16 = all(0xffff);
    U max_total_short = all(27);  ///< IPv4 total length below IPv4 + UDP headers
    U ether = all(net::kEtherHdrLen);
    U ipv4 = all(20);
    U frag_proto = all(0xff00ff3f);  ///< bytes 20..23: MF, fragment offset, protocol
    U tcp = all(uint32_t{net::kIpProtoTcp} << 24);
    U udp = all(uint32_t{net::kIpProtoUdp} << 24);
    U low3 = all(0x00ffffff);
    U ether_ipv4 = all(0x00450008);  ///< bytes 12..14: EtherType IPv4, version 4, IHL 5
    U doff = all(0x3c);
    U max_tcp_short = all(19);
    U max_udp_short = all(7);
    U top8 = all(0xff000000);
    U cksum_good = all(static_cast<uint32_t>(RTE_MBUF_F_RX_IP_CKSUM_GOOD));
    U proto_tcp_udp = all(net::kIpProtoUdp ^ net::kIpProtoTcp);
    U proto_udp = all(net::kIpProtoUdp);
    U family = all(static_cast<uint32_t>(net::kFlowHashV4Family >> 32));
};

/**
 * lane_parse of the N (4 or 8) frames m[0..N-1] at once: bit j of the result set when the lane
 * takes m[j], with lane[j] and hash[j] written; for a clear bit lane[j] and hash[j] hold
 * garbage, and the caller asks lane_parse, which may still take the frame. on_hashes(v) is
 * called with the N hashes (net::flow_hash, never 0) in a vector, taken or not.
 *
 * N = 8 needs a caller built for AVX2 (lane_stage_x8): the __builtin_ia32_* of its branches
 * are AVX2 instructions, where generic code would take more (a movemask in two halves; a
 * separate load for vinserti128's half).
 */
template <unsigned N, class OnHashes>
[[gnu::always_inline]] inline unsigned lane_parse_vec(rte_mbuf* const* m, const LaneVecFilter<N>& k,
                                                      uint64_t* lane, uint32_t* hash,
                                                      OnHashes&& on_hashes) noexcept {
    static_assert(N == 4 || N == 8);
    using U = typename detail::LaneVec<N>::U;
    using S = typename detail::LaneVec<N>::S;
    using detail::load16;
    // Comparisons, as masks of U. Signed compares suffice for gt: every length is 16-bit.
    const auto eq = [](U a, U b) { return reinterpret_cast<U>(a == b); };
    const auto gt = [](U a, U b) {
        return reinterpret_cast<U>(reinterpret_cast<S>(a) > reinterpret_cast<S>(b));
    };
    // Bit j set where lane j of a mask is set.
    const auto movemask = [](U v) {
        if constexpr (N == 8) {
            return static_cast<unsigned>(__builtin_ia32_movmskps256(reinterpret_cast<__v8sf>(v)));
        } else {
            return static_cast<unsigned>(_mm_movemask_ps(reinterpret_cast<__m128>(v)));
        }
    };
    // The byte-swapped 16-bit field at byte `at` (0 or 2) of every lane, zero-extended: one
    // pshufb.
    const auto be16 = [](U v, auto at_constant) {
        constexpr char at = decltype(at_constant)::value;
        constexpr char z = -1;  // pshufb: a set top bit writes 0
        typedef char B16 __attribute__((vector_size(16)));
        constexpr B16 pick{at + 1, at,     z, z, at + 5,  at + 4,  z, z,
                           at + 9, at + 8, z, z, at + 13, at + 12, z, z};
        if constexpr (N == 8) {
            typedef char B32 __attribute__((vector_size(32)));
            return reinterpret_cast<U>(__builtin_ia32_pshufb256(
                reinterpret_cast<B32>(v),
                __builtin_shufflevector(pick, pick, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                        14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                        15)));
        } else {
            return reinterpret_cast<U>(__builtin_ia32_pshufb128(reinterpret_cast<B16>(v), pick));
        }
    };
    // rows() loads one 16-byte row of each of the N mbufs or frames and transposes them:
    // col[k] then holds dword k of the row of every frame, one frame per vector lane. With 8,
    // frame j's row goes into the low half and frame j + 4's into the high half, and each half
    // is transposed on its own (AVX2 unpacks work within halves): lanes stay in frame order.
    U col[4];
    const auto rows = [&](const uint8_t* const* base, std::size_t at) {
        U r[4];
        for (unsigned j = 0; j < 4; ++j) {
            if constexpr (N == 8) {  // vinserti128 takes the high half straight from memory
                r[j] = reinterpret_cast<U>(__builtin_ia32_insert128i256(
                    reinterpret_cast<__v4di>(
                        __builtin_ia32_si256_si(reinterpret_cast<__v4si>(load16(base[j] + at)))),
                    reinterpret_cast<__v2di>(load16(base[j + 4] + at)), 1));
            } else {
                r[j] = load16(base[j] + at);
            }
        }
        U t[4];
        if constexpr (N == 8) {
            t[0] = __builtin_shufflevector(r[0], r[1], 0, 8, 1, 9, 4, 12, 5, 13);
            t[1] = __builtin_shufflevector(r[2], r[3], 0, 8, 1, 9, 4, 12, 5, 13);
            t[2] = __builtin_shufflevector(r[0], r[1], 2, 10, 3, 11, 6, 14, 7, 15);
            t[3] = __builtin_shufflevector(r[2], r[3], 2, 10, 3, 11, 6, 14, 7, 15);
            col[0] = __builtin_shufflevector(t[0], t[1], 0, 1, 8, 9, 4, 5, 12, 13);
            col[1] = __builtin_shufflevector(t[0], t[1], 2, 3, 10, 11, 6, 7, 14, 15);
            col[2] = __builtin_shufflevector(t[2], t[3], 0, 1, 8, 9, 4, 5, 12, 13);
            col[3] = __builtin_shufflevector(t[2], t[3], 2, 3, 10, 11, 6, 7, 14, 15);
        } else {
            t[0] = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5);
            t[1] = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
            t[2] = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
            t[3] = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
            col[0] = __builtin_shufflevector(t[0], t[1], 0, 1, 4, 5);
            col[1] = __builtin_shufflevector(t[0], t[1], 2, 3, 6, 7);
            col[2] = __builtin_shufflevector(t[2], t[3], 0, 1, 4, 5);
            col[3] = __builtin_shufflevector(t[2], t[3], 2, 3, 6, 7);
        }
    };
    // The 64-bit words (a[j] | b[j] << 32) of every frame, in frame order.
    const auto interleave = [](U a, U b, uint64_t* out) {
        if constexpr (N == 8) {
            const U w0 = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
            const U w1 = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
            std::memcpy(out, &w0, sizeof w0);
            std::memcpy(out + 4, &w1, sizeof w1);
        } else {
            const U w0 = __builtin_shufflevector(a, b, 0, 4, 1, 5);
            const U w1 = __builtin_shufflevector(a, b, 2, 6, 3, 7);
            std::memcpy(out, &w0, sizeof w0);
            std::memcpy(out + 2, &w1, sizeof w1);
        }
    };
    const uint8_t* mb[N];
    for (unsigned j = 0; j < N; ++j) {
        mb[j] = reinterpret_cast<const uint8_t*>(m[j]);
    }
    // The mbuf: one segment (data_len == pkt_len). A group with a frame shorter than the
    // bytes read is left to lane_parse whole (no Ethernet frame on a wire is: 64 bytes at
    // least, 60 without the FCS), so that the frames' pointers need no check each.
    rows(mb, detail::kMbufRowB);
    const U data_len = col[2] & k.lo16;
    if (unlikely(movemask(gt(k.min_frame, data_len)) != 0)) {
        return 0;
    }
    U ok = eq(col[1], data_len);
    // The lane's port; whether the NIC verified the IPv4 checksum (needs_ipv4_checksum). The
    // mbufs' rows first: their pointers are then done with.
    rows(mb, detail::kMbufRowA);
    ok &= eq(col[1] >> 16, k.port);
    const U verified = eq(col[2] & k.cksum_good, k.cksum_good);
    const uint8_t* d[N];
    for (unsigned j = 0; j < N; ++j) {
        d[j] = rte_pktmbuf_mtod(m[j], const uint8_t*);
    }
    // IPv4 (net::parse_fast_v4's terms), bytes 16..31: total length from 28 (header + UDP
    // header) up to what the link delivered; no fragment (bytes 20, 21: MF and offset 0; DF
    // may be set); TCP or UDP (byte 23).
    rows(d, 16);
    const U total = be16(col[0], std::integral_constant<char, 0>{});  // bytes 16, 17
    ok &= gt(total, k.max_total_short) & ~gt(total, data_len - k.ether);
    const U l4_len = total - k.ipv4;
    const U frag_proto = col[1] & k.frag_proto;
    const U tcp = eq(frag_proto, k.tcp);
    const U udp = eq(frag_proto, k.udp);
    // The header checksum's ten 16-bit words (bytes 14..33), summed as loaded (RFC 1071:
    // byte order does not change the verdict); folded below.
    U sum = U{};
    for (unsigned j = 0; j < 4; ++j) {
        sum += (col[j] & k.lo16) + (col[j] >> 16);
    }
    // Addresses (bytes 26..29, 30..33) as loaded.
    const U src = col[2] >> 16 | col[3] << 16;
    U dst = col[3] >> 16;
    // Ethernet, bytes 0..15: the port's MAC; EtherType IPv4 untagged (bytes 12, 13) and
    // version 4 with IHL 5 (byte 14), as loaded.
    rows(d, 0);
    ok &= eq(col[0], k.mac_lo);
    ok &= eq(col[1] & k.lo16, k.mac_hi);
    ok &= eq(col[3] & k.low3, k.ether_ipv4);
    sum += col[3] >> 16;
    // Bytes 32..47: the rest of the destination, the ports; L4 inside the IP payload: TCP's
    // header (20 bytes, data offset 5..15 words within it), UDP's length (8 up to the
    // payload).
    rows(d, 32);
    sum += col[0] & k.lo16;
    dst |= col[0] << 16;
    ok &= ~eq(dst, k.own);
    const U ports = col[0] >> 16 | col[1] << 16;
    const U dport = col[1] & k.lo16;
    const U doff = col[3] >> 18 & k.doff;                            // byte 46
    const U ulen = be16(col[1], std::integral_constant<char, 2>{});  // bytes 38, 39
    const U tcp_ok =
        tcp & gt(l4_len, k.max_tcp_short) & gt(doff, k.max_tcp_short) & ~gt(doff, l4_len);
    const U udp_ok = udp & gt(ulen, k.max_udp_short) & ~gt(ulen, l4_len);
    ok &= tcp_ok | udp_ok;
    const U flags = col[3] & tcp & k.top8;
    // The checksum, where the mbuf asks for it. A right one sums to 0xffff.
    sum = (sum & k.lo16) + (sum >> 16);
    sum = (sum & k.lo16) + (sum >> 16);
    ok &= verified | eq(sum, k.lo16);
    const unsigned taken = movemask(ok);
    if (unlikely(taken == 0)) {
        return 0;
    }
    // The lane words: dst | dport << 32 | proto << 48 | TCP flags (byte 47) << 56; a taken
    // frame's protocol is 6 or 17.
    const U proto = (tcp & k.proto_tcp_udp) ^ k.proto_udp;
    interleave(dst, dport | proto << 16 | flags, lane);
    // The hash's two words (net::flow_crc_v4_words), stored, and read back by the crc32
    // instructions as operands: kept in registers instead (the compiler's choice for a plain
    // local), each word costs an extract.
    alignas(32) uint64_t w[2 * N];
    interleave(src, dst, w);
    interleave(ports, proto | k.family, w + N);
    asm("" : : "r"(w) : "memory");  // the compiler forgets the values stored: reads them back
    U hashes;
    for (unsigned j = 0; j < N; ++j) {
        hashes[j] = net::flow_crc_v4_words(w[j], w[N + j]);
    }
    hashes -= reinterpret_cast<U>(hashes == 0);  // net::flow_hash_nonzero: -1 where 0
    std::memcpy(hash, &hashes, sizeof hashes);
    on_hashes(hashes);
    return taken;
}
#endif

/**
 * Stage 1 of one chunk of a burst (Worker::process_burst): each frame's lane word, hash and
 * connection-table bucket (prefetched), or lane word 0 for a frame of the general path.
 */
struct LaneStageIo {
    rte_mbuf* const* chunk;
    unsigned count;  ///< frames in the chunk
    unsigned left;   ///< frames from chunk[0] to the end of the burst (prefetched ahead)
    uint64_t* lane;
    uint32_t* hash;
    lb::ConnBucket** bucket;
};

/** Stage 1 of a chunk; returns how many of its frames take the general path. */
using LaneStage = unsigned (*)(const LaneStageIo& io, const LaneFilter& filter,
                               lb::ConnTable::Prefetcher prefetch_bucket) noexcept;

/** Stage 1 with lane_parse_vec<4> (SSE4.1, the build's baseline), or lane_parse alone. */
unsigned lane_stage_x4(const LaneStageIo& io, const LaneFilter& filter,
                       lb::ConnTable::Prefetcher prefetch_bucket) noexcept;
/** Stage 1 with lane_parse_vec<8>, built for AVX2: only where the CPU has it. */
unsigned lane_stage_x8(const LaneStageIo& io, const LaneFilter& filter,
                       lb::ConnTable::Prefetcher prefetch_bucket) noexcept;

/**
 * The stage of `width` frames at a time (4 or 8); 0 picks the widest this CPU runs and EAL
 * allows (rte_vect_get_max_simd_bitwidth: `--force-max-simd-bitwidth=128` keeps 4). A width the
 * CPU lacks falls back to 4.
 */
LaneStage lane_stage_for(unsigned width) noexcept;

/** Frames `stage` takes at once: 8 for lane_stage_x8 (where the CPU has AVX2), else 4. */
unsigned lane_stage_width(LaneStage stage) noexcept;

}  // namespace director::dp
