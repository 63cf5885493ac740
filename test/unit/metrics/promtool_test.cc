// SPDX-License-Identifier: BSD-3-Clause
// Prometheus' own checker accepts what TextWriter writes: `promtool check metrics` parses the
// body with the real text parser and lints it (HELP present, counter suffix, name style).
// Skipped when promtool is absent (scripts/install-deps.sh all installs the prometheus package).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "metrics/exposition.h"

namespace director::metrics {
namespace {

std::string find_in_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
    std::size_t pos = 0;
    while (pos <= dirs.size()) {
        const std::size_t end = std::min(dirs.find(':', pos), dirs.size());
        const std::string candidate = dirs.substr(pos, end - pos) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        pos = end + 1;
    }
    return "";
}

struct CheckResult {
    int exit_code = -1;
    std::string output;
};

/** Runs `promtool check metrics < body` and returns its exit code and combined output. */
CheckResult promtool_check(const std::string& promtool, const std::string& body) {
    std::string file = testing::TempDir() + "metrics_promtool_XXXXXX";
    const int fd = ::mkstemp(file.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    std::ofstream(file, std::ios::binary) << body;
    CheckResult r;
    const std::string cmd = "'" + promtool + "' check metrics < '" + file + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        ADD_FAILURE() << "popen " << cmd;
        return r;
    }
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) {
        r.output += buf;
    }
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ::unlink(file.c_str());
    return r;
}

TEST(Promtool, AcceptsTheWritersOutput) {
    const std::string promtool = find_in_path("promtool");
    if (promtool.empty()) {
        GTEST_SKIP() << "promtool not installed (apt-get install prometheus)";
    }
    TextWriter w;
    w.family("director_rx_packets", "Packets received on worker RX queues", MetricType::Counter);
    w.sample({{"lcore", "1"}}, 123);
    w.sample({{"lcore", "2"}}, std::numeric_limits<uint64_t>::max());
    w.family("director_drop_not_vip_total", "Dropped: destination is not a configured VIP",
             MetricType::Counter);
    w.sample({{"lcore", "1"}}, 0);
    w.family("director_real_up", "1 when the real server passes its checks\nand is in service",
             MetricType::Gauge);
    w.sample({{"vip", "10.0.0.1:80"}, {"real", "192.168.1.10:80"}}, 1);
    w.sample({{"vip", "[2001:db8::1]:443"}, {"real", "[2001:db8::10]:443"}}, 0);
    w.family("director_odd_label_values", "Label values with \\ \" and a\nnewline",
             MetricType::Gauge);
    w.sample({{"path", "C:\\dir\\\"quoted\"\nnext line"}}, 0.25);
    w.sample({{"path", ""}}, std::numeric_limits<double>::quiet_NaN());
    w.sample({{"path", "inf"}}, std::numeric_limits<double>::infinity());
    w.sample({{"path", "-inf"}}, -std::numeric_limits<double>::infinity());
    w.family("director_info", "Build information", MetricType::Untyped);
    w.sample({{"version", "0.1.0"}}, 1);
    w.family("director_rx_packets", "Packets received on worker RX queues", MetricType::Counter);
    w.sample({{"lcore", "10"}}, 7);  // reopened: still one HELP/TYPE
    ASSERT_TRUE(w.errors().empty()) << w.errors().front();
    const std::string body = w.take();

    const CheckResult r = promtool_check(promtool, body);
    EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- body ---\n" << body;
    EXPECT_EQ(r.output, "") << body;
}

TEST(Promtool, RejectsABrokenBodySoTheCheckMeansSomething) {
    const std::string promtool = find_in_path("promtool");
    if (promtool.empty()) {
        GTEST_SKIP() << "promtool not installed (apt-get install prometheus)";
    }
    // The same family's TYPE twice: what TextWriter exists to prevent.
    const CheckResult r = promtool_check(promtool,
                                         "# TYPE a gauge\na{x=\"1\"} 1\n"
                                         "# TYPE a gauge\na{x=\"2\"} 2\n");
    EXPECT_NE(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace director::metrics
