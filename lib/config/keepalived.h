// SPDX-License-Identifier: BSD-3-Clause
// keepalived.conf importer: reads keepalived's own syntax (comments `!`/`#` also trailing,
// quoted strings, nested blocks, `include` with globs relative to the including file,
// line continuation) and maps the VRRP and LVS parts onto a Config, applying keepalived's
// defaults where a keyword is absent. What has no counterpart is reported, never dropped
// silently.
//
// Caller: directorctl (any single thread). Reads files; no other side effects.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace director::config {

/** Something the importer could not express, at `FILE:LINE`. */
struct ImportIssue {
    std::string file;
    int line = 0;
    std::string message;  ///< e.g. "unsupported keyword 'lb_kind NAT'"

    /** `FILE:LINE: message` */
    std::string to_string() const;
};

struct ImportResult {
    Config config;
    /// Unsupported keywords and values: each makes `directorctl import-keepalived` exit 2.
    std::vector<ImportIssue> unsupported;
    /// Things the user must complete or know (port devices to fill in, defaults applied).
    std::vector<std::string> notes;
    /// Fatal problems (unreadable file, unbalanced braces): no usable Config.
    std::vector<ImportIssue> errors;
};

/**
 * Imports a keepalived.conf file (and everything it includes).
 *
 * @param path  the top-level keepalived.conf
 * @return the mapped Config plus everything that could not be mapped
 */
ImportResult import_keepalived_file(const std::string& path);

}  // namespace director::config
