// SPDX-License-Identifier: BSD-3-Clause
// Loads director.yaml into a validated Config. Parsing and validation report every error of
// a file in one run, each as `FILE:LINE:COL: message` naming the offending YAML node, in file
// order. A file with any error yields no Config at all: there are no silent defaults for
// invalid values, and a rejected reload leaves the running Config untouched.
//
// Caller: control lcore, or main() before EAL starts. Not thread-safe; no global state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"

namespace director::config {

/** One problem in a configuration file, positioned at the node it concerns (1-based). */
struct ConfigError {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;

    /** `FILE:LINE:COL: message` */
    std::string to_string() const;

    friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

using ConfigErrors = std::vector<ConfigError>;

/**
 * Parses and validates YAML text.
 *
 * @param text      the YAML document
 * @param filename  the name used in error messages
 * @return the Config, or every error found (never empty on failure)
 */
Result<Config, ConfigErrors> load_string(std::string_view text, const std::string& filename);

/**
 * Reads, parses and validates a file. An unreadable file is one error at line 0.
 */
Result<Config, ConfigErrors> load_file(const std::string& path);

/**
 * Non-fatal findings about a valid Config that the operator should see (e.g. a port without
 * an address, which VRRP needs at run time). `director -t` prints them and still exits 0.
 */
std::vector<std::string> warnings(const Config& config);

}  // namespace director::config
