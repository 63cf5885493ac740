// SPDX-License-Identifier: BSD-3-Clause
// The engine's scheduling and bookkeeping with fake probes on a fake clock: spreading of first
// probes, keepalived timelines end to end, the "changed" flag, MISC dynamic weights, reloads
// that keep the state of unchanged checkers, and the bound on probes started per poll.
#include "health/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>

namespace director::health {
namespace {

using namespace std::chrono_literals;

constexpr TimePoint kT0 = TimePoint{} + 5000s;

net::IpAddress ip(const std::string& s) { return *net::IpAddress::parse(s); }

/** What a fake probe of one checker does, in order; then `fallback` forever. */
struct Outcome {
    bool ok = true;
    Duration takes{0};  ///< 0 = result at start
    std::optional<uint32_t> weight{};
};

struct FakeWorld {
    std::map<std::string, std::deque<Outcome>> script;  // by CheckSpec::display
    Outcome fallback;
    std::vector<std::pair<std::string, TimePoint>> starts;
    int live = 0;

    Outcome next(const std::string& who) {
        auto& q = script[who];
        if (q.empty()) {
            return fallback;
        }
        Outcome o = q.front();
        q.pop_front();
        return o;
    }
};

class FakeProbe final : public Probe {
public:
    FakeProbe(FakeWorld& w, const CheckSpec& s) : w_(w), spec_(s) { ++w_.live; }
    ~FakeProbe() override { --w_.live; }
    std::optional<ProbeResult> start(TimePoint now) override {
        w_.starts.emplace_back(spec_.display, now);
        o_ = w_.next(spec_.display);
        deadline_ = now + o_.takes;
        if (o_.takes == Duration::zero()) {
            return result();
        }
        return std::nullopt;
    }
    std::optional<ProbeResult> on_ready(uint32_t, TimePoint) override { return std::nullopt; }
    ProbeResult on_deadline(TimePoint) override { return result(); }
    TimePoint deadline() const override { return deadline_; }

private:
    ProbeResult result() const {
        ProbeResult r = o_.ok ? ProbeResult::success() : ProbeResult::failure("fake");
        r.weight = o_.weight;
        return r;
    }
    FakeWorld& w_;
    const CheckSpec& spec_;
    Outcome o_;
    TimePoint deadline_{};
};

EngineOptions fake_options(FakeWorld& w) {
    EngineOptions o;
    o.probe_factory = [&w](const CheckSpec& s, const ProbeContext&) {
        return std::make_unique<FakeProbe>(w, s);
    };
    return o;
}

config::RealServer tcp_real(const std::string& addr, config::Check c = {}) {
    config::RealServer rs;
    rs.address = ip(addr);
    rs.port = 80;
    rs.checks.push_back(c);
    return rs;
}

config::Config one_vs(std::vector<config::RealServer> reals) {
    config::Config cfg;
    config::VirtualServer vs;
    vs.address = ip("10.0.0.100");
    vs.port = 80;
    vs.delay_loop = 10s;
    vs.real_servers = std::move(reals);
    cfg.virtual_servers.push_back(std::move(vs));
    return cfg;
}

config::Check timing(uint32_t retry) {
    config::Check c;
    c.retry = retry;
    c.delay_before_retry = 2s;
    return c;
}

/** Polls at every deadline up to `end` (inclusive). */
void run_until(Engine& e, TimePoint& now, TimePoint end) {
    for (int guard = 0; guard < 1000000; ++guard) {
        const auto d = e.next_deadline();
        if (!d || *d > end) {
            now = end;
            e.poll(now);
            return;
        }
        now = std::max(now, *d);
        e.poll(now);
    }
    FAIL() << "engine never became idle";
}

const std::string kVs = "[10.0.0.100]:tcp:80";

TEST(HealthEngine, FirstProbesAreSpreadOverTheInterval) {
    std::vector<config::RealServer> reals;
    for (int i = 0; i < 1000; ++i) {
        reals.push_back(
            tcp_real("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)));
    }
    FakeWorld w;
    auto e = Engine::create(one_vs(reals), kT0, fake_options(w));
    ASSERT_TRUE(e) << e.error().message;
    TimePoint now = kT0;
    run_until(**e, now, kT0 + 10s - 1us);
    ASSERT_EQ(w.starts.size(), 1000u);  // each exactly once in the first interval
    std::map<int64_t, int> per_second;
    for (const auto& [who, at] : w.starts) {
        ASSERT_GE(at, kT0);
        ASSERT_LT(at, kT0 + 10s);
        per_second[(at - kT0) / 1s]++;
    }
    for (const auto& [sec, n] : per_second) {
        EXPECT_LT(n, 150) << "second " << sec;  // ~100 each, never a burst of 1000
    }
    EXPECT_EQ((*e)->stats().checkers, 1000u);
}

TEST(HealthEngine, RetryTimelineEndToEnd) {
    FakeWorld w;
    const std::string who = "[10.0.0.1]:tcp:80";
    w.script[who] = {{true}, {false}, {false}, {false}, {true}};
    auto e = Engine::create(one_vs({tcp_real("10.0.0.1", timing(1))}), kT0, fake_options(w));
    ASSERT_TRUE(e);
    Engine& eng = **e;
    EXPECT_TRUE(eng.take_changed());  // a new engine: publish once
    EXPECT_FALSE(eng.take_changed());
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 60s);
    ASSERT_GE(w.starts.size(), 5u);
    const TimePoint t0 = w.starts[0].second;
    EXPECT_EQ(w.starts[1].second, t0 + 10s);  // success → delay_loop
    EXPECT_EQ(w.starts[2].second, t0 + 12s);  // failure while up → delay_before_retry
    EXPECT_EQ(w.starts[3].second, t0 + 22s);  // down after 1 retry → delay_loop
    EXPECT_EQ(w.starts[4].second, t0 + 32s);  // still down → delay_loop; this one succeeds
    EXPECT_EQ(eng.take_log(), (std::vector<std::string>{
                                  "TCP connection to " + who + " success.",
                                  "TCP_CHECK on service " + who + " failed after 1 retries.",
                                  "Removing service " + who + " from VS " + kVs,
                                  "Lost quorum 1-0=1 > 0 for VS " + kVs,
                                  "TCP connection to " + who + " success.",
                                  "Adding service " + who + " to VS " + kVs,
                                  "Gained quorum 1+0=1 <= 1 for VS " + kVs,
                              }));
    EXPECT_TRUE(eng.take_changed());
    EXPECT_TRUE(eng.real(0, 0).present);
    EXPECT_EQ(eng.stats().probes_failed, 3u);
}

TEST(HealthEngine, ChangedOnlyWhenTheDecisionChanges) {
    FakeWorld w;
    auto e = Engine::create(one_vs({tcp_real("10.0.0.1", timing(1))}), kT0, fake_options(w));
    Engine& eng = **e;
    eng.take_changed();
    const uint64_t gen = eng.generation();
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 35s);  // successes only
    EXPECT_FALSE(eng.take_changed());
    EXPECT_EQ(eng.generation(), gen);
    w.fallback.ok = false;
    run_until(eng, now, kT0 + 60s);
    EXPECT_TRUE(eng.take_changed());
    EXPECT_GT(eng.generation(), gen);
    EXPECT_FALSE(eng.real(0, 0).present);
}

TEST(HealthEngine, AllCheckersOfARealMustPass) {
    FakeWorld w;
    config::RealServer rs = tcp_real("10.0.0.1");
    config::Check second;
    second.connect_port = 81;
    rs.checks.push_back(second);
    w.script["[10.0.0.1]:tcp:81"] = {{false}};
    auto e = Engine::create(one_vs({rs}), kT0, fake_options(w));
    TimePoint now = kT0;
    run_until(**e, now, kT0 + 10s);
    EXPECT_TRUE((*e)->checker(0, 0, 0).up());
    EXPECT_FALSE((*e)->checker(0, 0, 1).up());
    EXPECT_FALSE((*e)->real(0, 0).alive);
    EXPECT_FALSE((*e)->real(0, 0).present);
}

TEST(HealthEngine, InhibitOnFailureGivesWeightZeroInsteadOfRemoval) {
    FakeWorld w;
    w.fallback.ok = false;
    config::Config cfg = one_vs({tcp_real("10.0.0.1", timing(0))});
    cfg.virtual_servers[0].inhibit_on_failure = true;
    auto e = Engine::create(cfg, kT0, fake_options(w));
    TimePoint now = kT0;
    run_until(**e, now, kT0 + 10s);
    EXPECT_EQ((*e)->real(0, 0), (RealDecision{false, true, 0}));
    const auto log = (*e)->take_log();
    EXPECT_NE(std::find(log.begin(), log.end(), "Disabling service [10.0.0.1]:tcp:80 of VS " + kVs),
              log.end());
}

TEST(HealthEngine, MiscDynamicExitCodeSetsTheWeight) {
    FakeWorld w;
    config::Check misc;
    misc.type = config::CheckType::Misc;
    misc.misc_path = "/bin/true";
    misc.misc_dynamic = true;
    misc.retry = 0;
    config::RealServer rs = tcp_real("10.0.0.1", misc);
    rs.checks = {misc};
    const std::string who = "[10.0.0.1]:tcp:80";
    w.script[who] = {{true, 0s, 3}, {true}, {false}};  // exit 5 → 3; exit 0 keeps it; exit 1
    auto e = Engine::create(one_vs({rs}), kT0, fake_options(w));
    ASSERT_TRUE(e) << e.error().message;
    Engine& eng = **e;
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 10s);
    EXPECT_EQ(eng.real(0, 0), (RealDecision{true, true, 3}));
    run_until(eng, now, kT0 + 20s);
    EXPECT_EQ(eng.real(0, 0).weight, 3u);  // exit 0: weight unchanged
    run_until(eng, now, kT0 + 30s);
    EXPECT_FALSE(eng.real(0, 0).present);
    const auto log = eng.take_log();
    EXPECT_EQ(log[0], "Changing weight from 1 to 3 for active service " + who + " of VS " + kVs);
    EXPECT_EQ(log[1], "Misc check to [10.0.0.1] for [/bin/true] succeeded.");
    EXPECT_EQ(log[2], "Misc check to [10.0.0.1] for [/bin/true] failed (fake).");
}

TEST(HealthEngine, AlphaWithSorryServerStartsOnTheSorryServer) {
    FakeWorld w;
    config::Config cfg = one_vs({tcp_real("10.0.0.1"), tcp_real("10.0.0.2")});
    cfg.virtual_servers[0].alpha = true;
    cfg.virtual_servers[0].sorry_server = config::SorryServer{ip("10.0.0.9"), 8080};
    auto e = Engine::create(cfg, kT0, fake_options(w));
    Engine& eng = **e;
    EXPECT_TRUE(eng.decision(0).sorry_active);
    EXPECT_FALSE(eng.real(0, 0).present);
    EXPECT_EQ(eng.take_log(),
              (std::vector<std::string>{"Starting with quorum down 1-0=1 > 0 for VS " + kVs,
                                        "Adding sorry server [10.0.0.9]:tcp:8080 to VS " + kVs,
                                        "Removing alive servers from the pool for VS " + kVs}));
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 10s);
    EXPECT_FALSE(eng.decision(0).sorry_active);
    EXPECT_TRUE(eng.real(0, 0).present);
    EXPECT_TRUE(eng.real(0, 1).present);
}

