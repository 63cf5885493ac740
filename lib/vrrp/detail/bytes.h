// SPDX-License-Identifier: BSD-3-Clause
// Unaligned big-endian loads and stores for VRRP and IP header fields. Private to lib/vrrp
// (lib/net keeps its own copy private too). Caller: any thread; pure, noexcept.
#pragma once

#include <cstdint>

namespace director::vrrp::detail {

inline uint16_t load_be16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(uint16_t{p[0]} << 8 | p[1]);
}

inline void store_be16(uint8_t* p, uint16_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

}  // namespace director::vrrp::detail
