// SPDX-License-Identifier: BSD-3-Clause
// Cache-line size shared by every per-lcore structure. Taken from DPDK's build configuration
// (RTE_CACHE_LINE_SIZE) rather than std::hardware_destructive_interference_size, whose value is
// not ABI-stable and which GCC warns about in headers.
#pragma once

#include <cstddef>

namespace director {

inline constexpr std::size_t kCacheLine = 64;

}  // namespace director
