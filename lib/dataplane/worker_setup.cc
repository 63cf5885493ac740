// SPDX-License-Identifier: BSD-3-Clause
// Worker construction and destruction: control-plane code (allocation, error strings), kept
// apart from the hot loop in worker.cc so that the hot-path lint can hold that file strictly.
#include <rte_cycles.h>
#include <rte_malloc.h>

#include <new>
#include <string>

#include "dataplane/worker.h"

#include <cstring>

namespace director::dp {

Result<std::unique_ptr<Worker>> Worker::create(const WorkerConfig& cfg,
                                               rcu::Publisher<lb::Snapshot>& publisher,
                                               ExceptionChannel& exceptions) {
    if (cfg.ports.empty() || cfg.ports.size() > kMaxPorts) {
        return make_error("worker " + std::to_string(cfg.index) + ": needs 1.." +
                          std::to_string(kMaxPorts) + " ports");
    }
    std::unique_ptr<Worker> w(new Worker());
    w->publisher_ = &publisher;
    w->exceptions_ = &exceptions;
    w->cfg_index_ = cfg.index;
    w->idle_sleep_us_ = cfg.idle_sleep_us;
    w->lane_stage_ = lane_stage_for(cfg.lane_width);
    w->policy_ = cfg.policy;
    w->port_slot_.fill(-1);
    for (const PortContext& p : cfg.ports) {
        if (p.port_id >= RTE_MAX_ETHPORTS) {
            return make_error("worker: port id " + std::to_string(p.port_id) + " out of range");
        }
        w->port_slot_[p.port_id] = static_cast<int8_t>(w->port_count_);
        uint64_t mac = 0;
        std::memcpy(&mac, p.mac.bytes.data(), 6);
        w->tx_.src_mac[w->port_count_] = mac << 16;
        w->ports_[w->port_count_++] = p;
    }
    if (cfg.rx_queues.empty() || cfg.rx_queues.size() > kMaxRxQueues) {
        return make_error("worker " + std::to_string(cfg.index) + ": needs 1.." +
                          std::to_string(kMaxRxQueues) + " rx queues");
    }
    for (const RxQueue& q : cfg.rx_queues) {
        if (q.port_id >= RTE_MAX_ETHPORTS || w->port_slot_[q.port_id] < 0) {
            return make_error("worker: rx queue on unknown port " + std::to_string(q.port_id));
        }
        w->rx_[w->rx_count_++] = q;
    }
    const lb::TableAllocator alloc =
        cfg.use_rte_malloc ? lb::TableAllocator::rte(cfg.socket) : lb::TableAllocator::heap();
    auto conns = lb::ConnTable::create(cfg.conn_table, alloc);
    if (!conns) {
        return make_error("worker " + std::to_string(cfg.index) +
                          ": connection table: " + conns.error().message);
    }
    w->conns_ = std::move(*conns);
    auto persist = lb::PersistTable::create(cfg.persist_table, alloc);
    if (!persist) {
        return make_error("worker " + std::to_string(cfg.index) +
                          ": persistence table: " + persist.error().message);
    }
    w->persist_ = std::move(*persist);
    // One pass per kSweepPassSeconds: steps of kSweepBucketsPerIteration buckets, evenly apart.
    const auto sweep_period = [](uint32_t buckets) {
        const uint64_t steps =
            (buckets + kSweepBucketsPerIteration - 1) / kSweepBucketsPerIteration;
        const uint64_t period = rte_get_tsc_hz() * kSweepPassSeconds / steps;
        return period != 0 ? period : 1;
    };
    w->conn_sweep_.period = sweep_period(w->conns_->bucket_count());
    w->persist_sweep_.period = sweep_period(w->persist_->bucket_count());
    const size_t sched_bytes = sizeof(lb::SchedState) * lb::kMaxServices;
    if (cfg.use_rte_malloc) {
        w->sched_ = static_cast<lb::SchedState*>(
            rte_zmalloc_socket("director_sched", sched_bytes, kCacheLine, cfg.socket));
        w->sched_rte_ = true;
    } else {
        w->sched_ = new (std::nothrow) lb::SchedState[lb::kMaxServices]();
    }
    if (w->sched_ == nullptr) {
        return make_error("worker " + std::to_string(cfg.index) +
                          ": cannot allocate scheduler state");
    }
    auto reg = publisher.register_reader(cfg.index);
    if (!reg) {
        return Unexpected{reg.error()};
    }
    return w;
}

Worker::~Worker() {
    for (uint16_t i = 0; i < kMaxPorts; ++i) {
        rte_pktmbuf_free_bulk(tx_.pkts[i], tx_.count(i));
        tx_.tail[i] = tx_.pkts[i];
    }
    if (sched_rte_) {
        rte_free(sched_);
    } else {
        delete[] sched_;
    }
}

}  // namespace director::dp
