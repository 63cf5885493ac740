// SPDX-License-Identifier: BSD-3-Clause
#include "health/checker.h"

#include <algorithm>

namespace director::health {

Duration spread_offset(uint64_t key, Duration window) noexcept {
    if (window <= Duration::zero()) {
        return Duration::zero();
    }
    // splitmix64 finaliser: consecutive keys land far apart, so checkers configured in order
    // do not cluster.
    uint64_t z = key + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return Duration(static_cast<int64_t>(z % static_cast<uint64_t>(window.count())));
}

CheckerState::CheckerState(const CheckTiming& timing, TimePoint start, uint64_t key) noexcept
    : timing_(timing),
      next_due_(start + spread_offset(key, timing.warmup)),
      // keepalived check_data.c: "For non alpha mode, one failure is enough initially. For
      // alpha mode, log failure after one failure".
      retry_it_(timing.retry),
      up_(!timing.alpha) {}

CheckerStep CheckerState::on_result(bool success, TimePoint now) noexcept {
    CheckerStep s;
    s.first = !has_run_;
    if (success) {
        retry_it_ = 0;
        if (!up_ || !has_run_) {
            s.report = CheckerReport::Succeeded;
        }
        if (!up_) {
            up_ = true;
            s.transition = HealthTransition::Changed;
        }
        s.next_due = now + timing_.delay_loop;
    } else if ((up_ || !has_run_) && retry_it_ >= timing_.retry) {
        // Out of retries (or the decisive first failure): keepalived udp_epilog's first branch.
        retry_it_ = 0;
        s.report = (timing_.retry != 0 && has_run_) ? CheckerReport::FailedAfterRetries
                                                    : CheckerReport::Failed;
        if (up_) {
            up_ = false;
            s.transition = HealthTransition::Changed;
        }
        s.next_due = now + timing_.delay_loop;
    } else if (up_) {
        ++retry_it_;
        s.next_due = now + timing_.delay_before_retry;
    } else {
        // Already DOWN: no retries, just the regular interval.
        s.next_due = now + timing_.delay_loop;
    }
    has_run_ = true;
    s.up = up_;
    next_due_ = s.next_due;
    return s;
}

void CheckerState::reconfigure(const CheckTiming& timing, TimePoint now) noexcept {
    if (!has_run_) {
        // Never ran: behave like a fresh checker with the new parameters, same first slot.
        retry_it_ = timing.retry;
        up_ = !timing.alpha;
    } else if (up_) {
        retry_it_ = std::min(retry_it_, timing.retry);
    }
    timing_ = timing;
    next_due_ = std::min(next_due_, now + timing.delay_loop);
}

}  // namespace director::health
