// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/worker.h"

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <cassert>
#include <cstring>

#include "dataplane/lane.h"
#include "net/flow.h"

namespace director::dp {

namespace {

constexpr uint8_t kIpProtoVrrp = 112;       // RFC 5798 5.1.1.4
constexpr uint8_t kIcmpEchoRequest = 8;     // RFC 792
constexpr uint8_t kIcmp6EchoRequest = 128;  // RFC 4443 4.1
constexpr uint8_t kIcmp6NdFirst = 133;      // RFC 4861: RS, RA, NS, NA, Redirect
constexpr uint8_t kIcmp6NdLast = 137;

// The per-packet chains are inlined where they run: the fast lane's hit (lane_hit) into
// forward_lane_run, the general path (classify -> forward_flow -> rewrite_to_real) into
// process_general. Out of line, each step cost calls, argument spills and reloads of members
// (about 60 instructions per packet, callgrind). The rare branches stay out of line
// (noinline, cold) so that the inlined loops stay small.
#define DIRECTOR_HOT [[gnu::always_inline]] inline
#define DIRECTOR_COLD [[gnu::noinline, gnu::cold]]

bool same_addr(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
               net::Family f) noexcept {
    return std::memcmp(a.data(), b.data(), f == net::Family::V4 ? 4 : 16) == 0;
}

DIRECTOR_HOT bool is_own_address(const PortContext& port, const net::FlowKey& k) noexcept {
    return (k.family == net::Family::V4 && port.has_own_v4 &&
            same_addr(k.dst_addr, port.own_v4, k.family)) ||
           (k.family == net::Family::V6 && port.has_own_v6 &&
            same_addr(k.dst_addr, port.own_v6, k.family));
}

/** Destination MAC of the frame equals `mac`: one 4-byte and one 2-byte compare. */
DIRECTOR_HOT bool dst_mac_is(const uint8_t* frame, const net::MacAddress& mac) noexcept {
    uint32_t a4;
    uint32_t b4;
    uint16_t a2;
    uint16_t b2;
    std::memcpy(&a4, frame, 4);
    std::memcpy(&b4, mac.bytes.data(), 4);
    std::memcpy(&a2, frame + 4, 2);
    std::memcpy(&b2, mac.bytes.data() + 4, 2);
    return ((a4 ^ b4) | static_cast<uint32_t>(a2 ^ b2)) == 0;
}

DIRECTOR_HOT uint32_t find_service(const lb::Snapshot& snap, const net::FlowKey& k,
                                   uint16_t port_net) noexcept {
    const uint16_t port = net::port_host(port_net);
    return likely(k.family == net::Family::V4)
               ? snap.find_service_v4(k.dst_addr.data(), port, k.proto)
               : snap.find_service_v6(k.dst_addr.data(), port, k.proto);
}

}  // namespace

void Worker::run() noexcept {
    const uint64_t hz = rte_get_tsc_hz();
    publisher_->online(cfg_index_);
    // Coarse seconds, tsc / hz, divided only when a second has passed: a 64-bit division per
    // iteration was about a cycle per packet.
    uint64_t second_start = 0;
    uint64_t second_end = 0;  // the first iteration divides
    uint32_t now_s = 0;
    while (likely(!stop_.load(std::memory_order_relaxed))) {
        const uint64_t tsc = rte_get_tsc_cycles();
        if (unlikely(tsc >= second_end || tsc < second_start)) {
            now_s = static_cast<uint32_t>(tsc / hz);
            second_start = uint64_t{now_s} * hz;
            second_end = second_start + hz;
        }
        // Acquire load, held for this iteration only; quiescent() below releases it.
        const lb::Snapshot* snap = publisher_->current();
        uint16_t received = 0;
        for (uint16_t i = 0; i < rx_count_; ++i) {
            rte_mbuf* pkts[kBurstSize];
            const uint16_t n = rte_eth_rx_burst(rx_[i].port_id, rx_[i].queue, pkts, kBurstSize);
            if (n == 0) {
                continue;
            }
            received += n;
            // classify() finds the port by rte_mbuf::port; not every PMD fills it in (net_ring
            // leaves RTE_MBUF_PORT_INVALID), and the queue says where the burst came from.
            // Written only where it differs: stage 1 reads the field in a 16-byte load, which
            // a 2-byte store just before cannot forward to (it waits for the store to reach
            // the cache: about 2% of the rate, stored every time).
            const uint16_t port = rx_[i].port_id;
            for (uint16_t j = 0; j < n; ++j) {
                if (unlikely(pkts[j]->port != port)) {
                    pkts[j]->port = port;
                }
            }
            if (unlikely(snap == nullptr)) {
                // Nothing published yet: the control lcore publishes before launching us, so
                // this is a start-up race only; drop rather than guess.
                rte_pktmbuf_free_bulk(pkts, n);
                bump(counters_.drop_not_service, n);
                continue;
            }
            process_burst(*snap, pkts, n, now_s);
        }
        sweep(now_s, tsc);
        publisher_->quiescent(cfg_index_);
        if (received == 0) {
            idle_backoff();
        } else {
            idle_polls_ = 0;
        }
    }
    publisher_->offline(cfg_index_);
}

void Worker::idle_backoff() noexcept {
    if (idle_sleep_us_ == 0 || ++idle_polls_ < kIdlePollsBeforeSleep) {
        return;
    }
    // Offline while asleep so that a grace period never waits for a sleeping worker.
    publisher_->offline(cfg_index_);
    rte_delay_us_sleep(idle_sleep_us_);
    publisher_->online(cfg_index_);
    bump(counters_.idle_sleeps);
}

bool Worker::SweepPace::due(uint64_t tsc) noexcept {
    if (static_cast<int64_t>(tsc - next) < 0) {
        return false;
    }
    // Behind by more than a few steps (the worker slept, or the TSC jumped): start afresh
    // rather than catch up, so an iteration never does more than one step.
    next = tsc - next > 4 * period ? tsc + period : next + period;
    return true;
}

void Worker::sweep(uint32_t now_s, uint64_t tsc) noexcept {
    // An empty table has nothing to expire: skip its lines (a persistence table of a
    // deployment without persistent services is always empty).
    if (conns_->size() != 0 && conn_sweep_.due(tsc)) {
        const uint32_t expired = conns_->expire_step(now_s, kSweepBucketsPerIteration);
        if (expired != 0) {
            bump(counters_.conn_expired, expired);
        }
    }
    if (persist_->size() != 0 && persist_sweep_.due(tsc)) {
        persist_->expire_step(now_s, kSweepBucketsPerIteration);
    }
}

void Worker::parse_slow(const rte_mbuf* m, net::ParsedPacket& pp, uint32_t& hash) noexcept {
    net::ParseOptions opts;
    opts.pkt_len = m->pkt_len;
    opts.verify_ipv4_checksum = needs_ipv4_checksum(m);
    net::parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, pp, opts);
    hash = 0;
    if (pp.verdict == net::Verdict::Ok) {
        hash = net::flow_hash(pp.flow);
        conns_->prefetch(hash);
    }
}