TEST(HealthEngine, ReloadKeepsTheStateOfUnchangedCheckers) {
    FakeWorld w;
    w.script["[10.0.0.1]:tcp:80"] = {{false}};
    w.script["[10.0.0.2]:tcp:80"] = {{true, 20s}};  // still running at reload time
    config::Config cfg = one_vs({tcp_real("10.0.0.1", timing(1)), tcp_real("10.0.0.2", timing(1)),
                                 tcp_real("10.0.0.3", timing(1))});
    auto e = Engine::create(cfg, kT0, fake_options(w));
    Engine& eng = **e;
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 10s);
    ASSERT_FALSE(eng.real(0, 0).present);
    ASSERT_EQ(w.live, 1);  // 10.0.0.2's probe in flight
    const TimePoint due3 = eng.checker(0, 2, 0).next_due();
    eng.take_log();

    // Reload: retry changes for .1 (timing only), .3 gets a new port (a different probe),
    // .4 is new and .2 stays.
    config::Config next = cfg;
    next.virtual_servers[0].real_servers[0].checks[0].retry = 5;
    next.virtual_servers[0].real_servers[2].checks[0].connect_port = 8080;
    next.virtual_servers[0].real_servers.push_back(tcp_real("10.0.0.4", timing(1)));
    const std::size_t starts_before = w.starts.size();
    ASSERT_TRUE(eng.reconfigure(next, now));
    EXPECT_EQ(w.live, 0);  // the in-flight probe was cancelled
    EXPECT_TRUE(eng.take_changed());
    EXPECT_TRUE(eng.take_log().empty());   // nothing was added or removed
    EXPECT_FALSE(eng.real(0, 0).present);  // still down: state carried
    EXPECT_FALSE(eng.checker(0, 0, 0).up());
    EXPECT_EQ(eng.checker(0, 0, 0).timing().retry, 5u);
    EXPECT_EQ(eng.checker(0, 1, 0).next_due(), now);  // cancelled probe reruns at once
    EXPECT_FALSE(eng.checker(0, 2, 0).has_run());     // changed probe: fresh
    EXPECT_NE(eng.checker(0, 2, 0).next_due(), due3);
    EXPECT_TRUE(eng.real(0, 3).present);  // new, non-alpha: up
    eng.poll(now);
    EXPECT_EQ(w.starts.size(), starts_before + 1);  // only the cancelled one restarts now
    EXPECT_EQ(w.starts.back().first, "[10.0.0.2]:tcp:80");

    config::Config broken = next;
    config::Check bad;
    bad.type = config::CheckType::Misc;
    bad.misc_path = "'";
    broken.virtual_servers[0].real_servers[1].checks.push_back(bad);
    EXPECT_FALSE(eng.reconfigure(broken, now));
    EXPECT_EQ(eng.stats().checkers, 4u);  // untouched
}

