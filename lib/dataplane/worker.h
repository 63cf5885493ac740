// SPDX-License-Identifier: BSD-3-Clause
// The worker lcore: rx burst -> parse -> classify -> service lookup -> connection /
// persistence table or scheduler -> rewrite destination MAC to the real server's and source MAC
// to the port's -> tx burst. L3 and L4 bytes are never touched (LVS direct routing).
//
// Each worker owns its connection table, persistence table, scheduler state and counters; it
// shares nothing writable with other lcores. It reads the current lb::Snapshot once per loop
// iteration through the RCU Publisher and reports quiescence after it (STYLE H10).
//
// Caller: create/destroy on the control lcore; run() on the worker's own lcore; stop() and the
// counter accessors from any thread.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "common/cacheline.h"
#include "common/result.h"
#include "dataplane/counters.h"
#include "dataplane/exception.h"
#include "dataplane/lane.h"
#include "lb/conn_table.h"
#include "lb/persist_table.h"
#include "lb/scheduler.h"
#include "lb/snapshot.h"
#include "net/addr.h"
#include "net/parse.h"
#include "net/verdict.h"
#include "rcu/publisher.h"

namespace director::dp {

inline constexpr uint16_t kBurstSize = 32;
/// Ports a worker can serve; port ids index a fixed array.
inline constexpr uint16_t kMaxPorts = 8;
/// Buckets of a table the expiry sweep visits in one step, at most one step per table per loop
/// iteration (STYLE H11).
inline constexpr uint32_t kSweepBucketsPerIteration = 8;
/// The sweep is paced by the TSC so that one pass over a table takes about this long, whatever
/// the packet rate: per-real connection counts (lc/wlc) then lag silent expiries by at most
/// that much. Unpaced, a busy worker swept its whole table many times a second, a few percent
/// of its time at 1M slots spent reading lines that had nothing to expire.
inline constexpr uint32_t kSweepPassSeconds = 1;
/// Empty polls in a row before the idle back-off sleeps.
inline constexpr uint32_t kIdlePollsBeforeSleep = 64;

/// Rx queues one worker can poll.
inline constexpr uint16_t kMaxRxQueues = 16;

/** One rx queue a worker polls. */
struct RxQueue {
    uint16_t port_id = 0;
    uint16_t queue = 0;
};

/** What a worker needs to know about one port. */
struct PortContext {
    uint16_t port_id = 0;
    uint16_t tx_queue = 0;  ///< this worker's tx queue
    net::MacAddress mac;
    std::array<uint8_t, 16> own_v4{};  ///< the director's IPv4 address (bytes 0..3), if any
    bool has_own_v4 = false;
    std::array<uint8_t, 16> own_v6{};
    bool has_own_v6 = false;
};

/** IPVS sysctl equivalents (config::Forwarding). */
struct ForwardingPolicy {
    bool sloppy_tcp = true;
    bool expire_nodest_conn = true;
    bool expire_quiescent_template = false;
};

struct WorkerConfig {
    unsigned index = 0;          ///< 0..workers-1; also the RCU reader id
    int socket = 0;              ///< NUMA socket for the tables
    std::span<const PortContext> ports;
    /// Usually one queue per port; more where a PMD has more rx queues than workers (AF_PACKET
    /// fans out to every queue pair it has, the control lcore's included).
    std::span<const RxQueue> rx_queues;
    uint32_t idle_sleep_us = 0;  ///< 0 = pure polling
    ForwardingPolicy policy;
    lb::ConnTableConfig conn_table;
    lb::PersistTableConfig persist_table;
    bool use_rte_malloc = true;  ///< false in unit tests that run without hugepage memory
    /// Frames stage 1 parses at once (lane_stage_for): 4, 8, or 0 for the widest the CPU runs.
    unsigned lane_width = 0;
};

class Worker {
public:
    /**
     * Allocates the tables (rte_zmalloc_socket on cfg.socket) and registers the RCU reader.
     * Caller: control lcore, before the worker lcore is launched.
     */
    static Result<std::unique_ptr<Worker>> create(const WorkerConfig& cfg,
                                                  rcu::Publisher<lb::Snapshot>& publisher,
                                                  ExceptionChannel& exceptions);
    ~Worker();

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /** The poll loop; returns after stop(). Caller: the worker's lcore. */
    void run() noexcept;