void Worker::parse_general(const rte_mbuf* m, net::ParsedPacket& pp, uint32_t& hash) noexcept {
    if (likely(net::parse_frame_fast(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len,
                                     m->pkt_len, needs_ipv4_checksum(m), pp, hash))) {
        conns_->prefetch(hash);
    } else {
        parse_slow(m, pp, hash);
    }
}

DIRECTOR_HOT const Worker::LastService& Worker::service_v4(const lb::Snapshot& snap,
                                                           uint64_t key) noexcept {
    if (likely(key == last_service_.key)) {
        return last_service_;
    }
    const uint32_t dst = static_cast<uint32_t>(key);
    uint8_t addr[4];
    std::memcpy(addr, &dst, 4);
    const uint32_t svc = snap.find_service_v4(
        addr, net::port_host(static_cast<uint16_t>(key >> 32)), static_cast<uint8_t>(key >> 48));
    last_service_.key = key;
    last_service_.svc = svc;
    if (svc != lb::kNoService) {
        const lb::ServiceInfo& si = snap.service(svc);
        last_service_.service_id = si.service_id;
        last_service_.persistence_timeout_s = si.persistence_timeout_s;
        last_service_.persistence_prefix_len = si.persistence_prefix_len;
    }
    return last_service_;
}

DIRECTOR_HOT Worker::LaneHit Worker::lane_hit(const LaneEnv& env, rte_mbuf* m, lb::ConnBucket* at,
                                              uint64_t lane, uint32_t hash,
                                              uint32_t& hold_expires) noexcept {
    // The checks of forward_flow's hit (STYLE H9), and a tx port this worker has.
    const lb::RealHot* r = nullptr;
    int tx = -1;
    const auto can_carry = [&](uint32_t real_id) {
        if (real_id >= env.real_count) {
            return false;
        }
        r = env.reals + real_id;
        if (r->service_idx != env.svc || (r->flags & lb::detail::kRealForward) == 0) {
            return false;
        }
        tx = slot_of(r->tx_port);
        return tx >= 0;
    };
    lb::ConnUpdate u;
    if (unlikely(!env.table->lookup_update(at, hash, env.service_id,
                                           static_cast<uint8_t>(lane >> kLaneFlagsShift), env.now_s,
                                           can_carry, u))) {
        return LaneHit::Declined;
    }
    set_eth_addresses(m, r->mac, static_cast<uint16_t>(tx));
    enqueue(m, static_cast<uint16_t>(tx));
    if (unlikely(u.hold_due && env.persistent)) {
        hold_expires = u.expires;
        return LaneHit::ForwardedHold;
    }
    return LaneHit::Forwarded;
}