TEST(HealthEngine, ANewCheckerOnAHealthyServerStartsUpEvenUnderAlpha) {
    FakeWorld w;
    config::Config cfg = one_vs({tcp_real("10.0.0.1")});
    cfg.virtual_servers[0].alpha = true;
    auto e = Engine::create(cfg, kT0, fake_options(w));
    Engine& eng = **e;
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 10s);
    ASSERT_TRUE(eng.real(0, 0).present);
    config::Config next = cfg;
    config::Check extra;
    extra.connect_port = 81;
    next.virtual_servers[0].real_servers[0].checks.push_back(extra);
    ASSERT_TRUE(eng.reconfigure(next, now));
    EXPECT_TRUE(eng.real(0, 0).present);  // keepalived migrate_checkers
    EXPECT_TRUE(eng.checker(0, 0, 1).up());
}

TEST(HealthEngine, ProbeStartsPerPollAreBounded) {
    std::vector<config::RealServer> reals;
    for (int i = 0; i < 1200; ++i) {
        reals.push_back(
            tcp_real("10.2." + std::to_string(i / 200) + "." + std::to_string(i % 200)));
    }
    config::Config cfg = one_vs(reals);
    cfg.virtual_servers[0].delay_loop = 1us;  // every first probe due at once
    FakeWorld w;
    EngineOptions o = fake_options(w);
    o.max_starts_per_poll = 500;
    auto e = Engine::create(cfg, kT0, o);
    (*e)->poll(kT0);
    EXPECT_EQ(w.starts.size(), 500u);
    ASSERT_TRUE((*e)->next_deadline());
    EXPECT_LE(*(*e)->next_deadline(), kT0);  // more work is due right away
    (*e)->poll(kT0);
    (*e)->poll(kT0);
    EXPECT_EQ(w.starts.size(), 1200u);
}

