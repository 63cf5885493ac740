// SPDX-License-Identifier: BSD-3-Clause
// Writes a Config as director.yaml text that load_string() reads back to an equal Config.
// Used by the keepalived.conf importer and by `directorctl` to show the effective config.
//
// Caller: any thread; pure function of its argument.
#pragma once

#include <string>

#include "config/config.h"

namespace director::config {

/**
 * Renders the whole Config, every field explicit, in CONFIG.md's key order.
 *
 * @param config  a Config that satisfies the loader's validation
 * @return YAML text; load_string(to_yaml(c)) == c
 */
std::string to_yaml(const Config& config);

}  // namespace director::config
