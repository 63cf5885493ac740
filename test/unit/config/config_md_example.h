// SPDX-License-Identifier: BSD-3-Clause
// The contract's own example (shared/CONFIG.md, verbatim), shared by the loader and emitter
// tests: test/fixtures/config/config_md_example.yaml.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace director::config {

inline const std::string& config_md_example() {
    static const std::string text = [] {
        std::ifstream in(DIRECTOR_SOURCE_ROOT "/test/fixtures/config/config_md_example.yaml");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }();
    return text;
}

}  // namespace director::config
