// SPDX-License-Identifier: BSD-3-Clause
// A small non-blocking process runner for notify scripts (notify.h says *what* to run).
//
// Why not system() or a thread: the control lcore must never block (VRRP adverts keep their
// timing, STYLE H10/C1). Processes are started with posix_spawnp, each in its own process
// group, with default signal dispositions and an empty signal mask (the director may block or
// handle signals itself), stdin from /dev/null and stdout/stderr inherited. The owner calls
// poll() from its loop: it reaps finished children with waitpid(WNOHANG) and enforces the
// timeout like keepalived does for scripts: SIGTERM to the process group at the deadline, then
// SIGKILL after a grace period.
//
// Caller: control lcore only (one owner; not thread-safe). The destructor SIGKILLs and reaps
// every child still running, so no zombie outlives the runner.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "vrrp/clock.h"

namespace director::vrrp {

class ScriptRunner {
public:
    /** Identifies one started process. */
    using Id = uint64_t;

    /** How a process ended. */
    struct Exit {
        Id id = 0;
        pid_t pid = -1;
        std::string label;    ///< what start() was given, for logs
        bool exited = false;  ///< normal exit: exit_code is valid
        int exit_code = -1;
        int signal = 0;          ///< killed by this signal (exited == false)
        bool timed_out = false;  ///< the runner signalled it because of its timeout
        Duration runtime{0};     ///< from start() to the poll() that reaped it

        bool ok() const noexcept { return exited && exit_code == 0; }
    };

    /** @param kill_grace  time between SIGTERM and SIGKILL for a timed-out process */
    explicit ScriptRunner(Duration kill_grace = std::chrono::seconds(1)) noexcept
        : kill_grace_(kill_grace) {}
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    /**
     * Starts argv[0] (searched in PATH) with argv as its arguments.
     *
     * @param argv     program and arguments; must not be empty
     * @param label    free text returned in Exit (e.g. "VI_1 notify_master")
     * @param now      the caller's clock
     * @param timeout  SIGTERM after this long; Duration::zero() = never
     * @return the process id, or an error (empty argv, program not found or not executable,
     *         out of processes) with the errno text
     */
    Result<Id> start(const std::vector<std::string>& argv, std::string label, TimePoint now,
                     Duration timeout);

    /**
     * Reaps finished processes and signals overdue ones. Never blocks.
     * @return the processes that ended since the last call
     */
    std::vector<Exit> poll(TimePoint now);

    /** Processes started and not yet reaped. */
    std::size_t running() const noexcept { return children_.size(); }

    /** When poll() next has a timeout to enforce (children may also end before that). */
    std::optional<TimePoint> next_deadline() const noexcept;

private:
    struct Child {
        Id id;
        pid_t pid;
        std::string label;
        TimePoint started;
        std::optional<TimePoint> term_at;  ///< SIGTERM due
        std::optional<TimePoint> kill_at;  ///< SIGKILL due (after SIGTERM)
        bool timed_out = false;
    };

    Duration kill_grace_;
    Id next_id_ = 1;
    std::vector<Child> children_;
};

}  // namespace director::vrrp
