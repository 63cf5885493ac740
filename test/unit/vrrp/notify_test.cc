// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/notify.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <thread>

#include "vrrp/notify_runner.h"

namespace director::vrrp {
namespace {

using namespace std::chrono_literals;
using Argv = std::vector<std::string>;

Argv split(std::string_view s) {
    auto r = split_script(s);
    EXPECT_TRUE(r) << s;
    return r ? *r : Argv{};
}

TEST(VrrpNotify, ScriptsSplitOnUnquotedWhiteSpace) {
    EXPECT_EQ(split("/bin/notify.sh"), (Argv{"/bin/notify.sh"}));
    EXPECT_EQ(split("  /bin/n.sh   a\tb  "), (Argv{"/bin/n.sh", "a", "b"}));
    EXPECT_EQ(split("/bin/n.sh 'two words' \"and three words\""),
              (Argv{"/bin/n.sh", "two words", "and three words"}));
    EXPECT_EQ(split("/bin/n.sh ab'c d'e"), (Argv{"/bin/n.sh", "abc de"}));  // quotes join
    EXPECT_EQ(split("a \"it's\" 'say \"hi\"'"), (Argv{"a", "it's", "say \"hi\""}));
    EXPECT_EQ(split("a ''"), (Argv{"a", ""}));
}

TEST(VrrpNotify, BackslashEscapesAsKeepalivedDecodesThem) {
    EXPECT_EQ(split("a\\ b"), (Argv{"a b"}));
    EXPECT_EQ(split("x\\ty \\n \\x41\\x42 \\101 \\cA \\E \\q \\\\"),
              (Argv{"x\ty", "\n", "AB", "A", "\x01", "\x1b", "q", "\\"}));
    EXPECT_EQ(split("'a\\'b'"), (Argv{"a'b"}));  // escapes work inside quotes too
}

TEST(VrrpNotify, MalformedScriptsAreErrors) {
    EXPECT_FALSE(split_script("/bin/x 'open"));
    EXPECT_FALSE(split_script("/bin/x \"open"));
    EXPECT_FALSE(split_script("/bin/x \\"));
    EXPECT_FALSE(split_script("   "));
    EXPECT_FALSE(split_script(""));
}

TEST(VrrpNotify, InstanceStateScriptThenGenericNotifyWithFourArguments) {
    auto s = NotifyScripts::create("/bin/master.sh up", std::nullopt, "/bin/fault.sh", std::nullopt,
                                   "/bin/notify.sh --from keepalived");
    ASSERT_TRUE(s);
    EXPECT_EQ(notify_specs(*s, NotifyScope::Instance, "VI_1", NotifyState::Master, 200),
              (std::vector<NotifySpec>{{"notify_master", {"/bin/master.sh", "up"}},
                                       {"notify",
                                        {"/bin/notify.sh", "--from", "keepalived", "INSTANCE",
                                         "VI_1", "MASTER", "200"}}}));
    EXPECT_EQ(notify_specs(*s, NotifyScope::Instance, "VI_1", NotifyState::Backup, 100),
              (std::vector<NotifySpec>{{"notify",
                                        {"/bin/notify.sh", "--from", "keepalived", "INSTANCE",
                                         "VI_1", "BACKUP", "100"}}}));
    EXPECT_EQ(notify_specs(*s, NotifyScope::Instance, "VI_1", NotifyState::Fault, 100).front(),
              (NotifySpec{"notify_fault", {"/bin/fault.sh"}}));
}

TEST(VrrpNotify, GroupsPassPriorityZero) {
    auto s =
        NotifyScripts::create(std::nullopt, "/bin/b.sh", std::nullopt, "/bin/stop.sh", "/bin/n.sh");
    ASSERT_TRUE(s);
    EXPECT_EQ(notify_specs(*s, NotifyScope::Group, "G1", NotifyState::Stop, 200),
              (std::vector<NotifySpec>{{"notify_stop", {"/bin/stop.sh"}},
                                       {"notify", {"/bin/n.sh", "GROUP", "G1", "STOP", "0"}}}));
}

TEST(VrrpNotify, NothingConfiguredRunsNothing) {
    EXPECT_TRUE(
        notify_specs(NotifyScripts{}, NotifyScope::Instance, "VI_1", NotifyState::Master, 100)
            .empty());
    auto bad =
        NotifyScripts::create(std::nullopt, std::nullopt, std::nullopt, std::nullopt, "'oops");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("notify"), std::string::npos);
}

TEST(VrrpNotify, FifoLinesLookLikeKeepalivedsOwn) {
    EXPECT_EQ(fifo_line(NotifyScope::Instance, "VI_1", NotifyState::Master, 100),
              "INSTANCE \"VI_1\" MASTER 100\n");
    EXPECT_EQ(fifo_line(NotifyScope::Group, "G", NotifyState::Backup, 100),
              "GROUP \"G\" BACKUP 0\n");
    EXPECT_STREQ(to_string(NotifyState::Fault), "FAULT");
}

// ---- the runner: real processes, real time ------------------------------------------------

TimePoint real_now() { return SteadyClock{}.now(); }

/** Polls until every process has ended (or 5 s have passed). */
std::vector<ScriptRunner::Exit> run_all(ScriptRunner& r) {
    std::vector<ScriptRunner::Exit> all;
    const TimePoint give_up = real_now() + 5s;
    while (r.running() > 0 && real_now() < give_up) {
        for (auto& e : r.poll(real_now())) {
            all.push_back(std::move(e));
        }
        std::this_thread::sleep_for(2ms);
    }
    return all;
}

TEST(VrrpScriptRunner, ReportsExitCodesAndKillsOnTimeout) {
    ScriptRunner r;
    const TimePoint t = real_now();
    auto t_id = r.start({"/bin/true"}, "true", t, 100ms);
    auto f_id = r.start({"/bin/false"}, "false", t, 100ms);
    auto s_id = r.start({"sleep", "5"}, "sleep", t, 100ms);  // found through PATH
    ASSERT_TRUE(t_id && f_id && s_id);
    EXPECT_EQ(r.running(), 3u);
    EXPECT_EQ(r.next_deadline(), t + 100ms);
    const auto exits = run_all(r);
    ASSERT_EQ(exits.size(), 3u);
    EXPECT_EQ(r.running(), 0u);
    for (const auto& e : exits) {
        if (e.id == *t_id) {
            EXPECT_TRUE(e.ok());
            EXPECT_FALSE(e.timed_out);
        } else if (e.id == *f_id) {
            EXPECT_TRUE(e.exited);
            EXPECT_EQ(e.exit_code, 1);
            EXPECT_FALSE(e.ok());
        } else {
            EXPECT_EQ(e.id, *s_id);
            EXPECT_EQ(e.label, "sleep");
            EXPECT_TRUE(e.timed_out);
            EXPECT_FALSE(e.exited);
            EXPECT_EQ(e.signal, SIGTERM);
            EXPECT_GE(e.runtime, 100ms);
            EXPECT_LT(e.runtime, 2s);  // nowhere near sleep's 5 s
        }
    }
}

TEST(VrrpScriptRunner, EscalatesToSigkillWhenSigtermIsIgnored) {
    ScriptRunner r(50ms);
    auto id = r.start({"/bin/sh", "-c", "trap '' TERM; sleep 5"}, "stubborn", real_now(), 50ms);
    ASSERT_TRUE(id);
    const auto exits = run_all(r);
    ASSERT_EQ(exits.size(), 1u);
    EXPECT_TRUE(exits[0].timed_out);
    EXPECT_EQ(exits[0].signal, SIGKILL);
}

TEST(VrrpScriptRunner, MissingProgramIsAnError) {
    ScriptRunner r;
    auto id = r.start({"/nonexistent/notify.sh", "x"}, "missing", real_now(), 1s);
    EXPECT_FALSE(id);
    EXPECT_FALSE(r.start({}, "empty", real_now(), 1s));
    EXPECT_EQ(r.running(), 0u);
}

TEST(VrrpScriptRunner, DestructorReapsWhatIsStillRunning) {
    {
        ScriptRunner r;
        ASSERT_TRUE(r.start({"sleep", "5"}, "sleep", real_now(), Duration::zero()));
        EXPECT_FALSE(r.next_deadline());  // no timeout: nothing to enforce
        EXPECT_TRUE(r.poll(real_now()).empty());
        ASSERT_EQ(r.running(), 1u);
    }
    // Nothing left to reap: the destructor killed and waited for its child.
    int status = 0;
    EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace director::vrrp
