// SPDX-License-Identifier: BSD-3-Clause
// The health-check engine: every checker of every real server of every virtual server of a
// configuration, run from the control lcore's event loop with non-blocking probes (STYLE C1:
// one thread, no thread per check, no blocking call). It replaces keepalived's checker process.
//
// How the control loop drives it:
//   - add fds() to its epoll (one epoll fd of the engine's own: readable when any probe
//     socket is ready) and call on_ready(fd, now) when it is readable;
//   - wake up no later than next_deadline() and call poll(now);
//   - after either, if take_changed() is true, read decision(vs) / real(vs, rs) and publish a
//     new snapshot; drain take_log() into the log.
// poll(now) does everything due: socket events, probe timeouts, finished scripts, probes whose
// time has come (at most max_starts_per_poll per call, so a burst never stalls the loop).
//
// Checks of one interval are spread: a checker's first probe runs at a deterministic
// pseudo-random offset within its delay_loop (checker.h), later ones delay_loop after the
// previous one ended. MISC_CHECK scripts and notify scripts run through vrrp::ScriptRunner;
// while any runs, next_deadline() is at most child_poll_interval away so that exits are
// reaped promptly (the runner polls with waitpid(WNOHANG); no SIGCHLD handler is installed).
//
// Raw TCP_CHECK (optional, EngineOptions::raw_tcp): TCP_CHECKs without bindto / bind_port send
// their SYN through a SynProber (syn_prober.h) instead of a kernel socket, a few us of CPU per
// probe instead of ~44. The control loop then also offers every frame punted for the
// director's own address to on_host_frame() before writing it into the exception TAP, and
// drops the frames it consumed. When next_hop() has no answer for a real server (no MAC
// learnt yet) or the prober has no free source port, that attempt uses the kernel socket, as
// without raw_tcp (counted in EngineStats::raw_fallbacks): the verdict stays right, only the
// cost differs, and the kernel's own ARP/ND through the TAP teaches the neighbour table.
//
// Indexes: virtual servers, real servers and checks are numbered in configuration order
// (config.virtual_servers[vs].real_servers[rs].checks[k]), the same indexes the snapshot
// builder (ctl::SnapshotFactory) uses.
//
// Caller: control lcore only. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "health/checker.h"
#include "health/probe.h"
#include "health/service.h"
#include "health/spec.h"
#include "health/syn_prober.h"
#include "net/addr.h"
#include "vrrp/notify_runner.h"

