// SPDX-License-Identifier: BSD-3-Clause
#include "health/spec.h"

#include <algorithm>
#include <tuple>

#include "vrrp/notify.h"

namespace director::health {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/** FNV-1a over the checker's identity: stable across runs, so are first-probe offsets. */
uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) noexcept {
    for (unsigned char c : s) {
        h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}

const char* check_name(config::CheckType t) { return config::to_string(t); }

Result<std::vector<std::string>> split_optional(const std::optional<std::string>& script,
                                                const std::string& what) {
    if (!script) {
        return std::vector<std::string>{};
    }
    auto argv = vrrp::split_script(*script);
    if (!argv) {
        return make_error(what + ": " + argv.error().message);
    }
    return std::move(*argv);
}

}  // namespace

std::string format_trio(const net::IpAddress& address, config::Protocol protocol, uint16_t port) {
    return "[" + address.to_string() + "]:" + (protocol == config::Protocol::Tcp ? "tcp" : "udp") +
           ":" + std::to_string(port);
}

bool same_probe(const CheckSpec& a, const CheckSpec& b) {
    const auto probe_fields = [](const CheckSpec& s) {
        return std::tie(s.type, s.protocol, s.address, s.port, s.bindto, s.bind_port,
                        s.connect_timeout, s.urls, s.virtualhost, s.enable_sni, s.misc_argv,
                        s.misc_timeout, s.misc_dynamic, s.payload, s.require_reply, s.reply,
                        s.reply_mask, s.min_reply_length, s.max_reply_length);
    };
    return probe_fields(a) == probe_fields(b);
}

Result<std::vector<uint8_t>> parse_hex(std::string_view text, bool wildcard,
                                       std::vector<uint8_t>* mask) {
    if (text.size() % 2 != 0) {
        return make_error("\"" + std::string(text) + "\" has an odd number of hex digits");
    }
    std::vector<uint8_t> out;
    out.reserve(text.size() / 2);
    if (mask != nullptr) {
        mask->clear();
    }
    for (std::size_t i = 0; i < text.size(); i += 2) {
        uint8_t byte = 0;
        uint8_t m = 0;
        for (std::size_t j = 0; j < 2; ++j) {
            const char c = text[i + j];
            const int shift = j == 0 ? 4 : 0;
            if (wildcard && (c == 'x' || c == 'X')) {
                continue;  // nibble matches anything: mask bits stay 0
            }
            const int v = hex_value(c);
            if (v < 0) {
                return make_error("\"" + std::string(text) + "\" is not hex bytes");
            }
            byte = static_cast<uint8_t>(byte | (v << shift));
            m = static_cast<uint8_t>(m | (0x0f << shift));
        }
        out.push_back(byte);
        if (mask != nullptr) {
            mask->push_back(m);
        }
    }
    return out;
}

