// SPDX-License-Identifier: BSD-3-Clause
#include "neigh/responder.h"

#include <cstring>

namespace director::neigh {
namespace {

// No neighbour owns a multicast or zero MAC (IEEE 802 group bit; RFC 1812 3.3.2 ignores ARP
// claiming a broadcast MAC).
bool bad_mac(const net::MacAddress& mac) noexcept { return mac.is_multicast() || mac.is_zero(); }

// Sender addresses no host on the segment can have: multicast 224/4, class E and limited
// broadcast 240/4 (RFC 1122 3.2.1.3), loopback 127/8. 0.0.0.0 is an ARP probe (RFC 5227 2.1.1).
bool bad_v4_sender(const net::IpAddress& ip) noexcept {
    const uint32_t a = ip.v4_host();
    return a >= 0xe0000000u || (a >> 24) == 127;
}

Decision decide(Reason reason, std::optional<Binding> learn = std::nullopt,
                uint32_t reply_len = 0) noexcept {
    Decision d;
    d.reason = reason;
    d.reply_len = reply_len;
    d.learn = learn;
    return d;
}

}  // namespace

Decision Responder::reply_arp(const RxPort& rx, const net::ArpPacket& arp, Reason reason,
                              std::optional<Binding> learn, std::span<uint8_t> out) noexcept {
    const uint32_t len = build_arp_reply(out, Link{.mac = rx.mac, .vlan_id = rx.vlan_id}, arp);
    if (len == 0) {
        return finish(decide(Reason::BugNoRoom, learn));
    }
    return finish(decide(reason, learn, len));
}

Decision Responder::on_arp(const RxPort& rx, const net::ArpPacket& arp,
                           std::span<uint8_t> out) noexcept {
    if (arp.sender_mac == rx.mac) {
        return finish(decide(Reason::ArpLooped));
    }
    if (bad_mac(arp.sender_mac) || bad_v4_sender(arp.sender_ip)) {
        return finish(decide(Reason::ArpBadSender));
    }
    // RFC 5227 2.1.1: a probe's sender IP is 0.0.0.0; it binds nothing.
    const bool probe = arp.sender_ip.is_unspecified();
    // RFC 5227 2.4: someone else sends from an address we hold. Never learn it (that would
    // point our own address, or a VIP, at another box) and never answer it.
    if (!probe && answers(ownership_.lookup(rx.port, arp.sender_ip))) {
        return finish(decide(Reason::ArpConflict));
    }
    std::optional<Binding> learn;
    if (!probe) {
        learn = Binding{.ip = arp.sender_ip, .mac = arp.sender_mac};
    }
    // RFC 5227 3: an announcement has sender IP == target IP, as a request or a reply.
    if (!probe && arp.sender_ip == arp.target_ip) {
        return finish(decide(Reason::ArpGratuitous, learn));
    }
    if (arp.op == kArpOpReply) {
        return finish(decide(Reason::ArpReplyReceived, learn));
    }
    switch (ownership_.lookup(rx.port, arp.target_ip)) {
        case Holding::Own:
            return reply_arp(rx, arp, Reason::ArpReplyOwn, learn, out);
        case Holding::Vip:
            return reply_arp(rx, arp, Reason::ArpReplyVip, learn, out);
        case Holding::VipNotMaster:
            return finish(decide(Reason::ArpVipNotOwned, learn));
        case Holding::None:
            break;
    }
    return finish(decide(Reason::ArpNotOurs, learn));
}

Decision Responder::on_nd(const RxPort& rx, const NdPacket& nd, std::span<uint8_t> out) noexcept {
    if (nd.eth_src == rx.mac || (nd.lladdr && *nd.lladdr == rx.mac)) {
        return finish(decide(Reason::NdLooped));
    }
    // RFC 4291 2.7: a multicast address is never a source.
    if (nd.src.is_multicast() || nd.eth_src.is_multicast() || (nd.lladdr && bad_mac(*nd.lladdr))) {
        return finish(decide(Reason::NdBadSender));
    }
    if (nd.is_na()) {
        // RFC 4861 7.2.5: the advertised binding is target -> target link-layer address. Lacking
        // the option (allowed in a reply to a unicast NS), the Ethernet source is the sender.
        if (answers(ownership_.lookup(rx.port, nd.target))) {
            return finish(decide(Reason::NdConflict));
        }
        return finish(decide(Reason::NaReceived,
                             Binding{.ip = nd.target, .mac = nd.lladdr.value_or(nd.eth_src)}));
    }
    // A DAD probe (RFC 4862 5.4.2) comes from the unspecified address and binds nothing.
    const bool dad = nd.src.is_unspecified();
    if (!dad && answers(ownership_.lookup(rx.port, nd.src))) {
        return finish(decide(Reason::NdConflict));
    }
    std::optional<Binding> learn;
    if (!dad && nd.lladdr) {
        learn = Binding{.ip = nd.src, .mac = *nd.lladdr};  // RFC 4861 7.2.3
    }
    Reason reason;
    switch (ownership_.lookup(rx.port, nd.target)) {
        case Holding::Own:
            reason = Reason::NsReplyOwn;
            break;
        case Holding::Vip:
            reason = Reason::NsReplyVip;
            break;
        case Holding::VipNotMaster:
            return finish(decide(Reason::NsVipNotOwned, learn));
        case Holding::None:
        default:
            return finish(decide(Reason::NsNotOurs, learn));
    }
    const uint32_t len = build_na_reply(out, Link{.mac = rx.mac, .vlan_id = nd.vlan_id}, nd);
    if (len == 0) {
        return finish(decide(Reason::BugNoRoom, learn));
    }
    return finish(decide(reason, learn, len));
}

Decision Responder::on_frame(const RxPort& rx, std::span<const uint8_t> frame,
                             std::span<uint8_t> out) noexcept {
    net::ParsedPacket p;
    const auto len = static_cast<uint32_t>(frame.size());
    const net::Verdict v = net::parse_frame(frame.data(), len, p);
    if (net::is_drop(v)) {
        const bool arp = v == net::Verdict::ArpTooShort || v == net::Verdict::ArpUnsupported ||
                         v == net::Verdict::ArpBadOp;
        return finish(decide(arp ? Reason::ArpMalformed : Reason::FrameMalformed));
    }
    // A promiscuous port also sees unicast meant for other hosts; not ours to answer or learn
    // from (the kernel drops PACKET_OTHERHOST before ARP sees it).
    if ((frame[0] & 1) == 0 && std::memcmp(frame.data(), rx.mac.bytes.data(), 6) != 0) {
        return finish(decide(Reason::NotOurMac));
    }
    if (v == net::Verdict::Arp) {
        net::ArpPacket arp;
        if (net::parse_arp(frame.data() + p.l3_offset, len - p.l3_offset, arp) !=
            net::Verdict::Arp) {
            return finish(decide(Reason::ArpMalformed));
        }
        RxPort tagged = rx;
        tagged.vlan_id = static_cast<uint16_t>(p.vlan_tci & 0x0fff);
        return on_arp(tagged, arp, out);
    }
    if (is_nd(p)) {
        NdPacket nd;
        const NdError e = parse_nd(frame, p, nd);
        if (e != NdError::None) {
            return finish(decide(to_reason(e)));
        }
        return on_nd(rx, nd, out);
    }
    return finish(decide(Reason::NotNeighbour));
}

}  // namespace director::neigh
