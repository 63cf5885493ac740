// SPDX-License-Identifier: BSD-3-Clause
#include "net/verdict.h"

#include <iterator>

namespace director::net {
namespace {

// Tables indexed by the enum value, generated from the same X-macro lists as the enum.
#define DIRECTOR_NET_NAME(name, counter, help) #name,
constexpr const char* kNames[] = {DIRECTOR_NET_CLASSES(DIRECTOR_NET_NAME)
                                      DIRECTOR_NET_DROP_REASONS(DIRECTOR_NET_NAME)};
#undef DIRECTOR_NET_NAME

#define DIRECTOR_NET_COUNTER(name, counter, help) #counter,
constexpr const char* kCounters[] = {DIRECTOR_NET_CLASSES(DIRECTOR_NET_COUNTER)
                                         DIRECTOR_NET_DROP_REASONS(DIRECTOR_NET_COUNTER)};
#undef DIRECTOR_NET_COUNTER

#define DIRECTOR_NET_HELP(name, counter, help) help,
constexpr const char* kHelp[] = {DIRECTOR_NET_CLASSES(DIRECTOR_NET_HELP)
                                     DIRECTOR_NET_DROP_REASONS(DIRECTOR_NET_HELP)};
#undef DIRECTOR_NET_HELP

static_assert(std::size(kNames) == kVerdictCount);
static_assert(std::size(kCounters) == kVerdictCount);
static_assert(std::size(kHelp) == kVerdictCount);

}  // namespace

const char* to_string(Verdict v) noexcept {
    const auto i = static_cast<std::size_t>(v);
    return i < kVerdictCount ? kNames[i] : "Invalid";
}

const char* counter_name(Verdict v) noexcept {
    const auto i = static_cast<std::size_t>(v);
    return i < kVerdictCount ? kCounters[i] : "invalid";
}

const char* help_text(Verdict v) noexcept {
    const auto i = static_cast<std::size_t>(v);
    return i < kVerdictCount ? kHelp[i] : "";
}

}  // namespace director::net
