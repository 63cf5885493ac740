// SPDX-License-Identifier: BSD-3-Clause
// From configuration to what the health engine runs: every checker of every real server of
// every virtual server, with keepalived's inheritance (VS → RS → checker: alpha, delay_loop,
// warmup, misc_timeout) resolved and every string pre-parsed (scripts split into argv, hex
// payloads decoded), so that nothing is parsed again while probes run.
//
// keepalived's defaults that the loader cannot know apply here: connect_ip defaults to the
// real server, connect_port to the real server's port (and, for a port-less real server of a
// DR service, to the virtual server's port), warmup and misc_timeout to the effective
// delay_loop, quorum is capped to the total configured weight and hysteresis kept below quorum.
//
// Caller: control lcore (engine creation and reload). Allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "health/checker.h"
#include "health/service.h"
#include "net/addr.h"

namespace director::health {

/** keepalived's inet_sockaddrtotrio(): "[10.0.0.1]:tcp:80", "[2001:db8::1]:udp:53". */
std::string format_trio(const net::IpAddress& address, config::Protocol protocol, uint16_t port);

/** One checker, ready to probe. */
struct CheckSpec {
    config::CheckType type = config::CheckType::Tcp;
    config::Protocol protocol = config::Protocol::Tcp;  ///< the virtual server's (log format)
    net::IpAddress address;                             ///< connect_ip or the real server
    uint16_t port = 0;                                  ///< connect_port or the real server's
    std::optional<net::IpAddress> bindto;
    std::optional<uint16_t> bind_port;
    Duration connect_timeout = config::kDefaultConnectTimeout;
    CheckTiming timing;
    // HTTP_GET / SSL_GET
    std::vector<config::HttpUrl> urls;
    std::string virtualhost;
    bool enable_sni = false;
    // MISC_CHECK
    std::vector<std::string> misc_argv;
    Duration misc_timeout = config::kDefaultDelayLoop;
    bool misc_dynamic = false;
    // UDP_CHECK
    std::vector<uint8_t> payload;  ///< empty: a random payload per probe
    bool require_reply = false;
    std::vector<uint8_t> reply;       ///< expected prefix of the reply
    std::vector<uint8_t> reply_mask;  ///< per byte: bits that must match ('X' nibble = 0)
    uint32_t min_reply_length = 0;
    uint32_t max_reply_length = config::kMaxUdpReplyLength;
    // Identity and logs
    std::string display;     ///< keepalived FMT_CHK: "[connect_ip]:tcp:connect_port"
    std::string rs_address;  ///< the real server's address, for MISC_CHECK's log line
    uint64_t key = 0;        ///< identity hash: picks the first-probe offset

    friend bool operator==(const CheckSpec&, const CheckSpec&) = default;
};

/**
 * True when a and b probe the same thing the same way (everything but timing and identity):
 * on a reload such a checker keeps its state (keepalived migrate_checkers' compare).
 */
bool same_probe(const CheckSpec& a, const CheckSpec& b);

/**
 * Decodes hex bytes ("0a1B"); with wildcard, an 'x'/'X' nibble matches anything and mask
 * receives the per-byte compare mask (0xff, 0xf0, 0x0f or 0x00).
 *
 * @return the bytes, or an error for odd length or a non-hex digit
 */
Result<std::vector<uint8_t>> parse_hex(std::string_view text, bool wildcard = false,
                                       std::vector<uint8_t>* mask = nullptr);

/**
 * Resolves one configured check.
 *
 * @param vs     the virtual server (protocol, port, delay_loop, alpha)
 * @param rs     the real server (address, port)
 * @param check  the check as configured
 * @param index  position of the check within the real server (identity)
 * @return the spec, or an error naming the server for a script that cannot be split, a hex
 *         string that cannot be decoded or a check with no port to connect to
 */
Result<CheckSpec> resolve_check(const config::VirtualServer& vs, const config::RealServer& rs,
                                const config::Check& check, std::size_t index);

/**
 * Resolves a virtual server's quorum, scripts and real servers for ServiceHealth.
 * @return the spec, or an error for a notify / quorum script that cannot be split
 */
Result<ServiceSpec> resolve_service(const config::VirtualServer& vs);

}  // namespace director::health
