// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/notify_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace director::vrrp {

namespace {

/** posix_spawn attributes and file actions, released on every path. */
class SpawnSetup {
public:
    SpawnSetup() {
        posix_spawnattr_init(&attr_);
        posix_spawn_file_actions_init(&actions_);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions_);
        posix_spawnattr_destroy(&attr_);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    /** @return 0 or an errno value */
    int configure() {
        sigset_t none;
        sigset_t all;
        sigemptyset(&none);
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        // Own process group (so a timeout reaches the script's children too), default signal
        // handling and an empty mask whatever the director set for itself.
        const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
        if (int rc = posix_spawnattr_setflags(&attr_, flags); rc != 0) {
            return rc;
        }
        if (int rc = posix_spawnattr_setpgroup(&attr_, 0); rc != 0) {
            return rc;
        }
        if (int rc = posix_spawnattr_setsigmask(&attr_, &none); rc != 0) {
            return rc;
        }
        if (int rc = posix_spawnattr_setsigdefault(&attr_, &all); rc != 0) {
            return rc;
        }
        return posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }

    const posix_spawnattr_t* attr() const { return &attr_; }
    const posix_spawn_file_actions_t* actions() const { return &actions_; }

private:
    posix_spawnattr_t attr_;
    posix_spawn_file_actions_t actions_;
};

}  // namespace

ScriptRunner::~ScriptRunner() {
    for (const Child& c : children_) {
        kill(-c.pid, SIGKILL);
        int status = 0;
        while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
}

Result<ScriptRunner::Id> ScriptRunner::start(const std::vector<std::string>& argv,
                                             std::string label, TimePoint now, Duration timeout) {
    if (argv.empty()) {
        return make_error("empty command line");
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));  // posix_spawn's historical signature
    }
    args.push_back(nullptr);

    SpawnSetup setup;
    if (int rc = setup.configure(); rc != 0) {
        return make_error("posix_spawn setup: " + std::string(std::strerror(rc)));
    }
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], setup.actions(), setup.attr(), args.data(), environ);
    if (rc != 0) {
        return make_error(argv[0] + ": " + std::strerror(rc));
    }
    Child c{next_id_++, pid, std::move(label), now, std::nullopt, std::nullopt, false};
    if (timeout > Duration::zero()) {
        c.term_at = now + timeout;
    }
    children_.push_back(std::move(c));
    return children_.back().id;
}

std::vector<ScriptRunner::Exit> ScriptRunner::poll(TimePoint now) {
    std::vector<Exit> done;
    for (auto it = children_.begin(); it != children_.end();) {
        int status = 0;
        const pid_t r = waitpid(it->pid, &status, WNOHANG);
        if (r == it->pid || (r < 0 && errno == ECHILD)) {
            Exit e;
            e.id = it->id;
            e.pid = it->pid;
            e.label = std::move(it->label);
            e.timed_out = it->timed_out;
            e.runtime = now - it->started;
            if (r == it->pid && WIFEXITED(status)) {
                e.exited = true;
                e.exit_code = WEXITSTATUS(status);
            } else if (r == it->pid && WIFSIGNALED(status)) {
                e.signal = WTERMSIG(status);
            }
            done.push_back(std::move(e));
            it = children_.erase(it);
            continue;
        }
        if (it->kill_at && *it->kill_at <= now) {
            kill(-it->pid, SIGKILL);
            it->kill_at.reset();
        } else if (it->term_at && *it->term_at <= now) {
            // keepalived: a script over its timeout gets SIGTERM, then SIGKILL.
            kill(-it->pid, SIGTERM);
            it->timed_out = true;
            it->term_at.reset();
            it->kill_at = now + kill_grace_;
        }
        ++it;
    }
    return done;
}

std::optional<TimePoint> ScriptRunner::next_deadline() const noexcept {
    std::optional<TimePoint> best;
    for (const Child& c : children_) {
        for (const auto& t : {c.term_at, c.kill_at}) {
            if (t && (!best || *t < *best)) {
                best = t;
            }
        }
    }
    return best;
}

}  // namespace director::vrrp
