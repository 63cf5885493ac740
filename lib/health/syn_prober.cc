// SPDX-License-Identifier: BSD-3-Clause
#include "health/syn_prober.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "net/checksum.h"
#include "net/parse.h"

namespace director::health {

namespace {

using net::kEtherTypeIpv4;
using net::kEtherTypeIpv6;
using net::kEtherTypeVlan;
using net::kIpProtoTcp;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpAck = 0x10;
constexpr std::size_t kEthLen = 14;
constexpr std::size_t kIpv4Len = 20;
constexpr std::size_t kIpv6Len = 40;
constexpr std::size_t kTcpLen = 20;
constexpr std::size_t kSynOptLen = 4;     // MSS (RFC 9293 3.7.1)
constexpr std::size_t kMinEthFrame = 60;  // 802.3 minimum without FCS; we pad to it
constexpr uint16_t kSynWindow = 64240;    // Linux's initial window (44 * 1460)

uint16_t load16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint32_t load32(const uint8_t* p) noexcept {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void store16(uint8_t* p, uint16_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

void store32(uint8_t* p, uint32_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

/** What build_segment needs to know about one TCP segment. */
struct Segment {
    const net::MacAddress* src_mac;
    const net::MacAddress* dst_mac;
    const net::IpAddress* src;
    const net::IpAddress* dst;
    uint16_t sport;
    uint16_t dport;
    uint32_t seq;
    uint32_t ack;
    uint8_t flags;
    uint16_t window;
    uint16_t mss;  ///< 0: no option
    uint16_t ip_id;
    uint8_t ttl;
};

/** Builds Ethernet + IPv4/IPv6 + TCP into buf; @return the frame length (padded to 60). */
std::size_t build_segment(const Segment& g, uint8_t* buf) noexcept {
    const bool v6 = g.dst->is_v6();
    const std::size_t opt = g.mss != 0 ? kSynOptLen : 0;
    const std::size_t tcp_len = kTcpLen + opt;
    const std::size_t ip_len = v6 ? kIpv6Len : kIpv4Len;
    const std::size_t len = kEthLen + ip_len + tcp_len;
    std::memset(buf, 0, std::max(len, kMinEthFrame));
    std::memcpy(buf, g.dst_mac->bytes.data(), 6);
    std::memcpy(buf + 6, g.src_mac->bytes.data(), 6);
    store16(buf + 12, v6 ? kEtherTypeIpv6 : kEtherTypeIpv4);

    uint8_t* ip = buf + kEthLen;
    uint8_t* tcp = ip + ip_len;
    store16(tcp, g.sport);
    store16(tcp + 2, g.dport);
    store32(tcp + 4, g.seq);
    store32(tcp + 8, g.ack);
    tcp[12] = static_cast<uint8_t>((tcp_len / 4) << 4);
    tcp[13] = g.flags;
    store16(tcp + 14, g.window);
    if (opt != 0) {
        tcp[20] = 2;  // kind MSS
        tcp[21] = 4;
        store16(tcp + 22, g.mss);
    }
    uint32_t pseudo;
    if (v6) {
        ip[0] = 0x60;  // version 6, traffic class 0, flow label 0
        store16(ip + 4, static_cast<uint16_t>(tcp_len));
        ip[6] = kIpProtoTcp;
        ip[7] = g.ttl;
        std::memcpy(ip + 8, g.src->bytes(), 16);
        std::memcpy(ip + 24, g.dst->bytes(), 16);
        pseudo = net::ipv6_pseudo_header_sum(ip + 8, ip + 24, kIpProtoTcp,
                                             static_cast<uint32_t>(tcp_len));
    } else {
        ip[0] = 0x45;
        store16(ip + 2, static_cast<uint16_t>(kIpv4Len + tcp_len));
        store16(ip + 4, g.ip_id);
        store16(ip + 6, 0x4000);  // DF, as Linux sends SYNs (path MTU discovery)
        ip[8] = g.ttl;
        ip[9] = kIpProtoTcp;
        std::memcpy(ip + 12, g.src->bytes(), 4);
        std::memcpy(ip + 16, g.dst->bytes(), 4);
        store16(ip + 10, net::ipv4_header_checksum(ip, kIpv4Len));
        pseudo = net::ipv4_pseudo_header_sum(ip + 12, ip + 16, kIpProtoTcp,
                                             static_cast<uint16_t>(tcp_len));
    }
    store16(tcp + 16, net::l4_checksum(pseudo, tcp, static_cast<uint32_t>(tcp_len)));
    return std::max(len, kMinEthFrame);
}

}  // namespace

struct SynProber::Slot {
    uint64_t token = 0;
    TimePoint deadline{};
    TimePoint next_tx{};   ///< next SYN retransmission
    TimePoint armed_at{};  ///< the time of this slot's live timer
    Duration rto{};
    net::IpAddress src;
    net::IpAddress dst;
    net::MacAddress src_mac;
    net::MacAddress dst_mac;
    uint32_t isn = 0;
    uint32_t gen = 0;  ///< bumped at start and finish: older timers are stale
    uint16_t port_id = 0;
    uint16_t dst_port = 0;
    bool active = false;
};

SynProber::SynProber(SynProberConfig config) : config_(std::move(config)) {
    rng_ = config_.seed ^ 0x9e3779b97f4a7c15ull;
    const std::size_t n = config_.first_port <= config_.last_port
                              ? std::size_t{config_.last_port} - config_.first_port + 1
                              : 0;
    slots_.resize(n);
    free_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        free_[i] = static_cast<uint16_t>(i);
    }
    free_count_ = n;
    heap_.reserve(2 * n + 65);  // prune() compacts before it would grow past this
}

SynProber::~SynProber() = default;

uint64_t SynProber::next_random() noexcept {
    // splitmix64: fast, seedable; ISNs need to be unpredictable to an off-path attacker only
    // as much as keepalived's (the kernel's) are for a health check, i.e. not guessable
    // sequence by sequence, which a seeded generator gives when the seed comes from entropy.
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const SynEndpoint* SynProber::endpoint(uint16_t port_id, bool v6) const noexcept {
    for (const SynEndpoint& ep : config_.endpoints) {
        if (ep.port_id == port_id && (v6 ? ep.v6.has_value() : ep.v4.has_value())) {
            return &ep;
        }
    }
    return nullptr;
}

bool SynProber::can_probe(uint16_t port_id, const net::IpAddress& dst) const noexcept {
    return endpoint(port_id, dst.is_v6()) != nullptr;
}

SynStart SynProber::start(uint64_t token, uint16_t port_id, const net::IpAddress& dst,
                          uint16_t dst_port, const net::MacAddress& next_hop_mac,
                          Duration connect_timeout, TimePoint now, FrameSink& sink,
                          Handle* handle) noexcept {
    const SynEndpoint* ep = endpoint(port_id, dst.is_v6());
    if (ep == nullptr) {
        return SynStart::NoEndpoint;
    }
    if (free_count_ == 0) {
        ++stats_.no_free_port;
        return SynStart::NoFreePort;
    }
    const uint16_t index = free_[free_head_];
    free_head_ = (free_head_ + 1) % free_.size();
    --free_count_;
    Slot& s = slots_[index];
    s.token = token;
    s.deadline = now + connect_timeout;
    s.rto = config_.initial_rto;
    s.next_tx = now + s.rto;
    s.src = dst.is_v6() ? *ep->v6 : *ep->v4;
    s.dst = dst;
    s.src_mac = ep->mac;
    s.dst_mac = next_hop_mac;
    s.isn = static_cast<uint32_t>(next_random());
    ++s.gen;
    s.port_id = port_id;
    s.dst_port = dst_port;
    s.active = true;
    ++stats_.started;
    ++stats_.in_flight;
    if (handle != nullptr) {
        *handle = static_cast<Handle>(config_.first_port + index);
    }
    send_syn(s, sink);
    arm(index, std::min(s.next_tx, s.deadline));
    return SynStart::Started;
}

void SynProber::send_segment(const Slot& s, uint32_t seq, uint32_t ack, uint8_t flags,
                             uint16_t window, uint16_t mss, FrameSink& sink) noexcept {
    uint8_t buf[kMaxFrame];
    const auto index = static_cast<uint16_t>(&s - slots_.data());
    const Segment g{
        .src_mac = &s.src_mac,
        .dst_mac = &s.dst_mac,
        .src = &s.src,
        .dst = &s.dst,
        .sport = static_cast<uint16_t>(config_.first_port + index),
        .dport = s.dst_port,
        .seq = seq,
        .ack = ack,
        .flags = flags,
        .window = window,
        .mss = mss,
        .ip_id = static_cast<uint16_t>(next_random()),
        .ttl = config_.ttl,
    };
    const std::size_t len = build_segment(g, buf);
    if (!sink.send(s.port_id, {buf, len})) {
        ++stats_.tx_failed;
    }
}

void SynProber::send_syn(const Slot& s, FrameSink& sink) noexcept {
    ++stats_.syn_sent;
    send_segment(s, s.isn, 0, kTcpSyn, kSynWindow,
                 static_cast<uint16_t>(s.dst.is_v6() ? config_.mss_v4 - 20 : config_.mss_v4),
                 sink);
}

void SynProber::send_rst(const Slot& s, uint32_t their_seq, FrameSink& sink) noexcept {
    // RST|ACK with seq = ISN + 1 (the server's RCV.NXT: RFC 5961 3.2's exact match) and
    // ack = their ISN + 1, what Linux sends for an SO_LINGER-0 close of a fresh connection.
    send_segment(s, s.isn + 1, their_seq + 1, kTcpRst | kTcpAck, 0, 0, sink);
}

bool SynProber::on_frame(std::span<const uint8_t> frame, TimePoint /*now*/, FrameSink& sink,
                         std::vector<SynOutcome>& out) noexcept {
    if (free_count_ == slots_.size() || frame.size() < kEthLen) {
        return false;  // nothing outstanding: nothing can be ours
    }
    const uint8_t* p = frame.data();
    std::size_t off = 12;
    uint16_t type = load16(p + off);
    if (type == kEtherTypeVlan) {
        if (frame.size() < kEthLen + 4) {
            return false;
        }
        off += 4;
        type = load16(p + off);
    }
    off += 2;
    const uint8_t* ip = p + off;
    const std::size_t avail = frame.size() - off;
    const uint8_t* src;
    const uint8_t* dst;
    const uint8_t* tcp;
    std::size_t tcp_len;
    uint32_t pseudo;
    bool v6;
    if (type == kEtherTypeIpv4) {
        if (avail < kIpv4Len || (ip[0] >> 4) != 4) {
            return false;
        }
        const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
        const std::size_t total = load16(ip + 2);
        // Fragments (MF or an offset) are never ours: a SYN-ACK or RST is one small datagram.
        if (ihl < kIpv4Len || total < ihl + kTcpLen || total > avail || ip[9] != kIpProtoTcp ||
            (load16(ip + 6) & 0x3fff) != 0 || !net::ipv4_header_checksum_ok(ip, ihl)) {
            return false;
        }
        src = ip + 12;
        dst = ip + 16;
        tcp = ip + ihl;
        tcp_len = total - ihl;
        pseudo = net::ipv4_pseudo_header_sum(src, dst, kIpProtoTcp, static_cast<uint16_t>(tcp_len));
        v6 = false;
    } else if (type == kEtherTypeIpv6) {
        // Only TCP directly after the fixed header: replies to a SYN carry no extension headers.
        if (avail < kIpv6Len || (ip[0] >> 4) != 6 || ip[6] != kIpProtoTcp) {
            return false;
        }
        tcp_len = load16(ip + 4);
        if (tcp_len < kTcpLen || tcp_len > avail - kIpv6Len) {
            return false;
        }
        src = ip + 8;
        dst = ip + 24;
        tcp = ip + kIpv6Len;
        pseudo = net::ipv6_pseudo_header_sum(src, dst, kIpProtoTcp, static_cast<uint32_t>(tcp_len));
        v6 = true;
    } else {
        return false;
    }
    const uint16_t dport = load16(tcp + 2);
    if (dport < config_.first_port || dport > config_.last_port) {
        return false;
    }
    const auto index = static_cast<uint16_t>(dport - config_.first_port);
    Slot& s = slots_[index];
    const unsigned alen = v6 ? 16 : 4;
    if (!s.active || s.dst.is_v6() != v6 || load16(tcp) != s.dst_port ||
        std::memcmp(src, s.dst.bytes(), alen) != 0 || std::memcmp(dst, s.src.bytes(), alen) != 0) {
        return false;
    }
    // RFC 9293 3.10.7.3 (SYN-SENT): only a segment whose ACK acknowledges our SYN counts.
    const uint8_t flags = tcp[13];
    const std::size_t doff = std::size_t{tcp[12]} / 16 * 4;
    if ((flags & kTcpAck) == 0 || load32(tcp + 8) != s.isn + 1 || doff < kTcpLen ||
        doff > tcp_len || (flags & (kTcpSyn | kTcpRst)) == 0 ||
        net::l4_checksum(pseudo, tcp, static_cast<uint32_t>(tcp_len)) != 0) {
        return false;
    }
    ++stats_.consumed;
    if ((flags & kTcpRst) != 0) {
        finish(index, SynVerdict::Refused, out);
        return true;
    }
    send_rst(s, load32(tcp + 4), sink);
    finish(index, SynVerdict::Open, out);
    return true;
}

void SynProber::poll(TimePoint now, FrameSink& sink, std::vector<SynOutcome>& out) noexcept {
    while (!heap_.empty() && heap_.front().at <= now) {
        const Timer t = heap_.front();
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
        heap_.pop_back();
        Slot& s = slots_[t.index];
        if (!s.active || s.gen != t.gen) {
            continue;
        }
        if (now >= s.deadline) {
            finish(t.index, SynVerdict::Timeout, out);
            continue;
        }
        // RFC 6298 5.5: back the timer off (double it) at each retransmission.
        ++stats_.retransmits;
        send_syn(s, sink);
        s.rto *= 2;
        s.next_tx = now + s.rto;
        arm(t.index, std::min(s.next_tx, s.deadline));
    }
    prune();
}

std::optional<TimePoint> SynProber::next_deadline() const noexcept {
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.front().at;
}

void SynProber::cancel(Handle handle, uint64_t token) noexcept {
    if (handle < config_.first_port || handle > config_.last_port) {
        return;
    }
    const auto index = static_cast<uint16_t>(handle - config_.first_port);
    if (index >= slots_.size() || !slots_[index].active || slots_[index].token != token) {
        return;
    }
    ++stats_.cancelled;
    release(index);
    prune();
}

void SynProber::release(uint16_t index) noexcept {
    Slot& s = slots_[index];
    s.active = false;
    ++s.gen;
    --stats_.in_flight;
    free_[(free_head_ + free_count_) % free_.size()] = index;
    ++free_count_;
}

void SynProber::finish(uint16_t index, SynVerdict v, std::vector<SynOutcome>& out) noexcept {
    const Slot& s = slots_[index];
    release(index);
    switch (v) {
        case SynVerdict::Open:
            ++stats_.open;
            break;
        case SynVerdict::Refused:
            ++stats_.refused;
            break;
        case SynVerdict::Timeout:
            ++stats_.timeouts;
            break;
    }
    out.push_back(SynOutcome{s.token, v});
    prune();
}

void SynProber::arm(uint16_t index, TimePoint at) noexcept {
    Slot& s = slots_[index];
    s.armed_at = at;
    if (heap_.size() + 1 > heap_.capacity()) {
        // Compact: keep one entry per live probe (at most slots_.size()), so the reserved
        // capacity is never exceeded and the heap never allocates.
        heap_.clear();
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].active && i != index) {
                heap_.push_back(Timer{slots_[i].armed_at, slots_[i].gen, static_cast<uint16_t>(i)});
            }
        }
        std::make_heap(heap_.begin(), heap_.end(), std::greater<>{});
    }
    heap_.push_back(Timer{at, s.gen, index});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
}

void SynProber::prune() noexcept {
    // Stale tops go at once, so that next_deadline() is a live probe's time.
    while (!heap_.empty()) {
        const Timer& t = heap_.front();
        const Slot& s = slots_[t.index];
        if (s.active && s.gen == t.gen) {
            return;
        }
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
        heap_.pop_back();
    }
}

}  // namespace director::health