unsigned Worker::forward_lane_run(const lb::Snapshot& snap, rte_mbuf* const* chunk,
                                  const Staged& st, net::ParsedPacket* pp, unsigned i, unsigned c,
                                  uint32_t now_s, uint32_t& forwarded) noexcept {
    if (last_service_.svc == lb::kNoService) {
        return i;  // none looked up yet, or not a service: the caller's step decides
    }
    const uint64_t key = last_service_.key;
    // Locals, not members: the loop's frame stores go through uint8_t*, which may alias any
    // member, so a member read in the loop would be read again for every packet.
    const std::span<const lb::RealHot> reals = snap.real_hots();
    const LaneEnv env{conns_.get(),
                      reals.data(),
                      static_cast<uint32_t>(reals.size()),
                      last_service_.svc,
                      last_service_.service_id,
                      now_s,
                      last_service_.persistence_timeout_s != 0};
    unsigned at = i;
    while (at < c) {
        // The hits, in a loop without calls; the calls for a packet it stops at come after.
        const unsigned start = at;
        LaneHit h = LaneHit::Forwarded;
        uint32_t hold_expires = 0;
        bool other = false;
        for (; at < c; ++at) {
            const uint64_t lane = st.lane[at];
            // (lane & kLaneKeyMask) != key: another service, or not a lane packet (0). Shifted
            // out rather than masked: the mask is a 10-byte constant the loop would reload.
            if (((lane ^ key) << (64 - kLaneFlagsShift)) != 0) {
                other = true;
                break;
            }
            h = lane_hit(env, chunk[at], st.bucket[at], lane, st.hash[at], hold_expires);
            if (h != LaneHit::Forwarded) {
                break;
            }
        }
        forwarded += at - start;
        if (at == c || other) {
            break;
        }
        if (h == LaneHit::ForwardedHold) {
            ++forwarded;
            hold_template_v4(last_service_, chunk[at], hold_expires, now_s);
        } else {
            forward_lane_miss(snap, chunk[at], pp[at], st.hash[at], now_s);
        }
        ++at;
    }
    return at;
}

void Worker::hold_template_v4(const LastService& s, const rte_mbuf* m, uint32_t conn_expires,
                              uint32_t now_s) noexcept {
    // The lane took the frame, so it is IPv4 behind at most one 802.1Q tag.
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t l2 =
        net::detail::load_be16(d + 12) == net::kEtherTypeVlan ? net::kEtherHdrLen + net::kVlanTagLen
                                                               : net::kEtherHdrLen;
    uint8_t client[16] = {};
    std::memcpy(client, d + l2 + 12, 4);  // source address
    persist_->hold(net::client_hash(client, net::Family::V4, s.persistence_prefix_len),
                   s.service_id, conn_expires, now_s);
}

