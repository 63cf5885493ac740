// SPDX-License-Identifier: BSD-3-Clause
// The state of one health checker, as keepalived keeps it (keepalived.md §1.8, check_udp.c
// udp_epilog, check_api.c): UP or DOWN, the retry counter, and when the next probe is due.
//
// Why a separate pure class: the retry rules are where keepalived users get surprised (the
// first failure of a non-alpha checker is fatal, retries only happen while UP, DOWN checks
// run every delay_loop). Keeping them in a class that never reads a clock or touches a socket
// lets the tests walk every timeline with a fake clock (STYLE C5), and lets the engine stay a
// thin shell around probes.
//
// The rules, for a checker with `retry` R, `delay_loop` L and `delay_before_retry` D:
//   - start: alpha → DOWN, otherwise UP; the retry counter starts at R, so the very first
//     failure is decisive in both modes (keepalived: "for non alpha mode, one failure is
//     enough initially");
//   - success: counter reset; DOWN → UP (Changed); next probe after L;
//   - failure while UP with counter < R: counter + 1, next probe after D (a retry);
//   - failure while UP with counter ≥ R (R failed retries): UP → DOWN (Changed), next after L;
//   - failure while DOWN: stays DOWN, next probe after L.
// Delays count from the end of a probe (keepalived re-arms its timer in the epilog).
//
// The first probe of a checker runs at a deterministic pseudo-random offset within its warmup
// window (keepalived's `warmup`, default delay_loop), so that 10,000 checkers configured at
// once are spread over the interval instead of fired together.
//
// Caller: control lcore. Value types; no allocation, no system calls.
#pragma once

#include <chrono>
#include <cstdint>

#include "vrrp/clock.h"

namespace director::health {

/** Every health-check interval, microseconds (keepalived's timer resolution). */
using Duration = std::chrono::microseconds;
/** A monotonic instant; the same clock as the VRRP module (vrrp/clock.h). */
using TimePoint = vrrp::TimePoint;

/** Whether a step changed the checker's UP/DOWN state (Envoy's health_checker.h idiom). */
enum class HealthTransition : uint8_t { Unchanged, Changed };

/** Which of keepalived's checker log lines a step calls for (the engine formats it). */
enum class CheckerReport : uint8_t {
    None,                ///< nothing to log
    Succeeded,           ///< "TCP connection to X success." (first success, or DOWN → UP)
    Failed,              ///< "TCP_CHECK on service X failed." (no retries configured / first run)
    FailedAfterRetries,  ///< "TCP_CHECK on service X failed after N retries."
};

/** The timing parameters of one checker, already inherited VS → RS → checker. */
struct CheckTiming {
    Duration delay_loop = std::chrono::seconds(60);
    Duration delay_before_retry = std::chrono::seconds(1);
    uint32_t retry = 1;
    bool alpha = false;
    Duration warmup = std::chrono::seconds(60);  ///< first probe within [0, warmup)

    friend bool operator==(const CheckTiming&, const CheckTiming&) = default;
};

/** What one probe result did to a checker. */
struct CheckerStep {
    HealthTransition transition = HealthTransition::Unchanged;
    bool up = false;     ///< the state after the step
    bool first = false;  ///< this was the checker's first result (keepalived !has_run)
    CheckerReport report = CheckerReport::None;
    TimePoint next_due{};  ///< when the next probe should start
};

/**
 * A deterministic offset in [0, window) derived from key (splitmix64), for spreading first
 * probes. window <= 0 gives 0.
 */
Duration spread_offset(uint64_t key, Duration window) noexcept;

/** One checker's UP/DOWN state machine. */
class CheckerState {
public:
    /**
     * A checker that has not run yet.
     *
     * @param timing  inherited timing parameters
     * @param start   when the checker was created (engine start or the reload that added it)
     * @param key     identity hash of the checker; picks its first-probe offset in
     *                [0, timing.warmup)
     */
    CheckerState(const CheckTiming& timing, TimePoint start, uint64_t key) noexcept;

    /**
     * Applies the result of one probe.
     *
     * Caller: control lcore. noexcept, no allocation.
     *
     * @param success  the probe succeeded
     * @param now      when the probe ended; the next due time counts from here
     * @return the transition, the new state, the log line to write and the next due time
     */
    CheckerStep on_result(bool success, TimePoint now) noexcept;

    /**
     * Takes new timing parameters on a configuration reload, keeping UP/DOWN and has-run as
     * keepalived's migrate_checkers does: a retry counter already at or beyond the new
     * `retry` is clamped so that one more failure is decisive. The next due time is brought
     * forward if the new delay_loop is shorter.
     *
     * @param now  the reload time
     */
    void reconfigure(const CheckTiming& timing, TimePoint now) noexcept;

    /**
     * A checker added by a reload to a real server that is alive with no failed checker
     * starts UP even under alpha (keepalived migrate_checkers): it must not take the server
     * down before it has run. No effect once the checker has run.
     */
    void assume_up() noexcept {
        if (!has_run_) {
            up_ = true;
        }
    }

    /** Reschedules the next probe (e.g. restart a probe cancelled by a reload). */
    void set_next_due(TimePoint t) noexcept { next_due_ = t; }

    bool up() const noexcept { return up_; }
    bool has_run() const noexcept { return has_run_; }
    /** Failed retries so far in the current UP episode (keepalived retry_it). */
    uint32_t retries() const noexcept { return retry_it_; }
    TimePoint next_due() const noexcept { return next_due_; }
    const CheckTiming& timing() const noexcept { return timing_; }

private:
    CheckTiming timing_;
    TimePoint next_due_;
    uint32_t retry_it_;
    bool up_;
    bool has_run_ = false;
};

}  // namespace director::health
