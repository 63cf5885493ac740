// SPDX-License-Identifier: BSD-3-Clause
// VRRP advertisement codec: builds complete IPv4/IPv6 packets (and Ethernet frames) carrying a
// VRRPv2 (RFC 3768 §5) or VRRPv3 (RFC 5798 §5) advertisement, and decodes + validates received
// ones against an instance's expectations in keepalived's order (keepalived.md §2.5).
//
// Why the module builds the IP header itself: the director has no kernel stack on its ports,
// so everything keepalived leaves to its raw socket (TTL 255, TOS 0xc0, protocol 112, the IPv6
// checksum via IPV6_CHECKSUM) is done here, byte for byte as keepalived 2.2.7 puts it on the
// wire (keepalived-netns.md §3):
//   - IPv4: TOS 0xc0, DF clear, IP ID from the caller (keepalived counts from 1), TTL 255,
//     protocol 112, dst 224.0.0.18 or one unicast peer.
//   - IPv6: traffic class 0xc0 (keepalived sets IPV6_TCLASS 0xc0), flow label 0, hop limit 255,
//     next header 112, dst ff02::12 or one unicast peer.
//   - Checksums (keepalived.md §2.2): v2 over the VRRP message only (RFC 3768 §5.3.8); v3 over
//     IPv6 with the RFC 8200 §8.1 pseudo-header (RFC 5798 §5.2.8); v3 over IPv4 WITH the IPv4
//     pseudo-header using the actual IP destination (keepalived's and FRR's default), or
//     without it when v3_checksum_as_v2 (RFC 9568, Cisco/Juniper).
//
// Caller: control lcore. Encoding into a caller's span allocates nothing; the vector variants
// and decode (which returns the address list) allocate. Nothing here touches DPDK.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/addr.h"
#include "vrrp/clock.h"
#include "vrrp/reject.h"

namespace director::vrrp {

inline constexpr uint8_t kIpProtoVrrp = 112;      ///< RFC 5798 §5.1.1.4
inline constexpr uint8_t kIpProtoAh = 51;         ///< RFC 4302; keepalived auth_type AH
inline constexpr uint8_t kVrrpTtl = 255;          ///< RFC 5798 §5.1.1.3, §5.1.2.2
inline constexpr uint8_t kVrrpTos = 0xc0;         ///< keepalived vrrp_build_ip4 / IPV6_TCLASS (CS6)
inline constexpr uint8_t kTypeAdvertisement = 1;  ///< RFC 5798 §5.2.2
inline constexpr uint8_t kPriorityStop = 0;       ///< RFC 5798 §5.2.4: master stops participating
inline constexpr uint8_t kPriorityOwner = 255;    ///< RFC 5798 §5.2.4: IP address owner
inline constexpr std::size_t kHeaderLen = 8;      ///< fixed VRRP header, both versions
inline constexpr std::size_t kAuthLen = 8;        ///< v2 Authentication Data (RFC 3768 §5.3.10)
inline constexpr std::size_t kIpv4HeaderLen = 20;
inline constexpr std::size_t kIpv6HeaderLen = 40;
inline constexpr std::size_t kEthHeaderLen = 14;
inline constexpr uint16_t kMaxV3IntervalCs = 4095;  ///< 12-bit field (RFC 5798 §5.2.7)
inline constexpr uint8_t kMaxV2IntervalS = 255;     ///< 8-bit field (RFC 3768 §5.3.7)

/** 224.0.0.18, the IPv4 VRRP group (RFC 5798 §5.1.1.2). */
net::IpAddress mcast_group_v4() noexcept;
/** ff02::12, the IPv6 VRRP group (RFC 5798 §5.1.2.2). */
net::IpAddress mcast_group_v6() noexcept;
/** The group for a family. */
net::IpAddress mcast_group(net::Family f) noexcept;
/**
 * The Ethernet group address of an IP multicast address: 01:00:5e + low 23 bits (RFC 1112 §6.4)
 * or 33:33 + low 32 bits (RFC 2464 §7). 224.0.0.18 -> 01:00:5e:00:00:12, ff02::12 ->
 * 33:33:00:00:00:12.
 */
net::MacAddress multicast_mac(const net::IpAddress& group) noexcept;

/** v2 Auth Type (RFC 3768 §5.3.6; 1 and 2 are RFC 2338's, which keepalived still speaks). */
enum class AuthType : uint8_t { None = 0, Pass = 1, Ah = 2 };

/** An 8-byte v2 password field: the first 8 bytes of auth_pass, NUL-padded (keepalived). */
using AuthData = std::array<uint8_t, kAuthLen>;
/** keepalived's truncation/padding of auth_pass into the Authentication Data field. */
AuthData make_auth_data(std::string_view password) noexcept;

/**
 * The VRRP message itself, version-independent. Used both to build and as decode's result.
 */
struct Advert {
    uint8_t version = 2;  ///< 2 (RFC 3768) or 3 (RFC 5798)
    uint8_t type = kTypeAdvertisement;
    uint8_t vrid = 0;
    uint8_t priority = 0;                 ///< 0 = master is stopping, 255 = owner
    AuthType auth_type = AuthType::None;  ///< v2 only
    AuthData auth_data{};                 ///< v2 only; zero for AuthType::None
    /// v2: whole seconds 1..255 (§5.3.7). v3: Max Adver Int, 10 ms units 1..4095 (§5.2.7).
    Duration adver_int{std::chrono::seconds(1)};
    std::vector<net::IpAddress> addresses;  ///< the VIPs, all of the packet's family

