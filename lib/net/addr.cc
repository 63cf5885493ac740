// SPDX-License-Identifier: BSD-3-Clause
#include "net/addr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <cstring>

namespace director::net {

IpAddress IpAddress::v4(uint32_t host_order) noexcept {
    IpAddress a;
    a.family_ = Family::V4;
    a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes_[3] = static_cast<uint8_t>(host_order);
    return a;
}

IpAddress IpAddress::v4_bytes(const uint8_t* network_order) noexcept {
    IpAddress a;
    a.family_ = Family::V4;
    std::memcpy(a.bytes_.data(), network_order, 4);
    return a;
}

IpAddress IpAddress::v6_bytes(const uint8_t* network_order) noexcept {
    IpAddress a;
    a.family_ = Family::V6;
    std::memcpy(a.bytes_.data(), network_order, 16);
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // inet_pton needs a NUL-terminated string; addresses are short, so a stack copy suffices.
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof(buf)) {
        return std::nullopt;
    }
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    uint8_t raw[16];
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, raw) == 1) {
            return v4_bytes(raw);
        }
        return std::nullopt;
    }
    if (inet_pton(AF_INET6, buf, raw) == 1) {
        return v6_bytes(raw);
    }
    return std::nullopt;
}

uint32_t IpAddress::v4_host() const noexcept {
    return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
           uint32_t{bytes_[3]};
}

bool IpAddress::is_multicast() const noexcept {
    return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::is_unspecified() const noexcept {
    for (unsigned i = 0; i < size(); ++i) {
        if (bytes_[i] != 0) {
            return false;
        }
    }
    return true;
}

IpAddress IpAddress::masked(unsigned prefix_len) const noexcept {
    IpAddress out = *this;
    for (unsigned i = 0; i < size(); ++i) {
        const unsigned bit = i * 8;
        if (bit >= prefix_len) {
            out.bytes_[i] = 0;
        } else if (prefix_len - bit < 8) {
            out.bytes_[i] &= static_cast<uint8_t>(0xff << (8 - (prefix_len - bit)));
        }
    }
    return out;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
    return buf;
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) {
        return std::nullopt;
    }
    Prefix p{*addr, static_cast<uint8_t>(addr->max_prefix())};
    if (slash == std::string_view::npos) {
        return p;
    }
    const std::string_view len = text.substr(slash + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
    if (len.empty() || ec != std::errc{} || end != len.data() + len.size() ||
        value > addr->max_prefix()) {
        return std::nullopt;
    }
    p.length = static_cast<uint8_t>(value);
    return p;
}

bool Prefix::contains(const IpAddress& addr) const noexcept {
    return addr.family() == address.family() &&
           addr.masked(length) == address.masked(length);
}

std::string Prefix::to_string() const {
    return address.to_string() + "/" + std::to_string(length);
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    if (text.size() != 17) {
        return std::nullopt;
    }
    MacAddress mac;
    for (unsigned i = 0; i < 6; ++i) {
        const std::string_view octet = text.substr(i * 3, 2);
        if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') {
            return std::nullopt;
        }
        unsigned v = 0;
        const auto [end, ec] = std::from_chars(octet.data(), octet.data() + 2, v, 16);
        if (ec != std::errc{} || end != octet.data() + 2) {
            return std::nullopt;
        }
        mac.bytes[i] = static_cast<uint8_t>(v);
    }
    return mac;
}

bool MacAddress::is_zero() const noexcept {
    for (uint8_t b : bytes) {
        if (b != 0) {
            return false;
        }
    }
    return true;
}

std::string MacAddress::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return buf;
}

std::optional<uint8_t> netmask_to_prefix(std::string_view dotted) {
    auto addr = IpAddress::parse(dotted);
    if (!addr || !addr->is_v4()) {
        return std::nullopt;
    }
    const uint32_t mask = addr->v4_host();
    const uint32_t inverted = ~mask;
    // A contiguous mask inverted is 2^k - 1, so adding one leaves a single bit (or zero).
    if ((inverted & (inverted + 1)) != 0) {
        return std::nullopt;
    }
    return static_cast<uint8_t>(__builtin_popcount(mask));
}

}  // namespace director::net
