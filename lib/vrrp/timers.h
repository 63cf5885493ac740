// SPDX-License-Identifier: BSD-3-Clause
// VRRP timer arithmetic (RFC 3768 §6.1, RFC 5798 §6.1), computed exactly as keepalived computes
// it (vrrp.h VRRP_TIMER_SKEW / VRRP_MS_DOWN_TIMER, keepalived.md §2.3), in integer microseconds
// with truncating division, so that our takeover times match a keepalived peer's to the µs.
//
//   v2: Skew_Time = (256 - Priority) * 1 s / 256 — independent of the advert interval, as in
//       RFC 3768 §6.1. 1 s, priority 100: 156 * 1000000 / 256 = 609375 µs exactly.
//   v3: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256, where keepalived keeps the
//       interval in µs and evaluates ((256 - p) * (interval / 10000) * 625) / 16 (625/16 ==
//       10000/256, reduced so the product fits 32 bits). The result is truncated to whole µs:
//       10 cs, priority 100: 156 * 10 * 625 / 16 = 60937.5 -> 60937 µs (not 6 cs, which a
//       centisecond-only computation would give; keepalived-netns.md §4 measured 61.6 ms).
//   Master_Down_Interval = down_timer_adverts (3) * Master_Adver_Interval + Skew_Time.
//
// Caller: any thread. constexpr, noexcept.
#pragma once

#include <cstdint>

#include "vrrp/clock.h"

namespace director::vrrp {

/** RFC 5798 §6.1 multiplier; keepalived's vrrp_down_timer_adverts default. */
inline constexpr uint32_t kDefaultDownTimerAdverts = 3;

/**
 * Skew_Time for an instance of the given version and (effective) priority.
 *
 * @param version           2 or 3
 * @param priority          own effective priority (255 for the owner)
 * @param master_adver_int  v3: the learned Master_Adver_Interval (a multiple of 10 ms);
 *                          ignored by v2
 */
constexpr Duration skew_time(uint8_t version, uint8_t priority,
                             Duration master_adver_int) noexcept {
    const int64_t weight = 256 - int64_t{priority};
    if (version == 3) {
        const int64_t cs = master_adver_int.count() / 10000;
        return Duration{weight * cs * 625 / 16};
    }
    return Duration{weight * 1000000 / 256};
}

/**
 * Master_Down_Interval = n * Master_Adver_Interval + Skew_Time (RFC 5798 §6.1).
 *
 * @param down_timer_adverts  keepalived's down_timer_adverts, 3 per the RFCs
 */
constexpr Duration master_down_interval(
    uint8_t version, uint8_t priority, Duration master_adver_int,
    uint32_t down_timer_adverts = kDefaultDownTimerAdverts) noexcept {
    return master_adver_int * down_timer_adverts + skew_time(version, priority, master_adver_int);
}

static_assert(skew_time(2, 100, Duration{1000000}) == Duration{609375});
static_assert(master_down_interval(2, 100, Duration{1000000}) == Duration{3609375});
static_assert(skew_time(3, 100, Duration{100000}) == Duration{60937});
static_assert(master_down_interval(3, 100, Duration{100000}) == Duration{360937});

}  // namespace director::vrrp
