// SPDX-License-Identifier: BSD-3-Clause
// Control-plane logging through DPDK's rte_log with director's own log type
// (`director.ctl`), so that EAL's --log-level and the configured global.log_level both apply.
// Never used on the worker hot path: workers count, they do not log (STYLE H1).
//
// Caller: any thread after rte_eal_init (before it, messages go to stderr unfiltered).
#pragma once

#include <rte_log.h>

#include "config/config.h"

namespace director::ctl {

/** Registers the log type (idempotent) and sets its level from the configuration. */
void log_init(config::LogLevel level);

/** The registered rte_log type id, or RTE_LOGTYPE_USER1 before log_init. */
int log_type() noexcept;

}  // namespace director::ctl

#define DIRECTOR_LOG(level, fmt, ...) \
    rte_log(RTE_LOG_##level, ::director::ctl::log_type(), "director: " fmt "\n", ##__VA_ARGS__)
