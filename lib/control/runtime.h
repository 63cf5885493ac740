// SPDX-License-Identifier: BSD-3-Clause
// The director process after rte_eal_init: owns the mbuf pool, the ports, the RCU publisher,
// the workers and their exception channels, and runs the control lcore's event loop
// (signals, reload, exception frames and the exception TAPs, health checks, VRRP, neighbour
// resolution, RCU reclamation) until SIGTERM or SIGINT. SIGHUP
// reloads the configuration; SIGUSR1 logs every worker counter on one `stats` line. Once a
// second the loop renders every counter and state for Prometheus (`global.metrics_listen`).
//
// Life cycle (DPDK l3fwd main.c: validate everything, then launch):
//   create()  ports up, tables allocated, first snapshot published — nothing runs yet;
//   run()     launches the workers, loops, and on stop drains: workers stopped and joined,
//             ports stopped, everything freed; returns the process exit status.
//
// Caller: the EAL main lcore (the control lcore) only.
#pragma once

#include <rte_mempool.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "control/control_tx.h"
#include "control/driver_profile.h"
#include "control/host_tap.h"
#include "control/neighbours.h"
#include "control/services.h"
#include "control/vrrp_service.h"
#include "dataplane/exception.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "health/engine.h"
#include "lb/snapshot.h"
#include "metrics/exposition.h"
#include "metrics/server.h"
#include "rcu/publisher.h"

namespace director::ctl {

class Runtime {
public:
    /**
     * Brings up ports and workers from a validated configuration.
     * @param config       the configuration (validated by config::load_file)
     * @param config_path  re-read on SIGHUP
     */
    static Result<std::unique_ptr<Runtime>> create(config::Config config, std::string config_path);
    ~Runtime();

    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /** Launches workers and runs the control loop until SIGTERM/SIGINT. @return exit status */
    int run();

    /**
     * Re-reads the configuration file and applies it: a file with errors, or one that changes
     * a field that cannot change at run time, is rejected with messages and nothing changes.
     * @return true when the new configuration is in force
     */
    bool reload();

    /** Sum of one counter over all workers. */
    uint64_t worker_counter(size_t offset) const noexcept;

private:
    Runtime() = default;

    struct PortState {
        std::string name;
        uint16_t port_id = 0;
        dp::PortInfo info;
        DriverProfile profile;
        uint16_t rx_queues = 0;
        bool started = false;
        std::string kernel_iface;  // AF_PACKET: the interface whose flags give link state
    };

    Result<void> start_ports();
    Result<void> create_workers();
    Result<void> publish_snapshot();
    void configure_neighbours();
    std::vector<NeighPort> neigh_ports() const;
    void drain_exceptions();
    void to_host(uint16_t port_id, std::span<const uint8_t> frame);
    void drain_host_taps();
    void poll_health(vrrp::TimePoint now);
    bool link_up(const PortState& p) const;
    void poll_links(vrrp::TimePoint now);
    void render_metrics(metrics::TextWriter& w) const;
    void publish_metrics();
    void shutdown();
    void log_summary() const;
    void log_stats() const;

    config::Config config_;
    std::string config_path_;
    rte_mempool* pool_ = nullptr;
    std::vector<PortState> ports_;
    std::vector<PortRoute> routes_;
    std::vector<dp::PortContext> port_contexts_;  // per worker: ports_.size() entries each
    std::vector<std::vector<dp::RxQueue>> rx_queues_;  // per worker
    std::unique_ptr<rcu::Publisher<lb::Snapshot>> publisher_;
    std::vector<std::unique_ptr<dp::ExceptionChannel>> exceptions_;
    std::vector<std::unique_ptr<dp::Worker>> workers_;
    SnapshotFactory factory_;
    std::unique_ptr<ControlTx> control_tx_;
    std::unique_ptr<NeighbourService> neighbours_;
    std::unique_ptr<VrrpService> vrrp_;
    std::vector<std::unique_ptr<HostTap>> taps_;  // per port (config order); null = none
    // TCP_CHECK without the kernel: SYNs leave on the control tx queue, answers are taken out
    // of the host punts. Declared before health_, which uses them until it is destroyed.
    std::unique_ptr<health::FrameSink> syn_sink_;
    std::unique_ptr<health::SynProber> syn_prober_;
    std::unique_ptr<health::Engine> health_;
    uint64_t host_dropped_ = 0;  // host traffic with no exception TAP to take it
    std::unique_ptr<metrics::MetricsServer> metrics_;
    uint64_t reloads_applied_ = 0;
    uint64_t reloads_rejected_ = 0;
    uint64_t neigh_version_ = 0;
    bool launched_ = false;
};

/**
 * Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread. Call it before rte_eal_init, so that
 * every thread EAL starts inherits the mask and the signals reach Runtime::run()'s signalfd
 * instead of killing the process from whichever thread the kernel picks.
 */
void block_control_signals();

/**
 * Names the first field that differs between two configurations and cannot change while the
 * director runs (EAL, lcores, ports, table sizes, timeouts, forwarding policy, the /metrics
 * listener), or "" if none. VRRP instances and sync groups are reconciled in place.
 */
std::string init_only_change(const config::Config& running, const config::Config& next);

}  // namespace director::ctl
