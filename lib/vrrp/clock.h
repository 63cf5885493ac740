// SPDX-License-Identifier: BSD-3-Clause
// Time for the VRRP module: one microsecond-resolution monotonic time point, the unit
// keepalived keeps its VRRP timers in (TIMER_HZ = 1000000), so that every interval this module
// computes is bit-for-bit what keepalived computes.
//
// The state machine never reads a clock: every entry point takes `now` as an argument and
// returns deadlines as data (STYLE C5). Shells that do need "now" (the control loop, the
// script runner's owner) read it through the small Clock interface so that tests can inject a
// FakeClock.
//
// Caller: control lcore (or any thread for the value types). No allocation.
#pragma once

#include <chrono>
#include <cstdint>

namespace director::vrrp {

/** Every VRRP interval, in microseconds (keepalived's timer resolution). */
using Duration = std::chrono::microseconds;

/** A monotonic instant, in microseconds since an arbitrary epoch (steady_clock's). */
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

/** Source of "now" for the shells around the pure cores. */
class Clock {
public:
    virtual ~Clock() = default;
    /** The current monotonic time. Caller: control lcore. */
    virtual TimePoint now() const noexcept = 0;
};

/** The production clock: std::chrono::steady_clock truncated to microseconds. */
class SteadyClock final : public Clock {
public:
    TimePoint now() const noexcept override {
        return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
    }
};

/** A clock that only moves when told to; for tests and replay. */
class FakeClock final : public Clock {
public:
    explicit FakeClock(TimePoint start = TimePoint{}) noexcept : now_(start) {}
    TimePoint now() const noexcept override { return now_; }
    /** Moves time forward (or anywhere) to t. */
    void set(TimePoint t) noexcept { now_ = t; }
    /** Moves time forward by d. */
    void advance(Duration d) noexcept { now_ += d; }

private:
    TimePoint now_;
};

}  // namespace director::vrrp
