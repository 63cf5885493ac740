// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/codec.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "net/checksum.h"
#include "vrrp/detail/bytes.h"

namespace director::vrrp {

using detail::load_be16;
using detail::store_be16;

namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr Duration kV3Unit = std::chrono::milliseconds(10);  // centisecond (RFC 5798 §5.2.7)
constexpr Duration kV2Unit = std::chrono::seconds(1);        // second (RFC 3768 §5.3.7)

/** The interval in the version's wire units, or nullopt if not representable. */
std::optional<uint16_t> wire_interval(uint8_t version, Duration d) {
    const Duration unit = version == 2 ? kV2Unit : kV3Unit;
    const int64_t max = version == 2 ? kMaxV2IntervalS : kMaxV3IntervalCs;
    if (d.count() <= 0 || d % unit != Duration::zero() || d / unit > max) {
        return std::nullopt;
    }
    return static_cast<uint16_t>(d / unit);
}

std::optional<std::string> invalid(const AdvertSpec& spec) {
    const Advert& a = spec.advert;
    if (a.version != 2 && a.version != 3) {
        return "VRRP version must be 2 or 3, not " + std::to_string(a.version);
    }
    if (spec.src.family() != spec.dst.family()) {
        return "advert source and destination are of different families";
    }
    if (a.version == 2 && spec.src.is_v6()) {
        return "VRRPv2 is IPv4 only (RFC 3768)";
    }
    if (a.addresses.size() > 255) {
        return "more than 255 addresses in one advert";
    }
    for (const net::IpAddress& ip : a.addresses) {
        if (ip.family() != spec.src.family()) {
            return "virtual address " + ip.to_string() + " is not of the advert's family";
        }
    }
    if (a.version == 2 && a.auth_type == AuthType::Ah) {
        return "auth_type AH is not supported";
    }
    if (!wire_interval(a.version, a.adver_int)) {
        return a.version == 2 ? "VRRPv2 advert interval must be 1..255 whole seconds"
                              : "VRRPv3 advert interval must be 10 ms..40.95 s in 10 ms steps";
    }
    return std::nullopt;
}

net::IpAddress address_at(net::Family f, const uint8_t* p) {
    return f == net::Family::V4 ? net::IpAddress::v4_bytes(p) : net::IpAddress::v6_bytes(p);
}

}  // namespace

net::IpAddress mcast_group_v4() noexcept { return net::IpAddress::v4(0xe0000012); }

net::IpAddress mcast_group_v6() noexcept {
    const uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12};
    return net::IpAddress::v6_bytes(b);
}

net::IpAddress mcast_group(net::Family f) noexcept {
    return f == net::Family::V4 ? mcast_group_v4() : mcast_group_v6();
}

net::MacAddress multicast_mac(const net::IpAddress& group) noexcept {
    const uint8_t* g = group.bytes();
    if (group.is_v4()) {
        return net::MacAddress{{0x01, 0x00, 0x5e, static_cast<uint8_t>(g[1] & 0x7f), g[2], g[3]}};
    }
    return net::MacAddress{{0x33, 0x33, g[12], g[13], g[14], g[15]}};
}

AuthData make_auth_data(std::string_view password) noexcept {
    AuthData d{};
    std::memcpy(d.data(), password.data(), std::min(password.size(), d.size()));
    return d;
}

std::size_t vrrp_length(uint8_t version, net::Family family, std::size_t count) noexcept {
    const std::size_t addr = family == net::Family::V4 ? 4 : 16;
    return kHeaderLen + count * addr + (version == 2 ? kAuthLen : 0);
}

std::size_t ip_length(const AdvertSpec& spec) noexcept {
    const std::size_t iph = spec.src.is_v4() ? kIpv4HeaderLen : kIpv6HeaderLen;
    return iph + vrrp_length(spec.advert.version, spec.src.family(), spec.advert.addresses.size());
}

std::size_t frame_length(const AdvertSpec& spec) noexcept {
    return kEthHeaderLen + ip_length(spec);
}

uint16_t vrrp_checksum(std::span<const uint8_t> vrrp, uint8_t version, const net::IpAddress& src,
                       const net::IpAddress& dst, bool as_v2) noexcept {
    const auto len = static_cast<uint32_t>(vrrp.size());
    uint32_t sum = 0;
    if (version == 3 && src.is_v6()) {
        // RFC 5798 §5.2.8 + RFC 8200 §8.1.
        sum = net::ipv6_pseudo_header_sum(src.bytes(), dst.bytes(), kIpProtoVrrp, len);
    } else if (version == 3 && !as_v2) {
        // keepalived's default for v3/IPv4 (keepalived.md §2.2): IPv4 pseudo-header with the
        // actual destination, as for UDP (RFC 768).
        sum = net::ipv4_pseudo_header_sum(src.bytes(), dst.bytes(), kIpProtoVrrp,
                                          static_cast<uint16_t>(len));
    }
    // v2: RFC 3768 §5.3.8, the VRRP message only.
    return net::checksum_fold(net::checksum_add(vrrp.data(), len, sum));
}

