// SPDX-License-Identifier: BSD-3-Clause
// Why a received VRRP advertisement was ignored.
//
// Every reason is declared once, in DIRECTOR_VRRP_REJECT_REASONS, with the counter name and help
// text the metrics layer exports (STYLE C7, like net/verdict.h). The list is in the order
// vrrp::decode applies its checks, which is keepalived's order (vrrp.c vrrp_check_packet,
// keepalived.md §2.5) after the IP-level checks keepalived leaves to the kernel.
//
// A rejected advert is ignored *and does not reset the backup's Master_Down_Timer*, exactly as
// in keepalived: a persistent mismatch (password, v2 interval, version) therefore makes both
// peers MASTER. Counting the reasons is how an operator sees that happening.
//
// Caller: any thread. constexpr or table lookups: noexcept, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

// X(EnumName, counter_name, "help text")
#define DIRECTOR_VRRP_REJECT_REASONS(X)                                                            \
    X(TooShort, too_short,                                                                         \
      "Shorter than its IP header, or IP total/payload length beyond the received bytes")          \
    X(BadIpHeader, bad_ip_header,                                                                  \
      "IP version neither 4 nor 6, IPv4 IHL below 5, or total length below the header (RFC 791)")  \
    X(BadIpChecksum, bad_ip_checksum, "IPv4 header checksum mismatch (RFC 791 3.1)")               \
    X(Fragment, fragment, "IPv4 fragment: an advertisement always fits one packet")                \
    X(WrongFamily, wrong_family, "IPv4 advert for an IPv6 instance, or the reverse")               \
    X(AuthAh, auth_ah,                                                                             \
      "IPsec-AH protected advert (keepalived auth_type AH, RFC 2338 5.3.6.3): not supported")      \
    X(NotVrrp, not_vrrp,                                                                           \
      "IP protocol / next header is not 112 (RFC 5798 5.1.1.4, 5.1.2.3) or no 8-byte VRRP header") \
    X(UnknownVrid, unknown_vrid,                                                                   \
      "Virtual Router ID not configured for this interface and family (RFC 5798 7.1)")             \
    X(BadLength, bad_length,                                                                       \
      "VRRP length is not 8 + count x address size (+ 8 auth bytes in v2) (keepalived: packet "    \
      "too short/long)")                                                                           \
    X(BadTtl, bad_ttl,                                                                             \
      "Multicast advert whose IPv4 TTL / IPv6 hop limit is not 255 (RFC 5798 7.1, RFC 3768 7.1)")  \
    X(VersionMismatch, version_mismatch,                                                           \
      "VRRP version differs from the instance's (keepalived: a v3 instance drops v2 and the "      \
      "reverse)")                                                                                  \
    X(BadAuthType, bad_auth_type,                                                                  \
      "v2 Auth Type unknown or not the configured one (RFC 3768 5.3.6, keepalived 0/1/2)")         \
    X(BadPassword, bad_password,                                                                   \
      "v2 simple-text password differs (keepalived: received an invalid passwd!)")                 \
    X(IntervalMismatch, interval_mismatch,                                                         \
      "v2 Adver Int differs from ours (RFC 3768 7.1; keepalived: advertisement interval "          \
      "mismatch)")                                                                                 \
    X(BadInterval, bad_interval, "v3 Max Adver Int of 0 centiseconds (RFC 5798 5.2.7)")            \
    X(BadType, bad_type, "Type is not 1 = ADVERTISEMENT (RFC 5798 5.2.2, RFC 3768 5.3.2)")         \
    X(BadChecksum, bad_checksum,                                                                   \
      "VRRP checksum mismatch (v2: message only; v3: with IPv4/IPv6 pseudo-header; RFC 5798 "      \
      "5.2.8)")                                                                                    \
    X(ExpectedUnicast, expected_unicast,                                                           \
      "Multicast advert for an instance configured with unicast peers (keepalived)")               \
    X(ExpectedMulticast, expected_multicast,                                                       \
      "Unicast advert for an instance without unicast peers (keepalived)")                         \
    X(UnicastSrcNotPeer, unicast_src_not_peer,                                                     \
      "Unicast advert from an address that is not a unicast peer (check_unicast_src)")

namespace director::vrrp {

/** The reason decode() refused an advertisement; see DIRECTOR_VRRP_REJECT_REASONS. */
enum class Reject : uint8_t {
#define DIRECTOR_VRRP_ENUM(name, counter, help) name,
    DIRECTOR_VRRP_REJECT_REASONS(DIRECTOR_VRRP_ENUM)
#undef DIRECTOR_VRRP_ENUM
};

#define DIRECTOR_VRRP_COUNT(name, counter, help) +1
/** Number of reject reasons; the enum values are [0, kRejectCount), the counter indices. */
inline constexpr std::size_t kRejectCount = 0 DIRECTOR_VRRP_REJECT_REASONS(DIRECTOR_VRRP_COUNT);
#undef DIRECTOR_VRRP_COUNT

/**
 * The enumerator's name, e.g. "BadPassword". Caller: any thread.
 * @return a static string; "Invalid" for a value outside the enum
 */
const char* to_string(Reject r) noexcept;

/**
 * The snake_case counter name, e.g. "bad_password", for metrics and logs.
 * @return a static string; "invalid" for a value outside the enum
 */
const char* counter_name(Reject r) noexcept;

/**
 * One-line help text for the reason's counter.
 * @return a static string; "" for a value outside the enum
 */
const char* help_text(Reject r) noexcept;

}  // namespace director::vrrp
