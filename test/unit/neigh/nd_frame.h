// SPDX-License-Identifier: BSD-3-Clause
// Test helper: NS / NA frames described field by field and built with the fixture
// PacketBuilder (which computes lengths and the ICMPv6 checksum), independently of the
// builders under test, so that each malformed variant is broken in exactly one way.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fixtures/packet_builder.h"
#include "neigh/frames.h"
#include "neigh/nd.h"
#include "net/parse.h"

namespace director::neigh::fixture {

inline constexpr const char* kDirectorMac = "02:00:00:00:01:20";
inline constexpr const char* kRsMac = "02:00:00:00:01:42";
inline constexpr const char* kOtherMac = "02:00:00:00:07:77";

/** An option with a 6-byte MAC: type, length in 8-octet units, MAC, padding. */
inline test::Bytes mac_option(uint8_t type, const char* mac, uint8_t units = 1) {
    test::Bytes b{type, units};
    const net::MacAddress m = test::mac(mac);
    b.insert(b.end(), m.bytes.begin(), m.bytes.end());
    return b;
}

inline test::Bytes sllao(const char* mac) { return mac_option(kNdOptSourceLinkAddr, mac); }
inline test::Bytes tllao(const char* mac) { return mac_option(kNdOptTargetLinkAddr, mac); }

/** An NS or NA, by default an NS from the real server for the VIP with its SLLAO. */
struct NdFrame {
    std::string eth_src = kRsMac;
    std::string eth_dst = "33:33:ff:00:02:52";
    std::string src = "fd00:99::142";
    std::string dst = "ff02::1:ff00:252";
    std::string target = "fd00:99::252";
    uint8_t type = kIcmpv6NeighbourSolicitation;
    uint8_t code = 0;
    uint8_t hop_limit = 255;
    uint8_t na_flags = 0;
    test::Bytes options = sllao(kRsMac);
    uint16_t vlan = 0;
    bool fragment = false;

    static NdFrame na_from_rs(const char* target = "fd00:99::142") {
        NdFrame f;
        f.type = kIcmpv6NeighbourAdvertisement;
        f.eth_dst = kDirectorMac;
        f.dst = "fd00:99::120";
        f.target = target;
        f.na_flags = kNaFlagSolicited | kNaFlagOverride;
        f.options = tllao(kRsMac);
        return f;
    }

    test::Bytes build() const {
        test::PacketBuilder b;
        b.eth(eth_src, eth_dst);
        if (vlan != 0) {
            b.vlan(vlan);
        }
        b.ipv6(src, dst).ttl(hop_limit);
        if (fragment) {
            b.fragment(0, true);
        }
        b.icmp(type, code, uint32_t{na_flags} << 24);
        test::Bytes body;
        const net::IpAddress t = test::ip(target);
        body.insert(body.end(), t.bytes(), t.bytes() + 16);
        body.insert(body.end(), options.begin(), options.end());
        b.payload(body);
        return b.build();
    }
};

/** parse_frame, then (if it is an NS/NA) parse_nd; the frame must pass parse_frame. */
inline NdError parse(const test::Bytes& frame, NdPacket* out = nullptr) {
    net::ParsedPacket p;
    const net::Verdict v = net::parse_frame(frame.data(), static_cast<uint32_t>(frame.size()), p);
    if (v != net::Verdict::Ok || !is_nd(p)) {
        ADD_FAILURE() << "not an NS/NA for lib/net: " << net::to_string(v);
        return NdError::NdTooShort;
    }
    NdPacket nd;
    const NdError e = parse_nd(frame, p, nd);
    if (out != nullptr) {
        *out = nd;
    }
    return e;
}

}  // namespace director::neigh::fixture
