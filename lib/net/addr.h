// SPDX-License-Identifier: BSD-3-Clause
// Value types for addresses: IPv4/IPv6 addresses, prefixes and Ethernet MACs, with strict
// text parsing and formatting. Shared by the configuration layer (which parses them), the
// service snapshot and the packet builders.
//
// Caller: any thread. Parsing and formatting allocate and belong on the control plane; the
// value types themselves are trivially copyable and safe to use on the hot path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace director::net {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

/**
 * An IPv4 or IPv6 address in network byte order. IPv4 addresses occupy bytes_[0..3] and the
 * rest is zero, so that equality and hashing never see stale bytes.
 */
class IpAddress {
public:
    IpAddress() = default;

    static IpAddress v4(uint32_t host_order) noexcept;
    static IpAddress v4_bytes(const uint8_t* network_order) noexcept;
    static IpAddress v6_bytes(const uint8_t* network_order) noexcept;

    /** Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nullopt on anything else. */
    static std::optional<IpAddress> parse(std::string_view text);

    Family family() const noexcept { return family_; }
    bool is_v4() const noexcept { return family_ == Family::V4; }
    bool is_v6() const noexcept { return family_ == Family::V6; }
    /** Address length in bytes: 4 or 16. */
    unsigned size() const noexcept { return is_v4() ? 4u : 16u; }
    /** Maximum prefix length: 32 or 128. */
    unsigned max_prefix() const noexcept { return is_v4() ? 32u : 128u; }
    const uint8_t* bytes() const noexcept { return bytes_.data(); }
    /** IPv4 only: the address in host byte order. */
    uint32_t v4_host() const noexcept;
    bool is_multicast() const noexcept;
    bool is_unspecified() const noexcept;

    /** The address with all bits beyond prefix_len cleared. */
    IpAddress masked(unsigned prefix_len) const noexcept;

    std::string to_string() const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    /** Numeric order within a family (IPv4 before IPv6): the VRRP tie-break order. */
    friend auto operator<=>(const IpAddress& a, const IpAddress& b) noexcept {
        if (a.family_ != b.family_) {
            return a.family_ <=> b.family_;
        }
        return a.bytes_ <=> b.bytes_;
    }

private:
    std::array<uint8_t, 16> bytes_{};
    Family family_ = Family::V4;
};

/** An address with a prefix length, e.g. 10.99.0.120/24. */
struct Prefix {
    IpAddress address;
    uint8_t length = 32;

    /**
     * Parses "ADDR" (full-length prefix) or "ADDR/LEN"; nullopt if either part is invalid or
     * LEN exceeds the family's width.
     */
    static std::optional<Prefix> parse(std::string_view text);
    /** True when addr falls inside this prefix (same family, same leading bits). */
    bool contains(const IpAddress& addr) const noexcept;
    std::string to_string() const;

    friend bool operator==(const Prefix&, const Prefix&) = default;
};

/** A 48-bit Ethernet address. */
struct MacAddress {
    std::array<uint8_t, 6> bytes{};

    /** Parses "aa:bb:cc:dd:ee:ff" (also '-' separated), case-insensitive. */
    static std::optional<MacAddress> parse(std::string_view text);
    bool is_zero() const noexcept;
    bool is_multicast() const noexcept { return (bytes[0] & 1) != 0; }
    std::string to_string() const;

    friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

/**
 * Converts a dotted IPv4 netmask (255.255.255.0) to its prefix length; nullopt if the mask is
 * not a contiguous run of ones.
 */
std::optional<uint8_t> netmask_to_prefix(std::string_view dotted);

}  // namespace director::net
