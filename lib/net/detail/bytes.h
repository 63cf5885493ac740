// SPDX-License-Identifier: BSD-3-Clause
// Unaligned big-endian loads and stores for header fields. Frames arrive at any alignment
// (an 802.1Q tag shifts every L3 field by four bytes), so every multi-byte field is read with
// memcpy, which compiles to one plain load plus a byte swap (none on a big-endian host).
//
// Private to lib/net and its tests. Caller: any lcore; pure, noexcept.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace director::net::detail {

// Host <-> network order; the same swap serves both directions.
inline uint16_t to_be16(uint16_t v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        return __builtin_bswap16(v);
    }
    return v;
}

inline uint32_t to_be32(uint32_t v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        return __builtin_bswap32(v);
    }
    return v;
}

inline uint16_t load_be16(const uint8_t* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return to_be16(v);
}

inline uint32_t load_be32(const uint8_t* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return to_be32(v);
}

/** Loads two bytes without swapping: the field stays in network byte order. */
inline uint16_t load_ne16(const uint8_t* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store_be16(uint8_t* p, uint16_t v) noexcept {
    v = to_be16(v);
    std::memcpy(p, &v, sizeof v);
}

inline void store_be32(uint8_t* p, uint32_t v) noexcept {
    v = to_be32(v);
    std::memcpy(p, &v, sizeof v);
}

}  // namespace director::net::detail