    /** Asks run() to return at the end of its current iteration. Caller: any thread. */
    void stop() noexcept { stop_.store(true, std::memory_order_relaxed); }

    /**
     * Processes one burst against a snapshot and transmits the result: the body of run(),
     * exposed so that tests can drive the real pipeline on prepared mbufs.
     * Caller: the thread that owns this worker (run()'s, or a test's).
     */
    void process_burst(const lb::Snapshot& snap, rte_mbuf** pkts, uint16_t n,
                       uint32_t now_s) noexcept;

    /** Caller: any thread (relaxed reads of single-writer counters). */
    const WorkerCounters& counters() const noexcept { return counters_; }
    /** Malformed frames by net::Verdict drop reason (index net::drop_index). */
    std::span<const uint64_t> malformed() const noexcept { return malformed_; }
    const lb::ConnTable& conn_table() const noexcept { return *conns_; }
    const lb::PersistTable& persist_table() const noexcept { return *persist_; }
    unsigned index() const noexcept { return cfg_index_; }
    /** Frames stage 1 parses at once (WorkerConfig::lane_width, as the CPU allows). */
    unsigned lane_width() const noexcept { return lane_stage_width(lane_stage_); }

private:
    Worker() = default;

    enum class Action : uint8_t { Forward, Punt, Drop };

    /** Per tx slot, the packets queued for the next tx burst and the port's source MAC. Arrays
        by field rather than an array of per-slot records: each row is a power of two (an
        index shift, not a multiply). A slot's queue is the run from pkts[slot] to tail[slot]:
        queueing is a store through the tail and its increment (with a count, the address
        takes three instructions more). Points into itself: not copied. */
    struct TxQueues {
        TxQueues() noexcept {
            for (unsigned i = 0; i < kMaxPorts; ++i) {
                tail[i] = pkts[i];
            }
        }
        TxQueues(const TxQueues&) = delete;
        TxQueues& operator=(const TxQueues&) = delete;
        uint16_t count(unsigned slot) const noexcept {
            return static_cast<uint16_t>(tail[slot] - pkts[slot]);
        }
        rte_mbuf** tail[kMaxPorts];  ///< next free place in pkts[slot]
        /// The port's MAC in bytes 2..7 of a little-endian word: set_eth_addresses writes it
        /// and the destination's last two bytes with one 8-byte store.
        uint64_t src_mac[kMaxPorts] = {};
        rte_mbuf* pkts[kMaxPorts][kBurstSize];
    };

    // The per-packet chains (worker.cc): the fast lane's hit (lane_hit) is inlined into
    // forward_lane_run, a loop without calls; the general path (process_general: classify ->
    // forward_flow -> rewrite_to_real) is one call per packet, with its own chain inlined; the
    // *_slow / *_other functions hold the rare branches, out of line and marked cold.

