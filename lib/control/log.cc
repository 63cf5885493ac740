// SPDX-License-Identifier: BSD-3-Clause
#include "control/log.h"

namespace director::ctl {

namespace {
int g_log_type = RTE_LOGTYPE_USER1;
}

void log_init(config::LogLevel level) {
    uint32_t lvl = RTE_LOG_INFO;
    switch (level) {
        case config::LogLevel::Error: lvl = RTE_LOG_ERR; break;
        case config::LogLevel::Warn: lvl = RTE_LOG_WARNING; break;
        case config::LogLevel::Info: lvl = RTE_LOG_INFO; break;
        case config::LogLevel::Debug: lvl = RTE_LOG_DEBUG; break;
    }
    const int type = rte_log_register_type_and_pick_level("director.ctl", lvl);
    if (type >= 0) {
        g_log_type = type;
        rte_log_set_level(type, lvl);
    }
}

int log_type() noexcept { return g_log_type; }

}  // namespace director::ctl
