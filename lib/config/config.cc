// SPDX-License-Identifier: BSD-3-Clause
#include "config/config.h"

namespace director::config {

const char* to_string(LogLevel v) noexcept {
    switch (v) {
        case LogLevel::Error: return "error";
        case LogLevel::Warn: return "warn";
        case LogLevel::Info: return "info";
        case LogLevel::Debug: return "debug";
    }
    return "?";
}

const char* to_string(VrrpState v) noexcept {
    return v == VrrpState::Master ? "MASTER" : "BACKUP";
}

const char* to_string(AuthType v) noexcept { return v == AuthType::Pass ? "PASS" : "AH"; }

const char* to_string(Protocol v) noexcept { return v == Protocol::Tcp ? "TCP" : "UDP"; }

const char* to_string(LbAlgo v) noexcept {
    switch (v) {
        case LbAlgo::Rr: return "rr";
        case LbAlgo::Wrr: return "wrr";
        case LbAlgo::Lc: return "lc";
        case LbAlgo::Wlc: return "wlc";
        case LbAlgo::Sed: return "sed";
        case LbAlgo::Nq: return "nq";
        case LbAlgo::Sh: return "sh";
        case LbAlgo::Dh: return "dh";
        case LbAlgo::Mh: return "mh";
    }
    return "?";
}

const char* to_string(LbKind v) noexcept { return v == LbKind::Dr ? "DR" : "TUN"; }

const char* to_string(CheckType v) noexcept {
    switch (v) {
        case CheckType::Tcp: return "TCP_CHECK";
        case CheckType::HttpGet: return "HTTP_GET";
        case CheckType::SslGet: return "SSL_GET";
        case CheckType::Misc: return "MISC_CHECK";
        case CheckType::Udp: return "UDP_CHECK";
    }
    return "?";
}

}  // namespace director::config