    /** Parses a frame the fast parser declined (parse_frame), hashes and prefetches if Ok. */
    [[gnu::noinline]] void parse_slow(const rte_mbuf* m, net::ParsedPacket& pp,
                                      uint32_t& hash) noexcept;
    /** The general path's parse of one frame: parse_frame_fast, else parse_slow. */
    [[gnu::noinline]] void parse_general(const rte_mbuf* m, net::ParsedPacket& pp,
                                         uint32_t& hash) noexcept;
    /**
     * A lane packet whose service the lane found but which lane_hit declined (LaneHit::
     * Declined): forward_flow on the re-parsed frame, as classify() would end. `pp` is
     * scratch space.
     */
    [[gnu::noinline]] void forward_lane_miss(const lb::Snapshot& snap, rte_mbuf* m,
                                             net::ParsedPacket& pp, uint32_t hash,
                                             uint32_t now_s) noexcept;
    /** Queues a Forward for tx on `tx_slot`, frees a Drop; a Punt is the ring's already. */
    void dispatch(Action a, rte_mbuf* m, uint16_t tx_slot) noexcept;
    /** Queues `m` on tx_ slot `tx_slot`; a chunk of process_burst never queues more than
        kBurstSize packets on one slot (it transmits after each). */
    void enqueue(rte_mbuf* m, uint16_t tx_slot) noexcept;
    /** The index in ports_ and tx_ of DPDK port `port`, or -1 when this worker lacks it
        (RTE_MBUF_PORT_INVALID included). */
    int slot_of(uint16_t port) const noexcept {
        return port < RTE_MAX_ETHPORTS ? port_slot_[port] : -1;
    }
    /** DR's whole rewrite: destination MAC `dst`, source MAC the tx port's. */
    void set_eth_addresses(rte_mbuf* m, const net::MacAddress& dst, uint16_t tx_slot) noexcept;
    /** The general path for one parsed frame: classify, then queue for tx, or free. */
    [[gnu::noinline]] void process_general(const lb::Snapshot& snap, rte_mbuf* m,
                                           const net::ParsedPacket& pp, uint32_t hash,
                                           uint32_t now_s) noexcept;
    struct LastService;
    /** Stage 1's output for one chunk (process_burst explains the stages). */
    struct Staged {
        uint64_t lane[kBurstSize];  ///< the lane word; 0: the general path
        uint32_t hash[kBurstSize];  ///< the flow hash (lane packets, and parsed general ones)
        lb::ConnBucket* bucket[kBurstSize];  ///< lane packets: the flow's bucket
    };
    enum class LaneHit : uint8_t {
        Declined,       ///< nothing changed: the packet needs forward_flow (a miss, an
                        ///< expired entry, a change of TCP state, or a real that cannot
                        ///< carry it; ConnTable::lookup_update)
        Forwarded,      ///< rewritten and queued for tx
        ForwardedHold,  ///< and its persistence template is due a hold (hold_template_v4)
    };
    /** What lane_hit reads of the worker, the snapshot and the burst's last service. */
    struct LaneEnv {
        lb::ConnTable* table;
        const lb::RealHot* reals;  ///< Snapshot::real_hots()
        uint32_t real_count;
        uint32_t svc;
        uint32_t service_id;
        uint32_t now_s;
        bool persistent;
    };
    /**
     * The fast lane's hit: forwards a lane packet of service env.svc from its connection entry
     * when the entry's real can carry it. Makes no call.
     */
    LaneHit lane_hit(const LaneEnv& env, rte_mbuf* m, lb::ConnBucket* at, uint64_t lane,
                     uint32_t hash, uint32_t& hold_expires) noexcept;
    /**
     * Stage 2 for lane packets of last_service_ from chunk[i] on: lane_hit on each, in a loop
     * without calls (its values stay in registers); a packet it declines goes on from
     * forward_flow (forward_lane_miss), and a due template hold is made, out of that loop.
     * Adds the hits to `forwarded`.
     *
     * @return the first packet it did not take (another service's, or not a lane packet), or
     *         c
     */
    [[gnu::noinline]] unsigned forward_lane_run(const lb::Snapshot& snap, rte_mbuf* const* chunk,
                                                const Staged& st, net::ParsedPacket* pp, unsigned i,
                                                unsigned c, uint32_t now_s,
                                                uint32_t& forwarded) noexcept;
    /** hold_template for a fast-lane packet of service `s`: the client address read from the
        frame. */
    [[gnu::noinline]] void hold_template_v4(const LastService& s, const rte_mbuf* m,
                                            uint32_t conn_expires, uint32_t now_s) noexcept;
    Action classify(const lb::Snapshot& snap, rte_mbuf* m, const net::ParsedPacket& pp,
                    uint32_t hash, uint32_t now_s, uint16_t& tx_slot) noexcept;
    /** classify for everything but unicast TCP/UDP: ARP, VRRP, ND, ICMP, fragments, group. */
    [[gnu::noinline, gnu::cold]] Action classify_other(const lb::Snapshot& snap, rte_mbuf* m,
                                                       const net::ParsedPacket& pp,
                                                       const PortContext& port, bool group,
                                                       uint32_t hash, uint32_t now_s,
                                                       uint16_t& tx_slot) noexcept;
    [[gnu::noinline]] Action punt(rte_mbuf* m, PuntReason why, uint64_t& counter) noexcept;
    /** Hit on a forwardable real inline; everything else through forward_flow_slow. */
    Action forward_flow(const lb::Snapshot& snap, uint32_t svc, rte_mbuf* m,
                        const net::ParsedPacket& pp, uint32_t hash, uint32_t now_s,
                        uint16_t& tx_slot) noexcept;
    /** Miss, or a hit whose real is gone / without MAC: schedule, insert, or drop. */
    [[gnu::noinline]] Action forward_flow_slow(const lb::Snapshot& snap, uint32_t svc,
                                               rte_mbuf* m, const net::ParsedPacket& pp,
                                               uint32_t hash, uint32_t slot, uint32_t now_s,
                                               uint16_t& tx_slot) noexcept;
    /** Extends the connection's persistence template (ConnUpdate::hold_due). */
    [[gnu::noinline]] void hold_template(const lb::ServiceInfo& si, const net::FlowKey& k,
                                         uint32_t conn_expires, uint32_t now_s) noexcept;
    [[gnu::noinline, gnu::cold]] Action forward_icmp_error(const lb::Snapshot& snap, rte_mbuf* m,
                                                           const net::ParsedPacket& pp,
                                                           uint32_t now_s,
                                                           uint16_t& tx_slot) noexcept;
    uint32_t choose_new(const lb::Snapshot& snap, uint32_t svc, const net::ParsedPacket& pp,
                        uint32_t flow_hash, uint32_t now_s) noexcept;
    /**
     * Sets the real's MAC as destination and the tx port's as source; counts on success.
     * `tx_slot` (here and in the functions that lead here) is the tx port's index in ports_
     * and tx_, not its DPDK port id.
     */
    Action rewrite_to_real(const lb::Snapshot& snap, uint32_t svc, uint32_t rs, rte_mbuf* m,
                           uint16_t& tx_slot, uint64_t& counter) noexcept;
    /** rewrite_to_real with the real's MAC and tx port in hand (a RealHot record). */
    Action rewrite_mac(const net::MacAddress& dst, uint16_t port, rte_mbuf* m,
                       uint16_t& tx_slot, uint64_t& counter) noexcept;
    void transmit() noexcept;
    void sweep(uint32_t now_s, uint64_t tsc) noexcept;
    void idle_backoff() noexcept;

