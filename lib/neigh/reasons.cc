// SPDX-License-Identifier: BSD-3-Clause
#include "neigh/reasons.h"

#include <iterator>

namespace director::neigh {
namespace {

// Tables indexed by the enum value, generated from the same X-macro lists as the enums.
#define DIRECTOR_NEIGH_NAME(name, counter, help) #name,
constexpr const char* kNames[] = {DIRECTOR_NEIGH_DECISIONS(DIRECTOR_NEIGH_NAME)
                                      DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_NAME)};
constexpr const char* kNdNames[] = {"None", DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_NAME)};
#undef DIRECTOR_NEIGH_NAME

#define DIRECTOR_NEIGH_COUNTER(name, counter, help) #counter,
constexpr const char* kCounters[] = {DIRECTOR_NEIGH_DECISIONS(DIRECTOR_NEIGH_COUNTER)
                                         DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_COUNTER)};
#undef DIRECTOR_NEIGH_COUNTER

#define DIRECTOR_NEIGH_HELP(name, counter, help) help,
constexpr const char* kHelp[] = {DIRECTOR_NEIGH_DECISIONS(DIRECTOR_NEIGH_HELP)
                                     DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_HELP)};
#undef DIRECTOR_NEIGH_HELP

static_assert(std::size(kNames) == kReasonCount);
static_assert(std::size(kCounters) == kReasonCount);
static_assert(std::size(kHelp) == kReasonCount);
static_assert(std::size(kNdNames) == kNdErrorCount + 1);

}  // namespace

const char* to_string(Reason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < kReasonCount ? kNames[i] : "Invalid";
}

const char* counter_name(Reason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < kReasonCount ? kCounters[i] : "invalid";
}

const char* help_text(Reason r) noexcept {
    const auto i = static_cast<std::size_t>(r);
    return i < kReasonCount ? kHelp[i] : "";
}

const char* to_string(NdError e) noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i <= kNdErrorCount ? kNdNames[i] : "Invalid";
}

}  // namespace director::neigh