void Worker::process_burst(const lb::Snapshot& snap, rte_mbuf** pkts, uint16_t n,
                           uint32_t now_s) noexcept {
    bump(counters_.rx_packets, n);
    bump(counters_.rx_bursts);
    if (unlikely(snap.serial() != last_service_.snapshot)) {  // a lookup in another snapshot
        last_service_ = LastService{};
        last_service_.snapshot = snap.serial();
    }
    for (uint16_t i = 0; i < n && i < kLaneMaxGroup; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    }
    // The fast lane. Most packets are IPv4 TCP/UDP to this port's MAC, of a live connection
    // whose real can carry them. Stage 1 checks what classify() would of such a packet (port,
    // destination MAC, not the director's own address) and parses it into one 8-byte word
    // instead of a ParsedPacket (dataplane/lane.h); stage 2 forwards it from the
    // connection table's hit when the packet keeps the entry's state (lane_hit, in
    // forward_lane_run's loop), with the counters summed per burst. A lane packet of a found
    // service that the lane declines (a miss: a new flow; a change of TCP state; a real that
    // cannot carry it) goes on from forward_flow (forward_lane_miss). Everything else takes
    // the general path: parse_frame into a ParsedPacket and classify(), which decides every
    // case. The lane serves the port of the burst's first packet: run()'s bursts come from
    // one rx queue.
    LaneFilter filter;  // 0.0.0.0 is never a lane destination (own = 0): it takes classify()
    if (n != 0) {
        const uint16_t p = pkts[0]->port;
        const int slot = slot_of(p);
        if (slot >= 0) {
            const PortContext& port = ports_[slot];
            filter.port = p;
            std::memcpy(&filter.mac, port.mac.bytes.data(), 6);
            if (port.has_own_v4) {
                std::memcpy(&filter.own, port.own_v4.data(), 4);
            }
        }
    }
    uint32_t forwarded = 0;
    // A caller's burst may exceed kBurstSize (run()'s never does): stage it in chunks.
    for (uint16_t base = 0; base < n; base = static_cast<uint16_t>(base + kBurstSize)) {
        const uint16_t c = static_cast<uint16_t>(n - base < kBurstSize ? n - base : kBurstSize);
        rte_mbuf** chunk = pkts + base;
        // Stage 1: parse the chunk, hash each flow once and prefetch its connection-table
        // bucket, so that stage 2 finds the lines in cache (VPP lb, Katran: the flow table is
        // prefetched a burst ahead; STYLE H2/H3). The parser writes what it uses, so the
        // array is not zeroed: in a union, FlowKey's default member initialisers (which would
        // zero 80 bytes per packet) do not run.
        union Parsed {
            Parsed() noexcept {}
            net::ParsedPacket at[kBurstSize];
        } parsed;
        net::ParsedPacket* pp = parsed.at;
        Staged st;
        const unsigned general =
            lane_stage_({chunk, c, static_cast<unsigned>(n - base), st.lane, st.hash, st.bucket},
                        filter, conns_->prefetcher());
        // The general path's parse, out of stage 1's loop: a call there would cost the loop
        // its registers.
        for (unsigned i = 0, left = general; left != 0 && i < c; ++i) {
            if (st.lane[i] == 0) {
                parse_general(chunk[i], pp[i], st.hash[i]);
                --left;
            }
        }
        // Stage 2. Runs of lane packets of the last service looked up go through
        // forward_lane_run. The packet a run stops at takes one step here: a lane packet of
        // another service has its service looked up and runs again; the rest take the general
        // path. The packets leave in order.
        unsigned i = 0;
        while (i < c) {
            i = forward_lane_run(snap, chunk, st, pp, i, c, now_s, forwarded);
            if (i == c) {
                break;
            }
            rte_mbuf* m = chunk[i];
            const uint64_t lane = st.lane[i];
            if (likely(lane != 0)) {
                const uint64_t key = lane & kLaneKeyMask;
                if (key != last_service_.key) {
                    service_v4(snap, key);  // a service the run has not looked up: run again
                    continue;
                }
                parse_general(m, pp[i], st.hash[i]);  // the lane packet of a non-service
            }
            process_general(snap, m, pp[i], st.hash[i], now_s);
            ++i;
        }
        // A chunk enqueues at most kBurstSize packets per tx queue (enqueue relies on it).
        transmit();
    }
    if (forwarded != 0) {
        bump(counters_.conn_hit, forwarded);
        bump(counters_.forwarded, forwarded);
    }
}

void Worker::process_general(const lb::Snapshot& snap, rte_mbuf* m, const net::ParsedPacket& pp,
                             uint32_t hash, uint32_t now_s) noexcept {
    uint16_t tx_slot = 0;  // index into ports_ and tx_
    dispatch(classify(snap, m, pp, hash, now_s, tx_slot), m, tx_slot);
}

void Worker::forward_lane_miss(const lb::Snapshot& snap, rte_mbuf* m, net::ParsedPacket& pp,
                               uint32_t hash, uint32_t now_s) noexcept {
    // The lane made classify()'s checks and found the service: what is left of classify() is
    // forward_flow(), which needs the ParsedPacket. The parser takes the frame again; its
    // IPv4 checksum was verified in stage 1.
    uint32_t reparsed_hash = 0;
    if (unlikely(!net::parse_frame_fast(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len,
                                        m->pkt_len, false, pp, reparsed_hash))) {
        parse_general(m, pp, hash);  // cannot happen: stage 1 took these bytes
        process_general(snap, m, pp, hash, now_s);
        return;
    }
    uint16_t tx_slot = 0;
    dispatch(forward_flow(snap, last_service_.svc, m, pp, hash, now_s, tx_slot), m, tx_slot);
}

DIRECTOR_HOT void Worker::enqueue(rte_mbuf* m, uint16_t tx_slot) noexcept {
    assert(tx_.count(tx_slot) < kBurstSize);
    *tx_.tail[tx_slot]++ = m;
}

DIRECTOR_HOT void Worker::dispatch(Action a, rte_mbuf* m, uint16_t tx_slot) noexcept {
    switch (a) {
        case Action::Forward:
            enqueue(m, tx_slot);
            break;
        case Action::Punt:
            break;  // the exception ring owns it now
        case Action::Drop:
            rte_pktmbuf_free(m);
            break;
    }
}

