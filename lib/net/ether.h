// SPDX-License-Identifier: BSD-3-Clause
// The one write the direct-routing datapath makes to a frame: the Ethernet destination and
// source addresses (LVS DR, DPDK l2fwd's l2fwd_mac_updating). L3 and L4 bytes are untouched,
// so no checksum changes.
//
// Caller: the worker lcore that owns the mbuf, after parse_frame accepted it. Inline, noexcept.
#pragma once

#include <cstdint>
#include <cstring>

#include "net/addr.h"

namespace director::net {

/**
 * Overwrites the destination and source MAC addresses of a frame: one 12-byte copy.
 *
 * Caller: the worker lcore owning the frame. noexcept, no allocation.
 *
 * @param frame  first byte of the Ethernet header, at least 12 writable bytes (the parser has
 *               checked a full header is present)
 * @param dst    new destination: the chosen real server's MAC
 * @param src    new source: the transmitting port's MAC
 */
inline void rewrite_eth(uint8_t* frame, const MacAddress& dst, const MacAddress& src) noexcept {
    uint8_t macs[12];
    std::memcpy(macs, dst.bytes.data(), 6);
    std::memcpy(macs + 6, src.bytes.data(), 6);
    std::memcpy(frame, macs, sizeof macs);
}

}  // namespace director::net
