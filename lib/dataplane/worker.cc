// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/worker.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <cstring>

#include "net/flow.h"

namespace director::dp {

namespace {

constexpr uint8_t kIpProtoVrrp = 112;       // RFC 5798 5.1.1.4
constexpr uint8_t kIcmpEchoRequest = 8;     // RFC 792
constexpr uint8_t kIcmp6EchoRequest = 128;  // RFC 4443 4.1
constexpr uint8_t kIcmp6NdFirst = 133;      // RFC 4861: RS, RA, NS, NA, Redirect
constexpr uint8_t kIcmp6NdLast = 137;

bool same_addr(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
               net::Family f) noexcept {
    return std::memcmp(a.data(), b.data(), f == net::Family::V4 ? 4 : 16) == 0;
}

uint32_t find_service(const lb::Snapshot& snap, const net::FlowKey& k, uint16_t port_net) noexcept {
    const uint16_t port = net::port_host(port_net);
    return k.family == net::Family::V4 ? snap.find_service_v4(k.dst_addr.data(), port, k.proto)
                                       : snap.find_service_v6(k.dst_addr.data(), port, k.proto);
}

}  // namespace

void Worker::run() noexcept {
    const uint64_t hz = rte_get_tsc_hz();
    publisher_->online(cfg_index_);
    while (likely(!stop_.load(std::memory_order_relaxed))) {
        const uint32_t now_s = static_cast<uint32_t>(rte_get_tsc_cycles() / hz);
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
            for (uint16_t j = 0; j < n; ++j) {
                pkts[j]->port = rx_[i].port_id;
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
        sweep(now_s);
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

void Worker::sweep(uint32_t now_s) noexcept {
    const uint32_t expired = conns_->expire_step(now_s, kSweepBucketsPerIteration);
    if (expired != 0) {
        bump(counters_.conn_expired, expired);
    }
    persist_->expire_step(now_s, kSweepBucketsPerIteration);
}

void Worker::process_burst(const lb::Snapshot& snap, rte_mbuf** pkts, uint16_t n,
                           uint32_t now_s) noexcept {
    bump(counters_.rx_packets, n);
    bump(counters_.rx_bursts);
    for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    }
    // A caller's burst may exceed kBurstSize (run()'s never does): stage it in chunks.
    for (uint16_t base = 0; base < n; base = static_cast<uint16_t>(base + kBurstSize)) {
        const uint16_t c = static_cast<uint16_t>(n - base < kBurstSize ? n - base : kBurstSize);
        rte_mbuf** chunk = pkts + base;
        // Stage 1: parse the chunk, hash each flow once and prefetch its connection-table
        // bucket, so that stage 2 finds the lines in cache (VPP lb, Katran: the flow table is
        // prefetched a burst ahead; STYLE H2/H3).
        net::ParsedPacket pp[kBurstSize];
        net::Verdict verdict[kBurstSize];
        uint32_t hash[kBurstSize];
        for (uint16_t i = 0; i < c; ++i) {
            if (base + i + kPrefetchAhead < n) {
                rte_prefetch0(rte_pktmbuf_mtod(pkts[base + i + kPrefetchAhead], void*));
            }
            const rte_mbuf* m = chunk[i];
            net::ParseOptions opts;
            opts.pkt_len = m->pkt_len;
            opts.verify_ipv4_checksum =
                (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD;
            verdict[i] = net::parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len,
                                          pp[i], opts);
            hash[i] = 0;
            if (verdict[i] == net::Verdict::Ok) {
                hash[i] = net::flow_hash(pp[i].flow);
                conns_->prefetch(hash[i]);
            }
        }
        // Stage 2: classify and forward.
        for (uint16_t i = 0; i < c; ++i) {
            rte_mbuf* m = chunk[i];
            uint16_t tx_port = 0;
            switch (classify(snap, m, pp[i], verdict[i], hash[i], now_s, tx_port)) {
                case Action::Forward: {
                    TxQueue& q = tx_[port_slot_[tx_port]];
                    if (unlikely(q.count == kBurstSize)) {
                        transmit();
                    }
                    q.pkts[q.count++] = m;
                    break;
                }
                case Action::Punt:
                    break;  // the exception ring owns it now
                case Action::Drop:
                    rte_pktmbuf_free(m);
                    break;
            }
        }
    }
    transmit();
}

void Worker::transmit() noexcept {
    for (uint16_t i = 0; i < port_count_; ++i) {
        TxQueue& q = tx_[i];
        if (q.count == 0) {
            continue;
        }
        const uint16_t sent = rte_eth_tx_burst(ports_[i].port_id, ports_[i].tx_queue, q.pkts,
                                               q.count);
        bump(counters_.tx_packets, sent);
        if (unlikely(sent < q.count)) {
            // l3fwd send_burst: whatever the queue refused is freed and counted.
            rte_pktmbuf_free_bulk(q.pkts + sent, q.count - sent);
            bump(counters_.tx_dropped, q.count - sent);
        }
        q.count = 0;
    }
}

Worker::Action Worker::classify(const lb::Snapshot& snap, rte_mbuf* m,
                                const net::ParsedPacket& pp, net::Verdict v, uint32_t hash,
                                uint32_t now_s, uint16_t& tx_port) noexcept {
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    if (unlikely(net::is_drop(v))) {
        bump(counters_.drop_malformed);
        bump(malformed_[net::drop_index(v)]);
        return Action::Drop;
    }
    const int slot = port_slot_[m->port < RTE_MAX_ETHPORTS ? m->port : 0];
    if (unlikely(slot < 0)) {
        bump(counters_.bug_bad_real);
        return Action::Drop;
    }
    const PortContext& port = ports_[slot];
    const bool group = (data[0] & 1) != 0;  // broadcast or multicast destination
    if (!group && std::memcmp(data, port.mac.bytes.data(), 6) != 0) {
        bump(counters_.ignored_other_mac);
        return Action::Drop;
    }
    auto punt = [&](PuntReason why, uint64_t& counter) {
        if (likely(exceptions_->punt(m, why))) {
            bump(counter);
            return Action::Punt;
        }
        bump(counters_.exception_ring_full);
        return Action::Drop;
    };
    if (v == net::Verdict::Arp) {
        return punt(PuntReason::Arp, counters_.exception_arp);
    }
    if (v == net::Verdict::NotIp) {
        bump(counters_.drop_not_service);
        return Action::Drop;
    }
    const net::FlowKey& k = pp.flow;
    if (k.proto == kIpProtoVrrp) {
        return punt(PuntReason::Vrrp, counters_.exception_vrrp);
    }
    if (k.proto == net::kIpProtoIcmpv6 && pp.icmp_type >= kIcmp6NdFirst &&
        pp.icmp_type <= kIcmp6NdLast && v == net::Verdict::Ok) {
        return punt(PuntReason::Icmp, counters_.exception_icmp);  // neighbour discovery
    }
    if (group) {
        bump(counters_.ignored_other_mac);
        return Action::Drop;
    }
    if ((k.family == net::Family::V4 && port.has_own_v4 &&
         same_addr(k.dst_addr, port.own_v4, k.family)) ||
        (k.family == net::Family::V6 && port.has_own_v6 &&
         same_addr(k.dst_addr, port.own_v6, k.family))) {
        return punt(PuntReason::Host, counters_.exception_host);
    }
    if (v == net::Verdict::IcmpError) {
        return forward_icmp_error(snap, m, pp, now_s, tx_port);
    }
    if ((k.proto == net::kIpProtoIcmp && pp.icmp_type == kIcmpEchoRequest) ||
        (k.proto == net::kIpProtoIcmpv6 && pp.icmp_type == kIcmp6EchoRequest)) {
        if (snap.is_vip(k.dst_addr.data(), k.family)) {
            return punt(PuntReason::Icmp, counters_.exception_icmp);
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
    return forward_flow(snap, svc, m, pp, hash, now_s, tx_port);
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

Worker::Action Worker::forward_flow(const lb::Snapshot& snap, uint32_t svc, rte_mbuf* m,
                                    const net::ParsedPacket& pp, uint32_t hash, uint32_t now_s,
                                    uint16_t& tx_port) noexcept {
    const lb::ServiceInfo& si = snap.service(svc);
    const net::FlowKey& k = pp.flow;
    const bool tcp = k.proto == net::kIpProtoTcp;
    const uint8_t flags = tcp ? pp.tcp_flags : 0;
    uint32_t real = lb::kNoReal;
    uint32_t slot = conns_->lookup(hash, si.service_id, now_s);
    if (slot != lb::kNoSlot) {
        real = conns_->real_id(slot);
        const lb::RealStatus st = snap.real_status(svc, real);
        if (st == lb::RealStatus::Usable || st == lb::RealStatus::Draining) {
            bump(counters_.conn_hit);
            const lb::ConnUpdate u = conns_->update_state(slot, flags, now_s);
            if (u.hold_due && si.persistence_timeout_s != 0) {
                persist_->hold(net::client_hash(k.src_addr.data(), k.family,
                                                si.persistence_prefix_len),
                               si.service_id, conns_->expires(slot), now_s);
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
        if (tcp && !syn && real == lb::kNoReal && !policy_.sloppy_tcp) {
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
            const uint32_t cslot = snap.consistent_pick(svc, key, lb::PickFor::ExistingFlow);
            real = cslot == lb::kNoReal ? lb::kNoReal : snap.real_id(svc, cslot);
            bump(counters_.conn_sloppy);
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
                persist_->hold(net::client_hash(k.src_addr.data(), k.family,
                                                si.persistence_prefix_len),
                               si.service_id, conns_->expires(r.slot), now_s);
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
    return rewrite_to_real(snap, svc, rs, m, tx_port, counters_.forwarded);
}

Worker::Action Worker::rewrite_to_real(const lb::Snapshot& snap, uint32_t svc, uint32_t rs,
                                       rte_mbuf* m, uint16_t& tx_port,
                                       uint64_t& counter) noexcept {
    tx_port = snap.tx_port(svc, rs);
    if (unlikely(tx_port >= RTE_MAX_ETHPORTS || port_slot_[tx_port] < 0)) {
        bump(counters_.bug_bad_real);
        return Action::Drop;
    }
    // DR: only the Ethernet addresses change (l2fwd_mac_updating).
    uint8_t* eth = rte_pktmbuf_mtod(m, uint8_t*);
    std::memcpy(eth, snap.mac(svc, rs).bytes.data(), 6);
    std::memcpy(eth + 6, ports_[port_slot_[tx_port]].mac.bytes.data(), 6);
    bump(counter);
    return Action::Forward;
}

Worker::Action Worker::forward_icmp_error(const lb::Snapshot& snap, rte_mbuf* m,
                                          const net::ParsedPacket& pp, uint32_t now_s,
                                          uint16_t& tx_port) noexcept {
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
    return rewrite_to_real(snap, svc, rs, m, tx_port, counters_.icmp_error_forwarded);
}

}  // namespace director::dp