    friend bool operator==(const Advert&, const Advert&) = default;
};

/** Everything needed to put one advert on the wire. */
struct AdvertSpec {
    Advert advert;
    net::IpAddress src;      ///< primary / unicast_src_ip (IPv4) or link-local (IPv6)
    net::IpAddress dst;      ///< mcast_group(family) or one unicast peer
    uint16_t ip_id = 0;      ///< IPv4 identification; keepalived counts from 1, one per advert
    uint8_t ttl = kVrrpTtl;  ///< TTL / hop limit; keepalived's unicast_ttl may lower it
    bool v3_checksum_as_v2 = false;  ///< v3 over IPv4: no pseudo-header (RFC 9568)
};

/**
 * Size of the VRRP message for version/family/count: 8 + n*addr (+8 auth in v2).
 */
std::size_t vrrp_length(uint8_t version, net::Family family, std::size_t count) noexcept;

/**
 * Size of the IP packet encode_ip writes for spec (IP header + VRRP message).
 */
std::size_t ip_length(const AdvertSpec& spec) noexcept;

/**
 * Computes the VRRP checksum of a message whose checksum field (bytes 6-7) reads zero.
 *
 * @param vrrp            the VRRP message
 * @param version         2 or 3
 * @param src, dst        IP source and (actual) destination; ignored for v2
 * @param as_v2           v3 over IPv4 only: leave the pseudo-header out
 * @return the value to store big-endian at bytes 6-7
 */
uint16_t vrrp_checksum(std::span<const uint8_t> vrrp, uint8_t version, const net::IpAddress& src,
                       const net::IpAddress& dst, bool as_v2) noexcept;

/**
 * Writes the IP packet (IPv4 or IPv6 header, then the VRRP message) for spec into out.
 *
 * Caller: control lcore. No allocation.
 *
 * @return bytes written (ip_length(spec)); an error when the spec is invalid: version not 2/3,
 *         v2 over IPv6, src/dst/VIP families differ, more than 255 addresses, interval out of
 *         range or not a whole number of the version's units, or out too small
 */
Result<std::size_t> encode_ip(const AdvertSpec& spec, std::span<uint8_t> out);
/** As above, into a new vector. */
Result<std::vector<uint8_t>> encode_ip(const AdvertSpec& spec);

/** The Ethernet addresses of an advert frame. */
struct FrameMacs {
    /// The port's own MAC: keepalived's default (not the VRRP virtual MAC, which needs use_vmac).
    net::MacAddress src;
    /// Unicast peer's MAC; nullopt = the group MAC of spec.dst, which must then be multicast.
    std::optional<net::MacAddress> dst;
};

/** Size of the Ethernet frame encode_frame writes (14 + ip_length; no padding to 60). */
std::size_t frame_length(const AdvertSpec& spec) noexcept;

/**
 * Writes an Ethernet II frame (type 0x0800 / 0x86dd, untagged) carrying the advert. Frames are
 * not padded to 60 bytes: the NIC pads on transmit, and keepalived's own are 54/46 bytes on a
 * veth (keepalived-netns.md §3).
 *
 * @return bytes written; errors as encode_ip, plus a unicast dst without a MAC
 */
Result<std::size_t> encode_frame(const AdvertSpec& spec, const FrameMacs& macs,
                                 std::span<uint8_t> out);
/** As above, into a new vector. */
Result<std::vector<uint8_t>> encode_frame(const AdvertSpec& spec, const FrameMacs& macs);

/** What the receiving instance expects; see expectations() in instance.h. */
struct Expect {
    net::Family family = net::Family::V4;
    uint8_t version = 2;
    uint8_t vrid = 0;
    AuthType auth_type = AuthType::None;          ///< v2
    AuthData auth_data{};                         ///< v2, Pass
    Duration adver_int{std::chrono::seconds(1)};  ///< v2: must match exactly
    bool unicast = false;            ///< unicast peers configured: multicast adverts are refused
    bool check_unicast_src = false;  ///< refuse unicast adverts from non-peers
    std::span<const net::IpAddress> unicast_peers;
    bool v3_checksum_as_v2 = false;        ///< v3/IPv4: send without pseudo-header, never verify
    std::span<const net::IpAddress> vips;  ///< compared, log only (keepalived >= 2.3.3)
};

/** A validated advertisement and where it came from. */
struct Received {
    Advert advert;
    net::IpAddress src;
    net::IpAddress dst;
    uint8_t ttl = 0;
    bool multicast = false;
    /// The address list differs from ours. keepalived >= 2.3.3 only logs this ("expected N
    /// VIPs but received M"); <= 2.3.2 dropped the advert. We log-only, to avoid split brain.
    bool vips_differ = false;
    /// A v3/IPv4 unicast advert whose checksum used 224.0.0.18 in the pseudo-header, as
    /// keepalived <= 1.3.6 did; accepted, like keepalived's old_unicast_checksum auto-detect.
    bool old_unicast_checksum = false;
};

/**
 * Decodes and validates one received advert, in keepalived's order (reject.h lists the order).
 *
 * Caller: control lcore, for a packet a worker punted (IP protocol 112 or 51).
 *
 * @param ip            the packet from its IP header on (Ethernet header stripped); bytes past
 *                      the IP total / payload length (Ethernet padding) are ignored
 * @param l2_multicast  the frame's Ethernet destination was a group address; the packet counts
 *                      as multicast if this or its IP destination is
 * @param expect        the instance's expectations
 * @return the advert, or the first reason it must be ignored
 */
Result<Received, Reject> decode(std::span<const uint8_t> ip, bool l2_multicast,
                                const Expect& expect);

/** The dispatch key of a received advert. */
struct Peek {
    net::Family family;
    uint8_t version;  ///< the header's version nibble, unchecked
    uint8_t vrid;
};

/**
 * Cheap look at an IP packet's (family, version, VRID) to pick the instance whose expectations
 * decode() is then called with: no checksum, no length checks beyond what it reads.
 *
 * Caller: control lcore. noexcept, no allocation.
 *
 * @return nullopt if this is not an IPv4/IPv6 packet with protocol 112 and 8 VRRP bytes
 */
std::optional<Peek> peek(std::span<const uint8_t> ip) noexcept;

}  // namespace director::vrrp
