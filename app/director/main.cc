// SPDX-License-Identifier: BSD-3-Clause
// director: the daemon. `director -f FILE` starts EAL, the ports and the workers from the
// configuration and runs until SIGTERM/SIGINT (exit 0); SIGHUP reloads the file.
// `director -f FILE -t` validates a configuration and exits 0 (valid) or 1 (errors printed as
// FILE:LINE:COL: message).
#include <getopt.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "config/load.h"
#include "control/eal_args.h"
#include "control/runtime.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/director/director.yaml";

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: director [-f FILE] [-t]\n"
                 "  -f, --config FILE   configuration (default %s)\n"
                 "  -t, --config-test   validate the configuration and exit: 0 valid, 1 invalid\n"
                 "  -h, --help          this text\n",
                 kDefaultConfig);
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = kDefaultConfig;
    bool test_only = false;
    static const option kLong[] = {{"config", required_argument, nullptr, 'f'},
                                   {"config-test", no_argument, nullptr, 't'},
                                   {"help", no_argument, nullptr, 'h'},
                                   {nullptr, 0, nullptr, 0}};
    for (int c; (c = getopt_long(argc, argv, "f:th", kLong, nullptr)) != -1;) {
        switch (c) {
            case 'f':
                config_path = optarg;
                break;
            case 't':
                test_only = true;
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 2;
        }
    }

    auto loaded = director::config::load_file(config_path);
    if (!loaded) {
        for (const auto& e : loaded.error()) {
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        }
        std::fprintf(stderr, "director: %s: %zu error(s), configuration rejected\n",
                     config_path.c_str(), loaded.error().size());
        return 1;
    }
    for (const auto& w : director::config::warnings(*loaded)) {
        std::fprintf(stderr, "%s: warning: %s\n", config_path.c_str(), w.c_str());
    }
    if (test_only) {
        std::printf("director: %s: configuration valid\n", config_path.c_str());
        return 0;
    }

    // Everything EAL needs comes from the configuration (dpdk and ports sections).
    std::vector<std::string> args = director::ctl::eal_args(*loaded, argv[0]);
    director::ctl::block_control_signals();
    std::vector<char*> eal_argv;
    for (auto& a : args) {
        eal_argv.push_back(a.data());
    }
    eal_argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(args.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "director: rte_eal_init failed: %s (EAL arguments:",
                     rte_strerror(rte_errno));
        for (const auto& a : args) {
            std::fprintf(stderr, " %s", a.c_str());
        }
        std::fprintf(stderr, ")\n");
        return 1;
    }
    int status = 1;
    {
        auto runtime = director::ctl::Runtime::create(std::move(*loaded), config_path);
        if (!runtime) {
            std::fprintf(stderr, "director: %s\n", runtime.error().message.c_str());
        } else {
            status = (*runtime)->run();
        }
    }
    rte_eal_cleanup();
    return status;
}
