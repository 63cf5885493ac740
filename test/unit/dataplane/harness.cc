// SPDX-License-Identifier: BSD-3-Clause
#include "unit/dataplane/harness.h"

#include <rte_ethdev.h>

#include <cstring>

namespace director::dptest {

// One EAL per process: every test of this binary shares it (dpdk-on-test-machines.md §2).
const ::testing::Environment* const kEal =
    ::testing::AddGlobalTestEnvironment(new test::EalEnvironment());

lb::RealSpec real(const LabReal& r, uint16_t tx_port, uint32_t weight, bool v6) {
    lb::RealSpec s;
    s.real_id = r.id;
    s.addr = test::ip(v6 ? r.v6 : r.v4);
    s.port = 80;
    s.weight = weight;
    s.state = lb::RealState::Up;
    s.mac = test::mac(r.mac);
    s.tx_port = tx_port;
    return s;
}

lb::ServiceSpec service(std::string_view vip, uint16_t port, std::vector<lb::RealSpec> reals,
                        uint32_t service_id, lb::Protocol proto, lb::SchedulerKind sched) {
    lb::ServiceSpec s;
    s.vip = test::ip(vip);
    s.port = port;
    s.proto = proto;
    s.scheduler = sched;
    s.service_id = service_id;
    s.maglev_size = 251;  // small prime: snapshots build fast under ASan
    for (lb::RealSpec& r : reals) {
        r.port = port;
        // Real ids are unique across a snapshot: the same server in another service is
        // another real (id + 16 per service id above 1).
        r.real_id += 16 * (service_id - 1);
    }
    s.reals = std::move(reals);
    return s;
}

Bytes tcp(std::string_view client, uint16_t sport, uint8_t flags, std::string_view dst,
          uint16_t dport) {
    PacketBuilder b;
    b.eth(kClientMac, kPortMac);
    if (client.find(':') != std::string_view::npos) {
        b.ipv6(client, dst);
    } else {
        b.ipv4(client, dst);
    }
    return b.tcp(sport, dport).flags(flags).seq(1000).payload_size(6).build();
}

Bytes udp(std::string_view client, uint16_t sport, std::string_view dst, uint16_t dport) {
    PacketBuilder b;
    b.eth(kClientMac, kPortMac);
    if (client.find(':') != std::string_view::npos) {
        b.ipv6(client, dst);
    } else {
        b.ipv4(client, dst);
    }
    return b.udp(sport, dport).payload("query").build();
}

rte_mbuf* to_mbuf(const Bytes& frame, uint16_t port, size_t split_at) {
    rte_mempool* pool = test::EalEnvironment::pool();
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
        ADD_FAILURE() << "mbuf pool exhausted";
        return nullptr;
    }
    const size_t first = split_at == 0 ? frame.size() : split_at;
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(first));
    if (d == nullptr) {
        ADD_FAILURE() << "frame of " << frame.size() << " bytes does not fit an mbuf";
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::memcpy(d, frame.data(), first);
    if (first < frame.size()) {
        rte_mbuf* tail = rte_pktmbuf_alloc(pool);
        char* t = tail == nullptr
                      ? nullptr
                      : rte_pktmbuf_append(tail, static_cast<uint16_t>(frame.size() - first));
        if (t == nullptr || rte_pktmbuf_chain(m, tail) != 0) {
            ADD_FAILURE() << "cannot build a two-segment mbuf";
            rte_pktmbuf_free(tail);
            rte_pktmbuf_free(m);
            return nullptr;
        }
        std::memcpy(t, frame.data() + first, frame.size() - first);
    }
    m->port = port;
    return m;
}

Bytes from_mbuf(const rte_mbuf* m) {
    Bytes out(m->pkt_len);
    const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, out.data());
    if (p != out.data()) {
        std::memcpy(out.data(), p, m->pkt_len);
    }
    return out;
}

std::optional<std::string> real_name(const uint8_t* mac) {
    for (const LabReal* r : {&kRs1, &kRs2, &kRs3}) {
        if (std::memcmp(mac, test::mac(r->mac).bytes.data(), 6) == 0) {
            return std::string(r->name);
        }
    }
    return std::nullopt;
}

std::string punt_name(dp::PuntReason r) {
    switch (r) {
        case dp::PuntReason::Arp:
            return "Arp";
        case dp::PuntReason::Vrrp:
            return "Vrrp";
        case dp::PuntReason::Icmp:
            return "Icmp";
        case dp::PuntReason::Host:
            return "Host";
    }
    return "reason" + std::to_string(static_cast<uint32_t>(r));
}