    LaneStage lane_stage_ = lane_stage_x4;
    rcu::Publisher<lb::Snapshot>* publisher_ = nullptr;
    ExceptionChannel* exceptions_ = nullptr;
    std::unique_ptr<lb::ConnTable> conns_;
    std::unique_ptr<lb::PersistTable> persist_;
    lb::SchedState* sched_ = nullptr;  // kMaxServices entries, indexed by service_id
    bool sched_rte_ = false;
    std::array<PortContext, kMaxPorts> ports_{};
    std::array<RxQueue, kMaxRxQueues> rx_{};
    uint16_t rx_count_ = 0;
    std::array<int8_t, RTE_MAX_ETHPORTS> port_slot_{};  // port id -> index in ports_, -1 none
    uint16_t port_count_ = 0;
    unsigned cfg_index_ = 0;
    uint32_t idle_sleep_us_ = 0;
    /** TSC pacing of one table's sweep: a step of kSweepBucketsPerIteration buckets is due
        every `period` cycles; `next` is when the next one is. */
    struct SweepPace {
        uint64_t period = 1;
        uint64_t next = 0;
        /** True (and the pace advanced) when a step is due at `tsc`. */
        bool due(uint64_t tsc) noexcept;
    };
    /**
     * The last IPv4 service lookup, with what the fast lane needs of the service; valid while
     * the snapshot it was made in is current. The key is a lane word without its TCP flags:
     * (dst, port, proto), never 0.
     */
    struct LastService {
        uint64_t snapshot = 0;  ///< Snapshot::serial() of the lookup's snapshot
        uint64_t key = 0;       ///< 0: none
        uint32_t svc = lb::kNoService;
        uint32_t service_id = 0;
        uint32_t persistence_timeout_s = 0;
        uint8_t persistence_prefix_len = 0;
    };
    /** Looks up (and remembers) the service of an IPv4 lane key. */
    const LastService& service_v4(const lb::Snapshot& snap, uint64_t key) noexcept;
    LastService last_service_;
    SweepPace conn_sweep_;
    SweepPace persist_sweep_;
    uint32_t idle_polls_ = 0;
    ForwardingPolicy policy_;
    TxQueues tx_;

    alignas(kCacheLine) std::atomic<bool> stop_{false};
    WorkerCounters counters_;
    alignas(kCacheLine) uint64_t malformed_[net::kDropReasonCount] = {};
};

}  // namespace director::dp