namespace director::health {

/** Where a raw TCP_CHECK to one real server goes: the DPDK port and the Ethernet destination. */
struct RawNextHop {
    uint16_t port_id = 0;
    net::MacAddress mac;  ///< the real server's MAC (LVS-DR: same L2) or the gateway's
};

/** Raw TCP_CHECK through a SynProber (see the file comment); off while prober is null. */
struct RawTcpOptions {
    SynProber* prober = nullptr;  ///< not owned; outlives the engine
    FrameSink* sink = nullptr;    ///< not owned; outlives the engine
    /// The next hop of a probe's destination (connect_ip); nullopt = not known yet: that
    /// attempt falls back to a kernel socket. Called once per raw probe start.
    std::function<std::optional<RawNextHop>(const net::IpAddress&)> next_hop;
};

/** Tunables of the shell; the keepalived semantics themselves are not configurable here. */
struct EngineOptions {
    /// Start notify_up/down and quorum_up/down scripts (false: do not run them).
    bool run_notify_scripts = true;
    /// Timeout for notify scripts; zero = none (keepalived's notify_exec has none).
    Duration notify_timeout{0};
    /// SIGTERM → SIGKILL grace for MISC_CHECK scripts over misc_timeout.
    Duration kill_grace = std::chrono::seconds(1);
    /// How often finished scripts are reaped while some are running.
    Duration child_poll_interval = std::chrono::milliseconds(10);
    /// Probes started per poll() at most; the rest start on the next call (deadline = now).
    /// 64 keeps one poll() at about 3 ms of CPU when checks fall behind (a connect() costs
    /// some 40 us of kernel time), and still allows 64,000 starts a second at the control
    /// loop's 1 ms period.
    std::size_t max_starts_per_poll = 64;
    /// Log lines kept for take_log(); older ones are dropped (and counted) beyond this.
    std::size_t max_log_lines = 10000;
    /// Makes probes; empty = make_probe (tests inject fakes).
    ProbeFactory probe_factory;
    /// Userspace TCP_CHECK; default off (every probe uses probe_factory, as before).
    RawTcpOptions raw_tcp;
};

/** Counters, for metrics and tests. */
struct EngineStats {
    uint64_t probes_started = 0;
    uint64_t probes_succeeded = 0;
    uint64_t probes_failed = 0;
    uint64_t probe_timeouts = 0;   ///< included in probes_failed
    uint64_t scripts_started = 0;  ///< notify / quorum scripts
    uint64_t script_errors = 0;    ///< could not start, or ended non-zero
    uint64_t log_dropped = 0;
    uint64_t raw_probes = 0;     ///< TCP_CHECKs started through the SynProber
    uint64_t raw_fallbacks = 0;  ///< raw-eligible TCP_CHECKs that used a kernel socket instead
    std::size_t checkers = 0;
    std::size_t in_flight = 0;        ///< probes running now
    std::size_t scripts_running = 0;  ///< MISC_CHECK and notify processes not yet reaped
};

class Engine {
public:
    /**
     * Builds the checkers of every real server of every virtual server.
     *
     * @param config  the configuration (checks inherit VS → RS → check as config.h says)
     * @param now     start time: first probes fall within [now, now + delay_loop)
     * @param options shell tunables
     * @return the engine, or an error (a script or hex string that cannot be parsed, a check
     *         with no port, epoll or TLS set-up failure)
     */
    static Result<std::unique_ptr<Engine>> create(const config::Config& config, TimePoint now,
                                                  EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /**
     * Applies a reloaded configuration. A checker that probes the same thing the same way
     * (same VS, real server and same_probe()) keeps its UP/DOWN state, retry count and
     * schedule (a probe cancelled by the reload restarts at once); virtual servers keep their
     * quorum and sorry-server state, real servers their dynamic weight. New checkers start
     * fresh (alpha → DOWN) within their delay_loop. On error nothing changes.
     */
    Result<void> reconfigure(const config::Config& config, TimePoint now);

    /** The descriptors to watch for readability: the engine's epoll fd. */
    std::span<const int> fds() const noexcept { return {&epoll_fd_, 1}; }

    /** fd (one of fds()) is readable: dispatch the ready probe sockets. Never blocks. */
    void on_ready(int fd, TimePoint now);

    /** Runs everything due at `now` (see the file comment). Never blocks. */
    void poll(TimePoint now);

    /** When poll() next has work, or nullopt when there is nothing to wait for. */
    std::optional<TimePoint> next_deadline() const;

    /**
     * Offers a frame punted to the control lcore (destined to the director's own address) to
     * the raw TCP_CHECK prober. Finished probes are accounted at once (take_changed() may turn
     * true).
     *
     * Caller: control lcore, for every such frame, before it is written into the TAP.
     *
     * @param frame  the whole Ethernet frame
     * @param now    the time
     * @return true when the frame answered a raw probe and was consumed: do not write it into
     *         the TAP. Always false without EngineOptions::raw_tcp.
     */
    bool on_host_frame(std::span<const uint8_t> frame, TimePoint now);

    /** Number of virtual servers (config order). */
    std::size_t virtual_servers() const noexcept { return services_.size(); }
    /** The decision for virtual server vs: reals' presence and weights, quorum, sorry server. */
    const ServiceDecision& decision(std::size_t vs) const { return services_[vs].decision(); }
    /** One real server's decision. */
    const RealDecision& real(std::size_t vs, std::size_t rs) const {
        return services_[vs].decision().reals[rs];
    }
    /** State of one checker. */
    const CheckerState& checker(std::size_t vs, std::size_t rs, std::size_t k) const;
    /** The last probe result of one checker (reason text for diagnostics); nullopt before. */
    const std::optional<ProbeResult>& last_result(std::size_t vs, std::size_t rs,
                                                  std::size_t k) const;

    /** Bumped whenever any decision changes. */
    uint64_t generation() const noexcept { return generation_; }
    /** True once after any decision changed (or a reload): time to publish a snapshot. */
    bool take_changed() noexcept {
        const bool c = changed_;
        changed_ = false;
        return c;
    }
    /** keepalived-format log lines since the last call, oldest first. */
    std::vector<std::string> take_log();

    EngineStats stats() const noexcept;

private:
    struct Slot;
    struct Timer {
        TimePoint at;
        uint32_t slot;
        uint32_t stamp;
        friend bool operator>(const Timer& a, const Timer& b) noexcept { return a.at > b.at; }
    };
    class Watcher;

    explicit Engine(EngineOptions options);
    Result<void> build(const config::Config& config, TimePoint now, bool reload);
    void schedule(uint32_t slot, TimePoint at);
    void start_probe(uint32_t slot, TimePoint now);
    void finish_probe(uint32_t slot, const ProbeResult& result, TimePoint now);
    void dispatch_events(TimePoint now);
    void reap_scripts(TimePoint now);
    void run_timers(TimePoint now);
    void apply(const Effects& fx, TimePoint now);
    void log(std::string line);
    void checker_log(const Slot& s, const CheckerStep& step, const ProbeResult& r);
    void prune_timers();
    std::unique_ptr<Probe> make_raw_probe(uint32_t slot, TimePoint now);
    void deliver_raw(TimePoint now);

    EngineOptions options_;
    int epoll_fd_ = -1;
    std::unique_ptr<vrrp::ScriptRunner> runner_;
    std::unique_ptr<detail::TlsContext> tls_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<std::vector<std::vector<uint32_t>>> index_;  ///< [vs][rs][k] → slot
    std::vector<ServiceHealth> services_;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
    std::vector<std::pair<vrrp::ScriptRunner::Id, uint32_t>> scripts_;  ///< MISC id → slot
    std::vector<vrrp::ScriptRunner::Id> orphans_;  ///< MISC scripts whose probe a reload cancelled
    std::deque<std::string> log_;
    EngineStats stats_;
    uint64_t generation_ = 0;
    uint64_t nonce_ = 0;
    std::size_t in_flight_ = 0;
    bool changed_ = true;
    TimePoint last_poll_{};
    std::vector<SynOutcome> raw_out_;  ///< reused: outcomes of one prober call
};

}  // namespace director::health