void Worker::transmit() noexcept {
    for (uint16_t i = 0; i < port_count_; ++i) {
        const uint16_t count = tx_.count(i);
        if (count == 0) {
            continue;
        }
        const uint16_t sent =
            rte_eth_tx_burst(ports_[i].port_id, ports_[i].tx_queue, tx_.pkts[i], count);
        bump(counters_.tx_packets, sent);
        if (unlikely(sent < count)) {
            // l3fwd send_burst: whatever the queue refused is freed and counted.
            rte_pktmbuf_free_bulk(tx_.pkts[i] + sent, count - sent);
            bump(counters_.tx_dropped, count - sent);
        }
        tx_.tail[i] = tx_.pkts[i];
    }
}

DIRECTOR_HOT Worker::Action Worker::classify(const lb::Snapshot& snap, rte_mbuf* m,
                                             const net::ParsedPacket& pp, uint32_t hash,
                                             uint32_t now_s, uint16_t& tx_slot) noexcept {
    const net::Verdict v = pp.verdict;
    if (unlikely(net::is_drop(v))) {
        bump(counters_.drop_malformed);
        bump(malformed_[net::drop_index(v)]);
        return Action::Drop;
    }
    const int slot = slot_of(m->port);
    if (unlikely(slot < 0)) {
        bump(counters_.bug_bad_real);
        return Action::Drop;
    }
    const PortContext& port = ports_[slot];
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const bool group = (data[0] & 1) != 0;  // broadcast or multicast destination
    if (unlikely(!group && !dst_mac_is(data, port.mac))) {
        bump(counters_.ignored_other_mac);
        return Action::Drop;
    }
    const net::FlowKey& k = pp.flow;
    // The common case, unicast TCP or UDP with ports: none of the exception rules below
    // (ARP, VRRP, neighbour discovery, ICMP, fragments) can apply to it.
    if (unlikely(group || v != net::Verdict::Ok ||
                 (k.proto != net::kIpProtoTcp && k.proto != net::kIpProtoUdp))) {
        return classify_other(snap, m, pp, port, group, hash, now_s, tx_slot);
    }
    uint32_t svc;
    if (likely(k.family == net::Family::V4)) {
        uint32_t dst;
        uint32_t own;
        std::memcpy(&dst, k.dst_addr.data(), 4);
        std::memcpy(&own, port.own_v4.data(), 4);
        if (unlikely(dst == own && port.has_own_v4)) {
            return punt(m, PuntReason::Host, counters_.exception_host);
        }
        // Consecutive packets of a burst mostly go to one service: remember the last lookup
        // (reset per burst, so it never outlives the snapshot it came from).
        svc = service_v4(snap, lane_key(dst, k.dst_port, k.proto)).svc;
    } else {
        if (unlikely(is_own_address(port, k))) {
            return punt(m, PuntReason::Host, counters_.exception_host);
        }
        svc = find_service(snap, k, k.dst_port);
    }
    if (unlikely(svc == lb::kNoService)) {
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    return forward_flow(snap, svc, m, pp, hash, now_s, tx_slot);
}

Worker::Action Worker::punt(rte_mbuf* m, PuntReason why, uint64_t& counter) noexcept {
    if (likely(exceptions_->punt(m, why))) {
        bump(counter);
        return Action::Punt;
    }
    bump(counters_.exception_ring_full);
    return Action::Drop;
}

Worker::Action Worker::classify_other(const lb::Snapshot& snap, rte_mbuf* m,
                                      const net::ParsedPacket& pp, const PortContext& port,
                                      bool group, uint32_t hash, uint32_t now_s,
                                      uint16_t& tx_slot) noexcept {
    const net::Verdict v = pp.verdict;
    if (v == net::Verdict::Arp) {
        return punt(m, PuntReason::Arp, counters_.exception_arp);
    }
    if (v == net::Verdict::NotIp) {
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    const net::FlowKey& k = pp.flow;
    if (k.proto == kIpProtoVrrp) {
        return punt(m, PuntReason::Vrrp, counters_.exception_vrrp);
    }
    if (k.proto == net::kIpProtoIcmpv6 && pp.icmp_type >= kIcmp6NdFirst &&
        pp.icmp_type <= kIcmp6NdLast && v == net::Verdict::Ok) {
        return punt(m, PuntReason::Icmp, counters_.exception_icmp);  // neighbour discovery
    }
    if (group) {
        bump(counters_.ignored_other_mac);
        return Action::Drop;
    }
    if (is_own_address(port, k)) {
        return punt(m, PuntReason::Host, counters_.exception_host);
    }
    if (v == net::Verdict::IcmpError) {
        return forward_icmp_error(snap, m, pp, now_s, tx_slot);
    }
    if ((k.proto == net::kIpProtoIcmp && pp.icmp_type == kIcmpEchoRequest) ||
        (k.proto == net::kIpProtoIcmpv6 && pp.icmp_type == kIcmp6EchoRequest)) {
        if (snap.is_vip(k.dst_addr.data(), k.family)) {
            return punt(m, PuntReason::Icmp, counters_.exception_icmp);
        }
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    if (v == net::Verdict::Fragment) {
        // A non-first fragment has no ports, so the service lookup below could only ever match
        // a port-0 service: decide by the address instead.
        bump(snap.is_vip(k.dst_addr.data(), k.family) ? counters_.drop_fragment
                                                      : counters_.drop_not_service);
        return Action::Drop;
    }
    const uint32_t svc = find_service(snap, k, k.dst_port);
    if (svc == lb::kNoService) {
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    return forward_flow(snap, svc, m, pp, hash, now_s, tx_slot);
}

uint32_t Worker::choose_new(const lb::Snapshot& snap, uint32_t svc, const net::ParsedPacket& pp,
                            uint32_t flow_hash, uint32_t now_s) noexcept {
    const lb::ServiceInfo& si = snap.service(svc);
    const net::FlowKey& k = pp.flow;
    if (si.persistence_timeout_s == 0) {
        const lb::SchedInput in{lb::addr_fold(k.src_addr.data(), k.family),
                                lb::addr_fold(k.dst_addr.data(), k.family), flow_hash};
        const uint32_t slot = lb::schedule(snap, svc, in, sched_[si.service_id], conns_->counts());
        return slot == lb::kNoReal ? lb::kNoReal : snap.real_id(svc, slot);
    }
    // Persistent service: the template decides for every new connection of the client
    // (ip_vs_core.c ip_vs_sched_persist), the scheduler only when there is none or its real
    // went away.
    const uint32_t key = net::client_hash(k.src_addr.data(), k.family, si.persistence_prefix_len);
    const uint32_t pslot = persist_->lookup(key, si.service_id, now_s);
    if (pslot != lb::kNoSlot) {
        const uint32_t real = persist_->real_id(pslot);
        const lb::RealStatus st = snap.real_status(svc, real);
        const bool keep = st == lb::RealStatus::Usable ||
                          (st == lb::RealStatus::Draining && !policy_.expire_quiescent_template);
        if (keep) {
            persist_->touch(pslot, now_s, si.persistence_timeout_s);
            bump(counters_.persist_hit);
            return real;
        }
    }
    const lb::SchedInput in{lb::addr_fold(k.src_addr.data(), k.family),
                            lb::addr_fold(k.dst_addr.data(), k.family), flow_hash};
    const uint32_t slot = lb::schedule(snap, svc, in, sched_[si.service_id], conns_->counts());
    if (slot == lb::kNoReal) {
        return lb::kNoReal;
    }
    const uint32_t real = snap.real_id(svc, slot);
    if (pslot != lb::kNoSlot) {
        persist_->update_real(pslot, real, now_s, si.persistence_timeout_s);
        return real;
    }
    const lb::InsertResult r = persist_->insert(key, si.service_id, real, now_s,
                                                si.persistence_timeout_s);
    if (r.outcome == lb::InsertOutcome::Full) {
        // No room for the template: the client's consistent-hash choice is stable across its
        // connections, which is what persistence promises.
        bump(counters_.persist_untracked);
        const uint32_t cslot = snap.consistent_pick(svc, key);
        return cslot == lb::kNoReal ? lb::kNoReal : snap.real_id(svc, cslot);
    }
    bump(counters_.persist_new);
    return real;
}

DIRECTOR_HOT Worker::Action Worker::forward_flow(const lb::Snapshot& snap, uint32_t svc,
                                                 rte_mbuf* m, const net::ParsedPacket& pp,
                                                 uint32_t hash, uint32_t now_s,
                                                 uint16_t& tx_slot) noexcept {
    const lb::ServiceInfo& si = snap.service(svc);
    const uint32_t slot = conns_->lookup(hash, si.service_id, now_s);
    if (likely(slot != lb::kNoSlot)) {
        // A hit whose real may still carry the connection (STYLE H9: member of the service,
        // up, MAC known; weight 0 allowed): the common case, decided by one RealHot record.
        const lb::RealHot& r = snap.real_hot(conns_->real_id(slot));
        if (likely(r.service_idx == svc && (r.flags & lb::detail::kRealForward) != 0)) {
            bump(counters_.conn_hit);
            const uint8_t flags = pp.flow.proto == net::kIpProtoTcp ? pp.tcp_flags : 0;
            const lb::ConnUpdate u = conns_->update_state(slot, flags, now_s);
            if (unlikely(u.hold_due && si.persistence_timeout_s != 0)) {
                hold_template(si, pp.flow, conns_->expires(slot), now_s);
            }
            return rewrite_mac(r.mac, r.tx_port, m, tx_slot, counters_.forwarded);
        }
    }
    return forward_flow_slow(snap, svc, m, pp, hash, slot, now_s, tx_slot);
}

void Worker::hold_template(const lb::ServiceInfo& si, const net::FlowKey& k,
                           uint32_t conn_expires, uint32_t now_s) noexcept {
    persist_->hold(net::client_hash(k.src_addr.data(), k.family, si.persistence_prefix_len),
                   si.service_id, conn_expires, now_s);
}

Worker::Action Worker::forward_flow_slow(const lb::Snapshot& snap, uint32_t svc, rte_mbuf* m,
                                         const net::ParsedPacket& pp, uint32_t hash,
                                         uint32_t slot, uint32_t now_s,
                                         uint16_t& tx_slot) noexcept {
    const lb::ServiceInfo& si = snap.service(svc);
    const net::FlowKey& k = pp.flow;
    const bool tcp = k.proto == net::kIpProtoTcp;
    const uint8_t flags = tcp ? pp.tcp_flags : 0;
    uint32_t real = lb::kNoReal;
    if (slot != lb::kNoSlot) {
        real = conns_->real_id(slot);
        const lb::RealStatus st = snap.real_status(svc, real);
        if (st == lb::RealStatus::Usable || st == lb::RealStatus::Draining) {
            bump(counters_.conn_hit);
            const lb::ConnUpdate u = conns_->update_state(slot, flags, now_s);
            if (u.hold_due && si.persistence_timeout_s != 0) {
                hold_template(si, k, conns_->expires(slot), now_s);
            }
        } else if (st == lb::RealStatus::NoMac) {
            bump(counters_.drop_real_no_mac);
            if (exceptions_->request_resolve(real)) {
                bump(counters_.resolve_requests);
            }
            return Action::Drop;
        } else if (policy_.expire_nodest_conn) {
            // The real went away (removed or failed): expire the entry and schedule this
            // packet as a new connection (IPVS expire_nodest_conn=1).
            conns_->erase(slot);
            slot = lb::kNoSlot;
            real = lb::kNoReal;
            bump(counters_.conn_rescheduled);
        } else {
            bump(counters_.drop_nodest);
            return Action::Drop;
        }
    }
    if (slot == lb::kNoSlot) {
        const bool syn = (flags & lb::kTcpSyn) != 0 && (flags & lb::kTcpRst) == 0;
        // IPVS's strict rule (sloppy_tcp off): no SYN, no entry, drop. It applies only where
        // the table could have held the flow's entry; when the flow's bucket is full of
        // entries an insert may not evict, the flow's SYN found it so too and was forwarded
        // untracked by consistent hash, and its later packets must follow it (issue 3 part 4).
        if (tcp && !syn && real == lb::kNoReal && !policy_.sloppy_tcp &&
            !conns_->insert_would_fail(hash, now_s)) {
            bump(counters_.drop_tcp_no_conn);
            return Action::Drop;
        }
        if (tcp && !syn) {
            // No state for a mid-flow packet (after a failover, or the table was full for its
            // SYN): the consistent hash, with the key a new connection of this flow would have
            // used, so both directors and every packet of the flow agree.
            const uint32_t key =
                si.persistence_timeout_s != 0
                    ? net::client_hash(k.src_addr.data(), k.family, si.persistence_prefix_len)
                    : hash;
            if (si.persistence_timeout_s != 0) {
                // The client's template chose the real of this flow's SYN (when the table
                // had no room for the connection itself): follow it while it can carry it.
                const uint32_t pslot = persist_->lookup(key, si.service_id, now_s);
                if (pslot != lb::kNoSlot) {
                    const uint32_t t = persist_->real_id(pslot);
                    const lb::RealStatus st = snap.real_status(svc, t);
                    if (st == lb::RealStatus::Usable || st == lb::RealStatus::Draining) {
                        real = t;
                    }
                }
            }
            if (real == lb::kNoReal) {
                const uint32_t cslot = snap.consistent_pick(svc, key, lb::PickFor::ExistingFlow);
                real = cslot == lb::kNoReal ? lb::kNoReal : snap.real_id(svc, cslot);
            }
            // With sloppy_tcp off this is an untracked flow of a full table (conn_untracked
            // below counts it), not a sloppy pick.
            if (policy_.sloppy_tcp) {
                bump(counters_.conn_sloppy);
            }
        } else {
            real = choose_new(snap, svc, pp, hash, now_s);
        }
        if (real == lb::kNoReal) {
            bump(counters_.drop_no_real);
            return Action::Drop;
        }
        const lb::ConnState state =
            tcp ? lb::next_state(lb::ConnState::None, flags) : lb::ConnState::Udp;
        // A RST never creates a connection (ip_vs_proto_tcp.c tcp_conn_schedule).
        if (!(tcp && (flags & lb::kTcpRst) != 0)) {
            const lb::InsertResult r = conns_->insert(hash, si.service_id, real, state, now_s);
            switch (r.outcome) {
                case lb::InsertOutcome::Full: {
                    // Forward by the consistent hash, so later packets (which will miss too)
                    // reach the same real through the sloppy path above. A packet that took
                    // that path already has its real, which may be draining: keep it.
                    bump(counters_.conn_untracked);
                    if (si.persistence_timeout_s == 0 && !(tcp && !syn)) {
                        const uint32_t cslot = snap.consistent_pick(svc, hash);
                        real = cslot == lb::kNoReal ? real : snap.real_id(svc, cslot);
                    }
                    break;
                }
                case lb::InsertOutcome::EvictedHalfOpen:
                case lb::InsertOutcome::EvictedClosing:
                    bump(counters_.conn_evicted_half_open);
                    bump(counters_.conn_new);
                    break;
                default:
                    bump(counters_.conn_new);
                    break;
            }
            if (r.outcome != lb::InsertOutcome::Full && si.persistence_timeout_s != 0) {
                hold_template(si, k, conns_->expires(r.slot), now_s);
            }
        }
    }
    const uint32_t rs = snap.find_real(svc, real);
    if (unlikely(rs == lb::kNoReal)) {
        bump(counters_.bug_bad_real);
        return Action::Drop;
    }
    if (unlikely(!snap.mac_known(svc, rs))) {
        bump(counters_.drop_real_no_mac);
        if (exceptions_->request_resolve(real)) {
            bump(counters_.resolve_requests);
        }
        return Action::Drop;
    }
    return rewrite_to_real(snap, svc, rs, m, tx_slot, counters_.forwarded);
}

DIRECTOR_HOT Worker::Action Worker::rewrite_to_real(const lb::Snapshot& snap, uint32_t svc,
                                                    uint32_t rs, rte_mbuf* m, uint16_t& tx_slot,
                                                    uint64_t& counter) noexcept {
    return rewrite_mac(snap.mac(svc, rs), snap.tx_port(svc, rs), m, tx_slot, counter);
}

DIRECTOR_HOT Worker::Action Worker::rewrite_mac(const net::MacAddress& dst, uint16_t port,
                                                rte_mbuf* m, uint16_t& tx_slot,
                                                uint64_t& counter) noexcept {
    const int slot = slot_of(port);
    if (unlikely(slot < 0)) {
        bump(counters_.bug_bad_real);
        return Action::Drop;
    }
    tx_slot = static_cast<uint16_t>(slot);
    set_eth_addresses(m, dst, tx_slot);
    bump(counter);
    return Action::Forward;
}

DIRECTOR_HOT void Worker::set_eth_addresses(rte_mbuf* m, const net::MacAddress& dst,
                                            uint16_t tx_slot) noexcept {
    // DR: only the Ethernet addresses change (l2fwd_mac_updating). Bytes 0..3, then 4..11
    // (the destination's last two, the source) in one store.
    static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "TxQueues::src_mac is little-endian");
    uint8_t* eth = rte_pktmbuf_mtod(m, uint8_t*);
    uint16_t dst_tail;
    std::memcpy(eth, dst.bytes.data(), 4);
    std::memcpy(&dst_tail, dst.bytes.data() + 4, 2);
    const uint64_t rest = tx_.src_mac[tx_slot] | dst_tail;
    std::memcpy(eth + 4, &rest, 8);
}

Worker::Action Worker::forward_icmp_error(const lb::Snapshot& snap, rte_mbuf* m,
                                          const net::ParsedPacket& pp, uint32_t now_s,
                                          uint16_t& tx_slot) noexcept {
    // The error quotes a packet the real server sent from the VIP (DR replies bypass us); the
    // connection it belongs to is the quoted flow reversed (IPVS ip_vs_in_icmp).
    const net::FlowKey conn = net::reversed(pp.inner);
    const uint32_t svc = find_service(snap, conn, conn.dst_port);
    if (svc == lb::kNoService) {
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    const lb::ServiceInfo& si = snap.service(svc);
    const uint32_t slot = conns_->lookup(net::flow_hash(conn), si.service_id, now_s);
    if (slot == lb::kNoSlot) {
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    const uint32_t rs = snap.find_real(svc, conns_->real_id(slot));
    if (rs == lb::kNoReal || !snap.slot_forwardable(svc, rs)) {
        bump(counters_.drop_nodest);
        return Action::Drop;
    }
    return rewrite_to_real(snap, svc, rs, m, tx_slot, counters_.icmp_error_forwarded);
}

}  // namespace director::dp