Result<CheckSpec> resolve_check(const config::VirtualServer& vs, const config::RealServer& rs,
                                const config::Check& c, std::size_t index) {
    CheckSpec s;
    s.type = c.type;
    s.protocol = vs.protocol;
    s.address = c.connect_ip.value_or(rs.address);
    // DR/TUN: keepalived forces the real server's port to the service port.
    const uint16_t rs_port = rs.port != 0 ? rs.port : vs.port;
    s.port = c.connect_port.value_or(rs_port);
    s.bindto = c.bindto;
    s.bind_port = c.bind_port;
    s.connect_timeout = c.connect_timeout;
    const Duration delay_loop = c.delay_loop.value_or(vs.delay_loop);
    s.timing = CheckTiming{.delay_loop = delay_loop,
                           .delay_before_retry = c.delay_before_retry,
                           .retry = c.retry,
                           .alpha = vs.alpha,
                           .warmup = delay_loop};
    s.rs_address = rs.address.to_string();
    s.display = format_trio(s.address, vs.protocol, s.port);
    const std::string owner = std::string(check_name(c.type)) + " of real server " +
                              format_trio(rs.address, vs.protocol, rs_port) + " in VS " +
                              format_trio(vs.address, vs.protocol, vs.port);

    if (c.type != config::CheckType::Misc && s.port == 0) {
        return make_error(owner + ": no port to connect to (set connect_port)");
    }
    if (s.bindto && s.bindto->family() != s.address.family()) {
        return make_error(owner + ": bindto " + s.bindto->to_string() + " is not the family of " +
                          s.address.to_string());
    }
    switch (c.type) {
        case config::CheckType::HttpGet:
        case config::CheckType::SslGet:
            s.urls = c.url;
            if (s.urls.empty()) {
                s.urls.emplace_back();  // keepalived needs a url; "/" with 200-299
            }
            s.virtualhost = c.virtualhost;
            s.enable_sni = c.enable_sni;
            break;
        case config::CheckType::Misc: {
            auto argv = vrrp::split_script(c.misc_path);
            if (!argv) {
                return make_error(owner + ": misc_path: " + argv.error().message);
            }
            s.misc_argv = std::move(*argv);
            s.misc_timeout = c.misc_timeout.value_or(delay_loop);
            s.misc_dynamic = c.misc_dynamic;
            break;
        }
        case config::CheckType::Udp: {
            auto payload = parse_hex(c.payload);
            if (!payload) {
                return make_error(owner + ": payload: " + payload.error().message);
            }
            s.payload = std::move(*payload);
            if (c.require_reply) {
                auto reply = parse_hex(*c.require_reply, true, &s.reply_mask);
                if (!reply) {
                    return make_error(owner + ": require_reply: " + reply.error().message);
                }
                s.require_reply = true;
                s.reply = std::move(*reply);
            }
            s.min_reply_length = c.min_reply_length;
            s.max_reply_length = c.max_reply_length;
            break;
        }
        case config::CheckType::Tcp:
            break;
    }
    uint64_t key = fnv1a(format_trio(vs.address, vs.protocol, vs.port));
    key = fnv1a(format_trio(rs.address, vs.protocol, rs.port), key);
    key = fnv1a(s.display, key);
    key = fnv1a(std::string(check_name(c.type)) + "#" + std::to_string(index), key);
    s.key = key;
    return s;
}

Result<ServiceSpec> resolve_service(const config::VirtualServer& vs) {
    ServiceSpec s;
    s.display = format_trio(vs.address, vs.protocol, vs.port);
    uint64_t total = 0;
    for (const config::RealServer& rs : vs.real_servers) {
        RealSpec r;
        r.display = format_trio(rs.address, vs.protocol, rs.port != 0 ? rs.port : vs.port);
        r.weight = rs.weight;
        r.inhibit = rs.inhibit_on_failure.value_or(vs.inhibit_on_failure);
        auto up = split_optional(rs.notify_up, r.display + " notify_up");
        if (!up) {
            return make_error(up.error().message);
        }
        auto down = split_optional(rs.notify_down, r.display + " notify_down");
        if (!down) {
            return make_error(down.error().message);
        }
        r.notify_up = std::move(*up);
        r.notify_down = std::move(*down);
        r.checkers = rs.checks.size();
        total += rs.weight;
        s.reals.push_back(std::move(r));
    }
    // keepalived check_data.c: quorum capped to the total configured weight, hysteresis kept
    // below quorum. A quorum of 0 would make an empty pool "up": keep at least 1.
    s.quorum = std::max<uint32_t>(1, vs.quorum);
    if (total > 0 && s.quorum > total) {
        s.quorum = static_cast<uint32_t>(total);
    }
    s.hysteresis = std::min(vs.hysteresis, s.quorum - 1);
    auto qup = split_optional(vs.quorum_up, s.display + " quorum_up");
    if (!qup) {
        return make_error(qup.error().message);
    }
    auto qdown = split_optional(vs.quorum_down, s.display + " quorum_down");
    if (!qdown) {
        return make_error(qdown.error().message);
    }
    s.quorum_up = std::move(*qup);
    s.quorum_down = std::move(*qdown);
    s.sorry_server = vs.sorry_server;
    if (vs.sorry_server) {
        s.sorry_display = format_trio(vs.sorry_server->address, vs.protocol,
                                      vs.sorry_server->port != 0 ? vs.sorry_server->port : vs.port);
    }
    return s;
}

}  // namespace director::health