std::unique_ptr<Director> Director::create(const std::vector<lb::ServiceSpec>& services,
                                           DirectorOptions options) {
    std::unique_ptr<Director> d(new Director());
    auto port = test::RingPort::create(test::unique_name("dp"), options.ring_size,
                                       test::EalEnvironment::pool());
    if (!port) {
        ADD_FAILURE() << port.error().message;
        return nullptr;
    }
    d->port_ = std::move(*port);
    auto exc = dp::ExceptionChannel::create(options.index, SOCKET_ID_ANY);
    if (!exc) {
        ADD_FAILURE() << exc.error().message;
        return nullptr;
    }
    d->exceptions_ = std::move(*exc);
    auto pub = rcu::Publisher<lb::Snapshot>::create(options.index + 1);
    if (!pub) {
        ADD_FAILURE() << pub.error().message;
        return nullptr;
    }
    d->publisher_ = std::move(*pub);
    if (!d->publish(services)) {
        return nullptr;
    }

    dp::PortContext pc;
    pc.port_id = d->port_->port_id();
    pc.tx_queue = 0;
    pc.mac = test::mac(kPortMac);
    const net::IpAddress own4 = test::ip(kOwnV4);
    const net::IpAddress own6 = test::ip(kOwnV6);
    std::memcpy(pc.own_v4.data(), own4.bytes(), 4);
    pc.has_own_v4 = true;
    std::memcpy(pc.own_v6.data(), own6.bytes(), 16);
    pc.has_own_v6 = true;
    const dp::RxQueue rxq{pc.port_id, 0};

    dp::WorkerConfig cfg;
    cfg.index = options.index;
    cfg.socket = SOCKET_ID_ANY;
    cfg.ports = {&pc, 1};
    cfg.rx_queues = {&rxq, 1};
    cfg.idle_sleep_us = options.idle_sleep_us;
    cfg.policy = options.policy;
    cfg.conn_table.capacity = options.conn_capacity;
    cfg.conn_table.max_reals = 64;
    cfg.persist_table.capacity = options.persist_capacity;
    cfg.use_rte_malloc = options.use_rte_malloc;
    auto w = dp::Worker::create(cfg, *d->publisher_, *d->exceptions_);
    if (!w) {
        ADD_FAILURE() << w.error().message;
        return nullptr;
    }
    d->worker_ = std::move(*w);
    return d;
}

Director::~Director() = default;

bool Director::publish(const std::vector<lb::ServiceSpec>& services) {
    auto snap = lb::SnapshotBuilder::build(services, publisher_->current());
    if (!snap) {
        ADD_FAILURE() << "snapshot: " << snap.error().message;
        return false;
    }
    publisher_->publish(std::move(*snap));
    // No reader is online between bursts here, so the grace period is over at once.
    publisher_->poll_reclaim();
    return true;
}

Output Director::send(const std::vector<Bytes>& frames, uint32_t now_s) {
    std::vector<rte_mbuf*> mbufs;
    for (const Bytes& f : frames) {
        if (rte_mbuf* m = to_mbuf(f, port_id())) {
            mbufs.push_back(m);
        }
    }
    worker_->process_burst(*publisher_->current(), mbufs.data(),
                           static_cast<uint16_t>(mbufs.size()), now_s);
    return Output{drain_tx(), drain_punted()};
}

std::string Director::route(const Bytes& frame, uint32_t now_s) {
    Output out = send({frame}, now_s);
    if (out.tx.size() + out.punted.size() > 1) {
        ADD_FAILURE() << "one frame in, " << out.tx.size() + out.punted.size() << " out";
    }
    if (!out.tx.empty()) {
        const Bytes& f = out.tx.front();
        if (auto name = real_name(f.data())) {
            return *name;
        }
        net::MacAddress m;
        std::memcpy(m.bytes.data(), f.data(), 6);
        return "tx:" + m.to_string();
    }
    if (!out.punted.empty()) {
        return "punt:" + punt_name(out.punted.front().reason);
    }
    return "drop";
}

std::vector<Bytes> Director::drain_tx() {
    std::vector<Bytes> out;
    void* m = nullptr;
    while (rte_ring_dequeue(port_->tx(), &m) == 0) {
        out.push_back(from_mbuf(static_cast<rte_mbuf*>(m)));
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
    return out;
}

std::vector<Punted> Director::drain_punted() {
    std::vector<Punted> out;
    rte_mbuf* ms[64];
    while (unsigned n = exceptions_->drain_frames(ms, 64)) {
        for (unsigned i = 0; i < n; ++i) {
            out.push_back(Punted{static_cast<dp::PuntReason>(ms[i]->hash.usr), from_mbuf(ms[i])});
            rte_pktmbuf_free(ms[i]);
        }
    }
    return out;
}

std::vector<uint32_t> Director::drain_resolve() {
    std::vector<uint32_t> out;
    uint32_t ids[64];
    while (unsigned n = exceptions_->drain_resolve(ids, 64)) {
        out.insert(out.end(), ids, ids + n);
    }
    return out;
}

uint64_t Director::counter(std::string_view name) const {
    for (const dp::CounterInfo& c : dp::kWorkerCounterInfo) {
        if (name == c.name) {
            const auto* base = reinterpret_cast<const uint8_t*>(&worker_->counters());
            return dp::read_relaxed(*reinterpret_cast<const uint64_t*>(base + c.offset));
        }
    }
    ADD_FAILURE() << "no worker counter named " << name;
    return 0;
}

std::map<std::string, uint64_t> Director::counters() const {
    std::map<std::string, uint64_t> out;
    for (const dp::CounterInfo& c : dp::kWorkerCounterInfo) {
        out[c.name] = counter(c.name);
    }
    return out;
}

void DataplaneTest::SetUp() {
    ASSERT_TRUE(test::EalEnvironment::ready()) << "EAL is not initialised";
    baseline_ = rte_mempool_avail_count(test::EalEnvironment::pool());
}

void DataplaneTest::TearDown() {
    if (!test::EalEnvironment::ready()) {
        return;
    }
    EXPECT_EQ(rte_mempool_avail_count(test::EalEnvironment::pool()), baseline_)
        << "mbufs leaked (or freed twice) by the datapath under test";
}

}  // namespace director::dptest
