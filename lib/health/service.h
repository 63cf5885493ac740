// SPDX-License-Identifier: BSD-3-Clause
// What checker verdicts mean for one virtual server, as keepalived's ipwrapper.c decides it:
// which real servers are in the pool and with which weight, whether the virtual server has
// quorum, whether the sorry server replaces the pool, which lines to log and which notify
// scripts to run. Pure: it is told checker steps and dynamic weights, and returns Effects.
//
// The rules (keepalived.md §1.6-1.7, §3.6):
//   - a real server is alive only if ALL its checkers are up (num_failed_checkers == 0);
//   - a real server that dies is removed from the pool ("Removing service … from VS …"), or
//     with inhibit_on_failure kept with weight 0 ("Disabling service … of VS …") so that
//     existing connections and persistence survive; coming back is "Adding" / "Enabling";
//   - MISC_CHECK misc_dynamic sets the effective weight ("Changing weight from a to b …");
//   - quorum: the sum of live effective weights. Gained when the sum reaches
//     quorum + hysteresis (from down), lost when it drops below quorum − hysteresis or to 0
//     (from up). Each change runs quorum_up / quorum_down;
//   - sorry server: on quorum loss every live real server leaves the pool and the sorry
//     server is added; on quorum gain the sorry server goes and the live servers come back.
//     Without a sorry server, quorum only drives the scripts and log lines;
//   - notify_up / notify_down run when a real server's alive state changes (and once for an
//     alpha checker whose first probe fails, as keepalived does).
//
// Caller: control lcore. Allocates (log lines); never on a worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/checker.h"

namespace director::health {

/** A process to start: a notify_up / notify_down / quorum_up / quorum_down script. */
struct ScriptCall {
    std::string keyword;            ///< "notify_up", "notify_down", "quorum_up", "quorum_down"
    std::vector<std::string> argv;  ///< as configured, already split
    std::string subject;            ///< "[10.0.0.1]:tcp:80" (real) or the VS, for logs

    friend bool operator==(const ScriptCall&, const ScriptCall&) = default;
};

/** What a step asks of the shell around ServiceHealth. */
struct Effects {
    std::vector<std::string> log;     ///< keepalived-format lines, in keepalived's order
    std::vector<ScriptCall> scripts;  ///< to start, in order
    bool changed = false;             ///< decision() differs from before the step
};

/** One real server as ServiceHealth needs it. */
struct RealSpec {
    std::string display;  ///< keepalived FMT_RS: "[10.0.0.1]:tcp:80"
    uint32_t weight = config::kDefaultWeight;
    bool inhibit = false;
    std::vector<std::string> notify_up;  ///< argv; empty = none
    std::vector<std::string> notify_down;
    std::size_t checkers = 0;

    friend bool operator==(const RealSpec&, const RealSpec&) = default;
};

/** One virtual server as ServiceHealth needs it (see resolve_service in spec.h). */
struct ServiceSpec {
    std::string display;  ///< keepalived FMT_VS: "[10.0.0.100]:tcp:80"
    uint32_t quorum = config::kDefaultQuorum;
    uint32_t hysteresis = 0;
    std::vector<std::string> quorum_up;  ///< argv; empty = none
    std::vector<std::string> quorum_down;
    std::optional<config::SorryServer> sorry_server;
    std::string sorry_display;
    std::vector<RealSpec> reals;

    friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

/** What the snapshot needs to know about one real server. */
struct RealDecision {
    bool alive = true;    ///< every checker is up (keepalived ISALIVE)
    bool present = true;  ///< in the pool (snapshot state Up); false = removed (state Down)
    uint32_t weight = 0;  ///< weight to publish when present; 0 = inhibited / draining

    friend bool operator==(const RealDecision&, const RealDecision&) = default;
};

/** The whole virtual server's decision, in configuration order of its real servers. */
struct ServiceDecision {
    std::vector<RealDecision> reals;
    bool quorum_up = true;
    bool sorry_active = false;  ///< the sorry server is in the pool instead of the reals
    std::optional<config::SorryServer> sorry_server;  ///< configured sorry server, if any
    uint64_t live_weight = 0;  ///< sum of the effective weights of alive real servers

    friend bool operator==(const ServiceDecision&, const ServiceDecision&) = default;
};

/** The health view of one virtual server. */
class ServiceHealth {
public:
    /** State carried over a configuration reload (keepalived clear_diff_services). */
    struct Restore {
        bool quorum_up = true;
        bool sorry_active = false;
        /// per real server: the effective weight to keep (misc_dynamic), nullopt = configured
        std::vector<std::optional<uint32_t>> weights;
    };

    /**
     * @param spec        the virtual server
     * @param checker_up  initial state of every checker, [real][checker]; a real server
     *                    with no checkers is always alive
     * @param restore     state of the same virtual server before a reload, or null
     */
    ServiceHealth(ServiceSpec spec, const std::vector<std::vector<bool>>& checker_up,
                  const Restore* restore = nullptr);

    /**
     * The start-up evaluation (keepalived init_service_vs → update_quorum_state(init)):
     * "Starting with quorum down" and the sorry server when the initial pool lacks quorum.
     * Call once after construction.
     */
    Effects start();

    /**
     * Applies a checker's step.
     * @param rs       real server index
     * @param checker  checker index within the real server
     */
    Effects on_checker(std::size_t rs, std::size_t checker, const CheckerStep& step);

    /** Sets a real server's effective weight (MISC_CHECK misc_dynamic: exit status − 2). */
    Effects set_weight(std::size_t rs, uint32_t weight);

    const ServiceDecision& decision() const noexcept { return decision_; }
    const ServiceSpec& spec() const noexcept { return spec_; }
    uint32_t effective_weight(std::size_t rs) const { return reals_[rs].weight; }
    bool checker_up(std::size_t rs, std::size_t checker) const {
        return reals_[rs].checker_up[checker];
    }
    /** State to hand to the next instance on a reload. */
    Restore restore_state() const;

private:
    struct Real {
        std::vector<bool> checker_up;
        std::size_t failed = 0;
        bool alive = true;
        uint32_t weight = 0;  ///< effective weight
    };

    uint64_t live_weight() const noexcept;
    void perform_real_state(std::size_t rs, bool alive, Effects& fx);
    void update_quorum(bool init, Effects& fx);
    void notify_real(std::size_t rs, Effects& fx) const;
    void finish(Effects& fx);
    ServiceDecision compute() const;

    ServiceSpec spec_;
    std::vector<Real> reals_;
    bool quorum_up_ = true;
    bool sorry_active_ = false;
    ServiceDecision decision_;
};

}  // namespace director::health
