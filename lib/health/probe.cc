// SPDX-License-Identifier: BSD-3-Clause
#include "health/probe.h"

#include "health/detail/probes.h"

namespace director::health {

std::unique_ptr<Probe> make_probe(const CheckSpec& spec, const ProbeContext& ctx) {
    switch (spec.type) {
        case config::CheckType::Tcp:
            return detail::make_tcp_probe(spec, ctx);
        case config::CheckType::HttpGet:
            return detail::make_http_probe(spec, ctx, false);
        case config::CheckType::SslGet:
            return detail::make_http_probe(spec, ctx, true);
        case config::CheckType::Udp:
            return detail::make_udp_probe(spec, ctx);
        case config::CheckType::Misc:
            return detail::make_misc_probe(spec, ctx);
    }
    return nullptr;
}

}  // namespace director::health
