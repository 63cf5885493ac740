// SPDX-License-Identifier: BSD-3-Clause
// The engine with real probes on loopback: a real server going down and up again through
// TCP_CHECK with keepalived's log lines, MISC_CHECK weights through the runner, and a scale
// check of 2,000 TCP checkers (rounds without fd leaks; not a timing test).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>

#include "servers.h"

namespace director::health {
namespace {

using namespace std::chrono_literals;
using namespace testing_support;

net::IpAddress ip(const std::string& s) { return *net::IpAddress::parse(s); }

config::Config single(config::Check c, uint16_t port, Duration delay_loop = 200ms) {
    config::Config cfg;
    config::VirtualServer vs;
    vs.address = ip("10.0.0.100");
    vs.port = 80;
    vs.delay_loop = delay_loop;
    config::RealServer rs;
    rs.address = ip("127.0.0.1");
    rs.port = port;
    rs.checks.push_back(c);
    vs.real_servers.push_back(rs);
    cfg.virtual_servers.push_back(vs);
    return cfg;
}

bool contains(const std::vector<std::string>& log, const std::string& line) {
    return std::find(log.begin(), log.end(), line) != log.end();
}

TEST(HealthEngineIo, TcpCheckTakesARealServerOutAndBackIn) {
    auto listener = std::make_unique<TcpListener>();
    const uint16_t port = listener->port();
    config::Check c;
    c.connect_timeout = 1s;
    c.retry = 0;
    const vrrp::SteadyClock clock;
    auto created = Engine::create(single(c, port), clock.now());
    ASSERT_TRUE(created) << created.error().message;
    Engine& e = **created;
    const std::string who = "[127.0.0.1]:tcp:" + std::to_string(port);
    std::vector<std::string> log;
    const auto collect = [&] {
        for (auto& l : e.take_log()) {
            log.push_back(std::move(l));
        }
    };
    ASSERT_TRUE(drive(
        e, [&] { return contains(log, "TCP connection to " + who + " success."); }, 5s, collect));
    EXPECT_TRUE(e.real(0, 0).present);

    listener.reset();  // the port is closed now: connections are refused
    e.take_changed();
    ASSERT_TRUE(drive(
        e, [&] { return !e.real(0, 0).present; }, 5s, collect));
    EXPECT_TRUE(e.take_changed());
    EXPECT_TRUE(contains(log, "TCP_CHECK on service " + who + " failed."));
    EXPECT_TRUE(contains(log, "Removing service " + who + " from VS [10.0.0.100]:tcp:80"));
    ASSERT_TRUE(e.last_result(0, 0, 0));
    EXPECT_EQ(e.last_result(0, 0, 0)->reason, "connect: Connection refused");

    listener = std::make_unique<TcpListener>(4096, port);  // the service comes back
    ASSERT_TRUE(drive(
        e, [&] { return e.real(0, 0).present; }, 5s, collect));
    EXPECT_TRUE(contains(log, "Adding service " + who + " to VS [10.0.0.100]:tcp:80"));
    EXPECT_EQ(std::count(log.begin(), log.end(), "TCP connection to " + who + " success."), 2);
}

TEST(HealthEngineIo, SslGetThroughTheEngine) {
    HttpServer srv(true);
    srv.answer("/", {200, "ok"});
    config::Check c;
    c.type = config::CheckType::SslGet;
    c.url.emplace_back();
    c.connect_timeout = 2s;
    const vrrp::SteadyClock clock;
    auto created = Engine::create(single(c, srv.port()), clock.now());
    ASSERT_TRUE(created) << created.error().message;
    Engine& e = **created;
    const std::string line =
        "Remote Web server [127.0.0.1]:tcp:" + std::to_string(srv.port()) + " succeed on service.";
    std::vector<std::string> log;
    ASSERT_TRUE(drive(
        e, [&] { return contains(log, line); }, 5s,
        [&] {
            for (auto& l : e.take_log()) {
                log.push_back(std::move(l));
            }
        }));
    EXPECT_EQ(e.stats().probes_failed, 0u);
}

TEST(HealthEngineIo, MiscCheckWeightsThroughTheScriptRunner) {
    config::Check c;
    c.type = config::CheckType::Misc;
    c.misc_path = "sh -c 'exit 5'";
    c.misc_dynamic = true;
    c.retry = 0;
    const vrrp::SteadyClock clock;
    auto created = Engine::create(single(c, 80), clock.now());
    ASSERT_TRUE(created) << created.error().message;
    Engine& e = **created;
    ASSERT_TRUE(drive(
        e, [&] { return e.real(0, 0).weight == 3; }, 5s));
    const auto log = e.take_log();
    EXPECT_TRUE(contains(log,
                         "Changing weight from 1 to 3 for active service "
                         "[127.0.0.1]:tcp:80 of VS [10.0.0.100]:tcp:80"));
    EXPECT_TRUE(contains(log, "Misc check to [127.0.0.1] for [sh] succeeded."));
}

TEST(HealthEngineIo, TwoThousandTcpCheckersRunRoundsWithoutLeakingFds) {
    constexpr int kReals = 2000;
    TcpListener listener;
    config::Config cfg;
    config::VirtualServer vs;
    vs.address = ip("10.0.0.100");
    vs.port = 80;
    vs.delay_loop = 1s;
    config::Check c;
    c.connect_ip = ip("127.0.0.1");  // every real server is checked through one listener
    c.connect_port = listener.port();
    c.connect_timeout = 3s;
    for (int i = 0; i < kReals; ++i) {
        config::RealServer rs;
        rs.address = ip("10.8." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1));
        rs.port = 80;
        rs.checks.push_back(c);
        vs.real_servers.push_back(rs);
    }
    cfg.virtual_servers.push_back(vs);

    const int fds_before = open_fds();
    const vrrp::SteadyClock clock;
    {
        auto created = Engine::create(cfg, clock.now());
        ASSERT_TRUE(created) << created.error().message;
        Engine& e = **created;
        int accepted = 0;
        int max_in_flight = 0;
        // Three rounds: every checker probes at least three times.
        const bool ok = drive(
            e, [&] { return e.stats().probes_started >= 3u * kReals + kReals / 2; }, 15s,
            [&] {
                accepted += listener.accept_all();
                max_in_flight = std::max(max_in_flight, static_cast<int>(e.stats().in_flight));
            },
            {listener.fd()});
        ASSERT_TRUE(ok) << "probes started: " << e.stats().probes_started;
        const EngineStats s = e.stats();
        EXPECT_EQ(s.probes_failed, 0u);
        EXPECT_GE(s.probes_succeeded, 3u * kReals);
        for (int i = 0; i < kReals; ++i) {
            ASSERT_TRUE(e.real(0, static_cast<size_t>(i)).present) << i;
            ASSERT_TRUE(e.checker(0, static_cast<size_t>(i), 0).has_run()) << i;
        }
        // Spread: only a fraction of the checkers is ever in flight at once.
        EXPECT_LT(max_in_flight, kReals / 4);
        // While running: the epoll fd plus the probes in flight, nothing else.
        EXPECT_LE(open_fds(), fds_before + 1 + static_cast<int>(e.stats().in_flight));
        EXPECT_GT(accepted, 0);
    }
    listener.accept_all();
    EXPECT_EQ(open_fds(), fds_before);
}

}  // namespace
}  // namespace director::health