TEST(HealthEngine, NotifyScriptsRunThroughTheScriptRunner) {
    const std::string marker = testing::TempDir() + "health_notify_" + std::to_string(getpid());
    std::filesystem::remove(marker);
    FakeWorld w;
    w.fallback.ok = false;
    config::RealServer rs = tcp_real("10.0.0.1", timing(0));
    rs.notify_down = "/bin/sh -c 'echo down > " + marker + "'";
    auto e = Engine::create(one_vs({rs}), kT0, fake_options(w));
    ASSERT_TRUE(e) << e.error().message;
    Engine& eng = **e;
    TimePoint now = kT0;
    run_until(eng, now, kT0 + 10s);
    EXPECT_EQ(eng.stats().scripts_started, 1u);
    // The script runs in real time; the engine reaps it from poll().
    for (int i = 0; i < 500 && !std::filesystem::exists(marker); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(std::filesystem::exists(marker));
    for (int i = 0; i < 500 && eng.stats().scripts_running > 0; ++i) {
        ASSERT_TRUE(eng.next_deadline());  // a running child keeps a deadline close
        EXPECT_LE(*eng.next_deadline(), now + 10ms);
        now += 10ms;
        eng.poll(now);
        std::this_thread::sleep_for(2ms);
    }
    EXPECT_EQ(eng.stats().scripts_running, 0u);
    EXPECT_EQ(eng.stats().script_errors, 0u);
    std::filesystem::remove(marker);
}

TEST(HealthEngine, CreateRejectsWhatCannotBeParsed) {
    config::RealServer rs = tcp_real("10.0.0.1");
    rs.notify_up = "\"unterminated";
    auto e = Engine::create(one_vs({rs}), kT0);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("notify_up"), std::string::npos);
}

}  // namespace
}  // namespace director::health
