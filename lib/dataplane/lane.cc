// SPDX-License-Identifier: BSD-3-Clause
// rte_vect_get_max_simd_bitwidth, EAL's --force-max-simd-bitwidth, is experimental in 22.11.
#define ALLOW_EXPERIMENTAL_API 1

// rte_vect.h lacks the extern "C" guard in 22.11, and rte_mbuf.h includes it: first, then.
extern "C" {
#include <rte_vect.h>
}

#include <rte_prefetch.h>

#include "dataplane/lane.h"

namespace director::dp {
namespace {

// Four buckets' addresses from their indices, stored and prefetched (for write).
[[gnu::always_inline]] inline void bucket_addresses(lb::ConnTable::Prefetcher table,
                                                    detail::LaneVec<4>::U index,
                                                    lb::ConnBucket** bucket) noexcept {
    static_assert(sizeof(lb::ConnBucket) == 64);
    using P = detail::LaneVec<4>::P;
    const P at = (__builtin_convertvector(index, P) << 6) +
                 static_cast<uint64_t>(reinterpret_cast<uintptr_t>(table.buckets));
    std::memcpy(bucket, &at, sizeof at);
    for (unsigned j = 0; j < 4; ++j) {
        __builtin_prefetch(reinterpret_cast<const void*>(at[j]), 1, 3);
    }
}

// Frames go N at a time through lane_parse_vec, the next N prefetched, up to the end of the
// caller's burst; a frame it declines, and a chunk's last few, through lane_parse.
template <unsigned N>
[[gnu::always_inline]] inline unsigned lane_stage(
    const LaneStageIo& io, const LaneFilter& filter,
    lb::ConnTable::Prefetcher prefetch_bucket) noexcept {
    static_assert(N <= kLaneMaxGroup);
    rte_mbuf* const* chunk = io.chunk;
    const unsigned c = io.count;
    uint64_t* lane = io.lane;
    uint32_t* hash = io.hash;
    lb::ConnBucket** bucket = io.bucket;
    unsigned general = 0;
#if defined(DIRECTOR_LANE_VEC)
    const LaneVecFilter<N> vec_filter(filter);
    const LaneVecFilter<N>* vf = &vec_filter;
    if constexpr (N == 8) {
        asm("" : "+r"(vf));  // opaque to the compiler: LaneVecFilter says why
    }
#endif
    for (unsigned i = 0; i < c; i += N) {
        for (unsigned k = i + N; k < i + 2 * N && k < io.left; ++k) {
            rte_prefetch0(rte_pktmbuf_mtod(chunk[k], void*));
        }
        constexpr unsigned kAll = (1u << N) - 1;
#if defined(DIRECTOR_LANE_VEC)
        // The group's buckets as soon as its hashes are known, taken or not: a frame not
        // taken is rare, and its bucket is found again below. The addresses in vectors: each
        // one alone is a dozen instructions (linear hashing's compare among them).
        const auto prefetch = [&](typename detail::LaneVec<N>::U hashes) {
            const auto index = prefetch_bucket.index_of_hashes(hashes);
            if constexpr (N == 8) {
                bucket_addresses(prefetch_bucket, __builtin_shufflevector(index, index, 0, 1, 2, 3),
                                 bucket + i);
                bucket_addresses(prefetch_bucket, __builtin_shufflevector(index, index, 4, 5, 6, 7),
                                 bucket + i + 4);
            } else {
                bucket_addresses(prefetch_bucket, index, bucket + i);
            }
        };
        const unsigned taken = likely(i + N <= c)
                                   ? lane_parse_vec<N>(chunk + i, *vf, lane + i, hash + i, prefetch)
                                   : 0;
#else
        const unsigned taken = 0;
#endif
        if (likely(taken == kAll)) {
            continue;
        }
        for (unsigned k = i; k < i + N && k < c; ++k) {
            if (((taken >> (k - i)) & 1) != 0 || lane_parse(chunk[k], filter, lane[k], hash[k])) {
                bucket[k] = prefetch_bucket(hash[k]);
            } else {
                lane[k] = 0;
                ++general;
            }
        }
    }
    return general;
}

bool cpu_runs_x8() noexcept {
#if defined(DIRECTOR_LANE_VEC)
    // GCC's check covers the OS too (XGETBV: the AVX registers are saved on context switch).
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 &&
           rte_vect_get_max_simd_bitwidth() >= RTE_VECT_SIMD_256;
#else
    return false;
#endif
}

}  // namespace

unsigned lane_stage_x4(const LaneStageIo& io, const LaneFilter& filter,
                       lb::ConnTable::Prefetcher prefetch_bucket) noexcept {
    return lane_stage<4>(io, filter, prefetch_bucket);
}

#if defined(DIRECTOR_LANE_VEC)
[[gnu::target("avx2")]] unsigned lane_stage_x8(const LaneStageIo& io, const LaneFilter& filter,
                                               lb::ConnTable::Prefetcher prefetch_bucket) noexcept {
    return lane_stage<8>(io, filter, prefetch_bucket);
}
#else
unsigned lane_stage_x8(const LaneStageIo& io, const LaneFilter& filter,
                       lb::ConnTable::Prefetcher prefetch_bucket) noexcept {
    return lane_stage<4>(io, filter, prefetch_bucket);
}
#endif

unsigned lane_stage_width(LaneStage stage) noexcept { return stage == lane_stage_x8 ? 8 : 4; }

LaneStage lane_stage_for(unsigned width) noexcept {
    if ((width == 0 || width == 8) && cpu_runs_x8()) {
        return lane_stage_x8;
    }
    return lane_stage_x4;
}

}  // namespace director::dp
