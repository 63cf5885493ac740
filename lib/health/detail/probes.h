// SPDX-License-Identifier: BSD-3-Clause
// The concrete probes behind make_probe() (probe.h). Private to lib/health.
//
// Caller: control lcore.
#pragma once

#include <memory>

#include "health/probe.h"

namespace director::health::detail {

/** TCP_CHECK: success when a non-blocking connect completes within connect_timeout. */
std::unique_ptr<Probe> make_tcp_probe(const CheckSpec& spec, const ProbeContext& ctx);

/** HTTP_GET (tls = false) / SSL_GET (tls = true, ctx.tls required). */
std::unique_ptr<Probe> make_http_probe(const CheckSpec& spec, const ProbeContext& ctx, bool tls);

/** UDP_CHECK: ICMP port unreachable (ECONNREFUSED) fails; see require_reply. */
std::unique_ptr<Probe> make_udp_probe(const CheckSpec& spec, const ProbeContext& ctx);

/** MISC_CHECK through ctx.runner. */
std::unique_ptr<Probe> make_misc_probe(const CheckSpec& spec, const ProbeContext& ctx);

}  // namespace director::health::detail