Result<std::size_t> encode_ip(const AdvertSpec& spec, std::span<uint8_t> out) {
    if (auto why = invalid(spec)) {
        return make_error(*why);
    }
    const std::size_t total = ip_length(spec);
    if (out.size() < total) {
        return make_error("buffer of " + std::to_string(out.size()) + " bytes cannot hold a " +
                          std::to_string(total) + "-byte advert");
    }
    const Advert& a = spec.advert;
    const bool v4 = spec.src.is_v4();
    const std::size_t iph = v4 ? kIpv4HeaderLen : kIpv6HeaderLen;
    const std::size_t vlen = total - iph;
    uint8_t* p = out.data();
    std::memset(p, 0, total);

    if (v4) {
        // RFC 791 §3.1; field values from keepalived vrrp_build_ip4.
        p[0] = 0x45;
        p[1] = kVrrpTos;
        store_be16(p + 2, static_cast<uint16_t>(total));
        store_be16(p + 4, spec.ip_id);
        // p[6..7] = 0: DF clear, no fragment offset.
        p[8] = spec.ttl;
        p[9] = kIpProtoVrrp;
        std::memcpy(p + 12, spec.src.bytes(), 4);
        std::memcpy(p + 16, spec.dst.bytes(), 4);
        store_be16(p + 10, net::ipv4_header_checksum(p, kIpv4HeaderLen));
    } else {
        // RFC 8200 §3: version 6, traffic class 0xc0, flow label 0.
        p[0] = 0x60 | (kVrrpTos >> 4);
        p[1] = static_cast<uint8_t>((kVrrpTos & 0x0f) << 4);
        store_be16(p + 4, static_cast<uint16_t>(vlen));
        p[6] = kIpProtoVrrp;
        p[7] = spec.ttl;
        std::memcpy(p + 8, spec.src.bytes(), 16);
        std::memcpy(p + 24, spec.dst.bytes(), 16);
    }

    uint8_t* v = p + iph;
    v[0] = static_cast<uint8_t>(a.version << 4 | (a.type & 0x0f));  // RFC 5798 §5.2.1-5.2.2
    v[1] = a.vrid;
    v[2] = a.priority;
    v[3] = static_cast<uint8_t>(a.addresses.size());
    const uint16_t interval = *wire_interval(a.version, a.adver_int);
    if (a.version == 2) {
        v[4] = static_cast<uint8_t>(a.auth_type);  // RFC 3768 §5.3.6
        v[5] = static_cast<uint8_t>(interval);     // RFC 3768 §5.3.7
    } else {
        store_be16(v + 4, interval & 0x0fff);  // 4 reserved bits zero (RFC 5798 §5.2.6-5.2.7)
    }
    uint8_t* addr = v + kHeaderLen;
    for (const net::IpAddress& ip : a.addresses) {
        std::memcpy(addr, ip.bytes(), ip.size());
        addr += ip.size();
    }
    if (a.version == 2 && a.auth_type == AuthType::Pass) {
        std::memcpy(addr, a.auth_data.data(), kAuthLen);  // RFC 2338 §5.3.10; zero otherwise
    }
    store_be16(v + 6,
               vrrp_checksum({v, vlen}, a.version, spec.src, spec.dst, spec.v3_checksum_as_v2));
    return total;
}

Result<std::vector<uint8_t>> encode_ip(const AdvertSpec& spec) {
    std::vector<uint8_t> out(ip_length(spec));
    auto n = encode_ip(spec, out);
    if (!n) {
        return Unexpected<Error>{n.error()};
    }
    return out;
}

Result<std::size_t> encode_frame(const AdvertSpec& spec, const FrameMacs& macs,
                                 std::span<uint8_t> out) {
    net::MacAddress dst_mac;
    if (macs.dst) {
        dst_mac = *macs.dst;
    } else if (spec.dst.is_multicast()) {
        dst_mac = multicast_mac(spec.dst);
    } else {
        return make_error("unicast advert to " + spec.dst.to_string() + " needs the peer's MAC");
    }
    if (out.size() < kEthHeaderLen) {
        return make_error("buffer too small for an Ethernet header");
    }
    auto n = encode_ip(spec, out.subspan(kEthHeaderLen));
    if (!n) {
        return n;
    }
    std::memcpy(out.data(), dst_mac.bytes.data(), 6);
    std::memcpy(out.data() + 6, macs.src.bytes.data(), 6);
    store_be16(out.data() + 12, spec.src.is_v4() ? kEtherTypeIpv4 : kEtherTypeIpv6);
    return kEthHeaderLen + *n;
}

