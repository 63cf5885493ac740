// SPDX-License-Identifier: BSD-3-Clause
// The per-checker state machine on a fake timeline (keepalived.md §1.8).
#include "health/checker.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <vector>

namespace director::health {
namespace {

using namespace std::chrono_literals;

constexpr TimePoint kT0 = TimePoint{} + 1000s;

CheckTiming timing(uint32_t retry, bool alpha = false) {
    return CheckTiming{
        .delay_loop = 10s, .delay_before_retry = 2s, .retry = retry, .alpha = alpha, .warmup = 10s};
}

/** Runs results at the times the state machine asks for; records what happened. */
struct Timeline {
    struct Entry {
        TimePoint at;
        bool success;
        CheckerStep step;
    };
    std::vector<Entry> run(CheckerState& c, std::initializer_list<bool> results) {
        std::vector<Entry> out;
        for (bool ok : results) {
            const TimePoint at = c.next_due();
            out.push_back({at, ok, c.on_result(ok, at)});
        }
        return out;
    }
};

TEST(HealthChecker, NonAlphaStartsUpAndTheFirstFailureIsFatal) {
    CheckerState c(timing(3), kT0, 42);
    EXPECT_TRUE(c.up());
    EXPECT_FALSE(c.has_run());
    const TimePoint at = c.next_due();
    const CheckerStep s = c.on_result(false, at);
    EXPECT_EQ(s.transition, HealthTransition::Changed);
    EXPECT_FALSE(s.up);
    EXPECT_TRUE(s.first);
    EXPECT_EQ(s.report, CheckerReport::Failed);  // not "after 3 retries": it never retried
    EXPECT_EQ(s.next_due, at + 10s);
}

TEST(HealthChecker, NonAlphaFirstSuccessIsReportedButUnchanged) {
    CheckerState c(timing(1), kT0, 1);
    const CheckerStep s = c.on_result(true, kT0);
    EXPECT_EQ(s.transition, HealthTransition::Unchanged);
    EXPECT_TRUE(s.up);
    EXPECT_EQ(s.report, CheckerReport::Succeeded);  // "TCP connection to … success." once
    EXPECT_EQ(c.on_result(true, kT0 + 10s).report, CheckerReport::None);
}

TEST(HealthChecker, AlphaStartsDownUntilTheFirstSuccess) {
    CheckerState c(timing(3, true), kT0, 7);
    EXPECT_FALSE(c.up());
    auto t = Timeline{}.run(c, {false, false, true});
    EXPECT_EQ(t[0].step.transition, HealthTransition::Unchanged);
    EXPECT_EQ(t[0].step.report, CheckerReport::Failed);  // first result is reported
    EXPECT_TRUE(t[0].step.first);
    EXPECT_EQ(t[1].step.report, CheckerReport::None);  // already down: silent
    EXPECT_EQ(t[1].at, t[0].at + 10s);                 // DOWN: every delay_loop, no retries
    EXPECT_EQ(t[2].at, t[1].at + 10s);
    EXPECT_EQ(t[2].step.transition, HealthTransition::Changed);
    EXPECT_TRUE(t[2].step.up);
    EXPECT_EQ(t[2].step.report, CheckerReport::Succeeded);
}

TEST(HealthChecker, WhileUpFailuresRetryAfterDelayBeforeRetryThenGoDown) {
    CheckerState c(timing(2), kT0, 3);
    auto t = Timeline{}.run(c, {true, false, false, false, false});
    // success, then retry 1, retry 2 spaced by delay_before_retry; the third failure (after
    // two failed retries) is fatal.
    EXPECT_EQ(t[1].at, t[0].at + 10s);
    EXPECT_EQ(t[1].step.transition, HealthTransition::Unchanged);
    EXPECT_TRUE(t[1].step.up);
    EXPECT_EQ(t[2].at, t[1].at + 2s);
    EXPECT_EQ(t[2].step.transition, HealthTransition::Unchanged);
    EXPECT_EQ(t[3].at, t[2].at + 2s);
    EXPECT_EQ(t[3].step.transition, HealthTransition::Changed);
    EXPECT_FALSE(t[3].step.up);
    EXPECT_EQ(t[3].step.report, CheckerReport::FailedAfterRetries);
    EXPECT_EQ(t[4].at, t[3].at + 10s);  // DOWN: back to delay_loop
    EXPECT_EQ(t[4].step.report, CheckerReport::None);
}

TEST(HealthChecker, RetryCountIsExact) {
    for (uint32_t retry : {0u, 1u, 3u, 5u}) {
        CheckerState c(timing(retry), kT0, retry);
        c.on_result(true, kT0);
        uint32_t failures = 0;
        TimePoint now = kT0 + 10s;
        while (c.up()) {
            const CheckerStep s = c.on_result(false, now);
            ++failures;
            now = s.next_due;
            ASSERT_LE(failures, retry + 1);
        }
        EXPECT_EQ(failures, retry + 1) << "retry " << retry;
    }
}

TEST(HealthChecker, ASuccessDuringRetriesResetsTheCounter) {
    CheckerState c(timing(1), kT0, 9);
    auto t = Timeline{}.run(c, {true, false, true, false, false});
    EXPECT_EQ(c.retries(), 0u);
    EXPECT_TRUE(t[1].step.up);
    EXPECT_EQ(t[2].at, t[1].at + 2s);  // the retry
    EXPECT_TRUE(t[2].step.up);
    EXPECT_EQ(t[2].step.report, CheckerReport::None);  // was up all along
    EXPECT_TRUE(t[3].step.up);                         // counter was reset: a retry again
    EXPECT_FALSE(t[4].step.up);
}

TEST(HealthChecker, RecoveryNeedsOneSuccessWhileDown) {
    CheckerState c(timing(0), kT0, 11);
    auto t = Timeline{}.run(c, {false, false, false, true, false});
    EXPECT_FALSE(t[0].step.up);
    EXPECT_EQ(t[2].at - t[1].at, 10s);
    EXPECT_EQ(t[3].step.transition, HealthTransition::Changed);
    EXPECT_TRUE(t[3].step.up);
    // retry 0: the next failure is fatal again at once.
    EXPECT_EQ(t[4].step.transition, HealthTransition::Changed);
    EXPECT_EQ(t[4].step.report, CheckerReport::Failed);
}

TEST(HealthChecker, FirstProbeIsSpreadDeterministicallyOverTheInterval) {
    constexpr int kCheckers = 10000;
    constexpr int kBuckets = 10;
    std::array<int, kBuckets> hist{};
    std::set<int64_t> distinct;
    for (int i = 0; i < kCheckers; ++i) {
        CheckerState c(timing(1), kT0, static_cast<uint64_t>(i));
        const Duration off = c.next_due() - kT0;
        ASSERT_GE(off, 0s);
        ASSERT_LT(off, 10s);
        distinct.insert(off.count());
        hist[static_cast<size_t>(off * kBuckets / 10s)]++;
        // Same identity, same slot (reproducible across restarts).
        EXPECT_EQ(CheckerState(timing(1), kT0, static_cast<uint64_t>(i)).next_due(), c.next_due());
    }
    for (int n : hist) {
        EXPECT_NEAR(n, kCheckers / kBuckets, kCheckers / kBuckets / 5);  // within ±20 %
    }
    EXPECT_GT(distinct.size(), 9900u);
    EXPECT_EQ(spread_offset(123, 0s), 0s);
}

TEST(HealthChecker, ReloadKeepsStateAndClampsRetries) {
    CheckerState c(timing(3), kT0, 5);
    c.on_result(true, kT0);
    c.on_result(false, kT0 + 10s);
    c.on_result(false, kT0 + 12s);
    EXPECT_EQ(c.retries(), 2u);
    c.reconfigure(timing(1), kT0 + 13s);
    EXPECT_TRUE(c.up());
    EXPECT_EQ(c.retries(), 1u);  // already had enough retries: one more failure is decisive
    EXPECT_EQ(c.on_result(false, kT0 + 14s).transition, HealthTransition::Changed);

    CheckerState d(timing(1, true), kT0, 6);
    d.reconfigure(timing(1, false), kT0 + 1s);  // never ran: alpha switched off → UP
    EXPECT_TRUE(d.up());
    CheckerState e(timing(1), kT0, 6);
    e.reconfigure(CheckTiming{.delay_loop = 1s, .warmup = 1s}, kT0);
    EXPECT_LE(e.next_due(), kT0 + 1s);  // shorter interval pulls the next probe in
}

TEST(HealthChecker, AssumeUpOnlyBeforeTheFirstRun) {
    CheckerState c(timing(1, true), kT0, 1);
    c.assume_up();
    EXPECT_TRUE(c.up());
    CheckerState d(timing(1, true), kT0, 1);
    d.on_result(false, kT0);
    d.assume_up();
    EXPECT_FALSE(d.up());
}

}  // namespace
}  // namespace director::health
