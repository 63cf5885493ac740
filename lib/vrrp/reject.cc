// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/reject.h"

#include <iterator>

namespace director::vrrp {
namespace {

// Tables indexed by the enum value, generated from the same X-macro list as the enum.
#define DIRECTOR_VRRP_NAME(name, counter, help) #name,
constexpr const char* kNames[] = {DIRECTOR_VRRP_REJECT_REASONS(DIRECTOR_VRRP_NAME)};
#undef DIRECTOR_VRRP_NAME

#define DIRECTOR_VRRP_COUNTER(name, counter, help) #counter,
constexpr const char* kCounters[] = {DIRECTOR_VRRP_REJECT_REASONS(DIRECTOR_VRRP_COUNTER)};
#undef DIRECTOR_VRRP_COUNTER

#define DIRECTOR_VRRP_HELP(name, counter, help) help,
constexpr const char* kHelp[] = {DIRECTOR_VRRP_REJECT_REASONS(DIRECTOR_VRRP_HELP)};
#undef DIRECTOR_VRRP_HELP

static_assert(std::size(kNames) == kRejectCount);
static_assert(std::size(kCounters) == kRejectCount);
static_assert(std::size(kHelp) == kRejectCount);

}  // namespace

const char* to_string(Reject r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < kRejectCount ? kNames[i] : "Invalid";
}

const char* counter_name(Reject r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < kRejectCount ? kCounters[i] : "invalid";
}

const char* help_text(Reject r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < kRejectCount ? kHelp[i] : "";
}

}  // namespace director::vrrp