Result<std::vector<uint8_t>> encode_frame(const AdvertSpec& spec, const FrameMacs& macs) {
    std::vector<uint8_t> out(frame_length(spec));
    auto n = encode_frame(spec, macs, out);
    if (!n) {
        return Unexpected<Error>{n.error()};
    }
    return out;
}

namespace {

/** The IP layer of a received packet, after the structural checks. */
struct IpView {
    net::Family family;
    uint8_t proto;
    uint8_t ttl;
    net::IpAddress src;
    net::IpAddress dst;
    std::span<const uint8_t> payload;  // bounded by the IP length, padding excluded
};

Result<IpView, Reject> parse_ip(std::span<const uint8_t> ip) {
    using R = Result<IpView, Reject>;
    if (ip.empty()) {
        return R{Unexpected{Reject::TooShort}};
    }
    const uint8_t version = ip[0] >> 4;
    if (version == 4) {
        if (ip.size() < kIpv4HeaderLen) {
            return R{Unexpected{Reject::TooShort}};
        }
        const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
        const std::size_t tot_len = load_be16(ip.data() + 2);
        if (ihl < kIpv4HeaderLen || tot_len < ihl) {
            return R{Unexpected{Reject::BadIpHeader}};
        }
        // keepalived check 8 (tot_len == received length), with Ethernet padding tolerated.
        if (ip.size() < ihl || ip.size() < tot_len) {
            return R{Unexpected{Reject::TooShort}};
        }
        if (!net::ipv4_header_checksum_ok(ip.data(), static_cast<uint32_t>(ihl))) {
            return R{Unexpected{Reject::BadIpChecksum}};
        }
        if ((load_be16(ip.data() + 6) & 0x3fff) != 0) {  // MF or a fragment offset
            return R{Unexpected{Reject::Fragment}};
        }
        return IpView{net::Family::V4,
                      ip[9],
                      ip[8],
                      net::IpAddress::v4_bytes(ip.data() + 12),
                      net::IpAddress::v4_bytes(ip.data() + 16),
                      ip.subspan(ihl, tot_len - ihl)};
    }
    if (version == 6) {
        if (ip.size() < kIpv6HeaderLen) {
            return R{Unexpected{Reject::TooShort}};
        }
        const std::size_t payload = load_be16(ip.data() + 4);
        if (ip.size() < kIpv6HeaderLen + payload) {
            return R{Unexpected{Reject::TooShort}};
        }
        return IpView{net::Family::V6,
                      ip[6],
                      ip[7],
                      net::IpAddress::v6_bytes(ip.data() + 8),
                      net::IpAddress::v6_bytes(ip.data() + 24),
                      ip.subspan(kIpv6HeaderLen, payload)};
    }
    return R{Unexpected{Reject::BadIpHeader}};
}

bool contains(std::span<const net::IpAddress> set, const net::IpAddress& a) {
    return std::find(set.begin(), set.end(), a) != set.end();
}

}  // namespace

Result<Received, Reject> decode(std::span<const uint8_t> ip, bool l2_multicast,
                                const Expect& expect) {
    using R = Result<Received, Reject>;
    auto parsed = parse_ip(ip);
    if (!parsed) {
        return R{Unexpected{parsed.error()}};
    }
    const IpView& l3 = *parsed;
    if (l3.family != expect.family) {
        return R{Unexpected{Reject::WrongFamily}};
    }
    // keepalived check 1: AH presence must match auth_type AH, which we never configure.
    if (l3.proto == kIpProtoAh) {
        return R{Unexpected{Reject::AuthAh}};
    }
    const std::span<const uint8_t> v = l3.payload;
    if (l3.proto != kIpProtoVrrp || v.size() < kHeaderLen) {
        return R{Unexpected{Reject::NotVrrp}};
    }
    // Dispatch (keepalived vrrp_index_lookup): the VRID must be this instance's.
    if (v[1] != expect.vrid) {
        return R{Unexpected{Reject::UnknownVrid}};
    }
    const uint8_t version = v[0] >> 4;
    const uint8_t count = v[3];
    // keepalived check 2: exact length (RFC 5798 §7.1 "complete VRRP packet"). The layout is
    // the packet's own version's, so that a v3 advert at a v2 instance reports the version.
    if ((version == 2 || version == 3) && v.size() != vrrp_length(version, l3.family, count)) {
        return R{Unexpected{Reject::BadLength}};
    }
    const bool multicast = l2_multicast || l3.dst.is_multicast();
    // keepalived check 3 (RFC 5798 §7.1, RFC 3768 §7.1): TTL/HL 255, multicast only.
    if (multicast && l3.ttl != kVrrpTtl) {
        return R{Unexpected{Reject::BadTtl}};
    }
    // keepalived check 4: "wrong VRRP version ... Received 2 and expect 3".
    if (version != expect.version) {
        return R{Unexpected{Reject::VersionMismatch}};
    }

    Received r;
    Advert& a = r.advert;
    a.version = version;
    a.type = v[0] & 0x0f;
    a.vrid = v[1];
    a.priority = v[2];
    const std::size_t addr_size = l3.family == net::Family::V4 ? 4 : 16;
    if (version == 2) {
        // keepalived check 5: auth type known and the configured one; PASS compares 8 bytes.
        if (v[4] > static_cast<uint8_t>(AuthType::Ah) ||
            v[4] != static_cast<uint8_t>(expect.auth_type)) {
            return R{Unexpected{Reject::BadAuthType}};
        }
        a.auth_type = static_cast<AuthType>(v[4]);
        std::memcpy(a.auth_data.data(), v.data() + kHeaderLen + count * addr_size, kAuthLen);
        if (a.auth_type == AuthType::Pass && a.auth_data != expect.auth_data) {
            return R{Unexpected{Reject::BadPassword}};
        }
        if (a.auth_type == AuthType::None) {
            a.auth_data = {};
        }
        // keepalived check 6 / RFC 3768 §7.1: v2 intervals must match; DROP otherwise.
        a.adver_int = kV2Unit * v[5];
        if (a.adver_int != expect.adver_int) {
            return R{Unexpected{Reject::IntervalMismatch}};
        }
    } else {
        // v3: a different interval is adopted by a backup (RFC 5798 §6.4.2), not refused.
        const uint16_t cs = load_be16(v.data() + 4) & 0x0fff;
        if (cs == 0) {
            return R{Unexpected{Reject::BadInterval}};
        }
        a.adver_int = kV3Unit * cs;
    }
    // keepalived check 7 (RFC 5798 §5.2.2).
    if (a.type != kTypeAdvertisement) {
        return R{Unexpected{Reject::BadType}};
    }
    // keepalived check 9. v3/IPv4 with v3_checksum_as_v2 is not verified at all (vrrp.c).
    const bool skip_checksum =
        version == 3 && l3.family == net::Family::V4 && expect.v3_checksum_as_v2;
    if (!skip_checksum && vrrp_checksum(v, version, l3.src, l3.dst, false) != 0) {
        // keepalived <= 1.3.6 put the group in the pseudo-header of unicast v3 adverts; newer
        // keepalived detects that and accepts it (old_unicast_checksum, PR #929).
        const bool old_style = version == 3 && l3.family == net::Family::V4 && !multicast &&
                               vrrp_checksum(v, version, l3.src, mcast_group_v4(), false) == 0;
        if (!old_style) {
            return R{Unexpected{Reject::BadChecksum}};
        }
        r.old_unicast_checksum = true;
    }
    // keepalived check 10.
    if (expect.unicast && multicast) {
        return R{Unexpected{Reject::ExpectedUnicast}};
    }
    if (!expect.unicast && !multicast) {
        return R{Unexpected{Reject::ExpectedMulticast}};
    }
    a.addresses.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        a.addresses.push_back(address_at(l3.family, v.data() + kHeaderLen + i * addr_size));
    }
    // keepalived check 12: log only (>= 2.3.3).
    r.vips_differ = a.addresses.size() != expect.vips.size() ||
                    !std::all_of(expect.vips.begin(), expect.vips.end(),
                                 [&](const auto& vip) { return contains(a.addresses, vip); });
    // keepalived check 13.
    if (expect.unicast && expect.check_unicast_src && !contains(expect.unicast_peers, l3.src)) {
        return R{Unexpected{Reject::UnicastSrcNotPeer}};
    }
    r.src = l3.src;
    r.dst = l3.dst;
    r.ttl = l3.ttl;
    r.multicast = multicast;
    return r;
}

std::optional<Peek> peek(std::span<const uint8_t> ip) noexcept {
    if (ip.empty()) {
        return std::nullopt;
    }
    const uint8_t version = ip[0] >> 4;
    std::size_t off = 0;
    uint8_t proto = 0;
    net::Family family;
    if (version == 4 && ip.size() >= kIpv4HeaderLen) {
        family = net::Family::V4;
        off = std::size_t{ip[0] & 0x0fu} * 4;
        proto = ip[9];
    } else if (version == 6 && ip.size() >= kIpv6HeaderLen) {
        family = net::Family::V6;
        off = kIpv6HeaderLen;
        proto = ip[6];
    } else {
        return std::nullopt;
    }
    if (proto != kIpProtoVrrp || off < kIpv4HeaderLen || ip.size() < off + kHeaderLen) {
        return std::nullopt;
    }
    return Peek{family, static_cast<uint8_t>(ip[off] >> 4), ip[off + 1]};
}

}  // namespace director::vrrp
