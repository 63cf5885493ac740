// SPDX-License-Identifier: BSD-3-Clause
// Probes: one attempt of one checker against one real server, non-blocking (keepalived.md
// §1.8). TCP_CHECK connects, HTTP_GET / SSL_GET fetch every url over HTTP/1.0 (TLS through
// OpenSSL, no certificate verification, as keepalived), UDP_CHECK sends a datagram and watches
// for ICMP port-unreachable or a reply, MISC_CHECK runs a script through vrrp::ScriptRunner.
//
// Why an interface: the engine (engine.h) only schedules and dispatches; what a probe does
// with its socket is the probe's business. Tests drive real probes against loopback servers
// and fake probes through the engine with a fake clock (STYLE C5).
//
// Contract: a probe never blocks. It registers its socket with the IoWatcher it was given,
// with the events it waits for, and unregisters it before closing it. The owner calls
// on_ready() when that socket is ready, on_deadline() once deadline() has passed, and
// on_exit() when the script it started ends; each returns the result once the probe is
// finished (then the owner destroys it) or nullopt while it is still running. Destroying an
// unfinished probe cancels it: sockets are unwatched and closed, a script keeps running under
// the runner's timeout and its exit is ignored.
//
// Caller: control lcore only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "health/checker.h"
#include "health/spec.h"
#include "vrrp/notify_runner.h"

namespace director::health {

namespace detail {
class TlsContext;
}  // namespace detail

/** How a probe ended. */
struct ProbeResult {
    bool ok = false;
    bool timed_out = false;          ///< failed because connect_timeout / misc_timeout passed
    std::optional<uint32_t> weight;  ///< MISC_CHECK misc_dynamic: the new effective weight
    std::string reason;              ///< short text for logs ("connection refused", "status 500")

    static ProbeResult success(std::string why = {}) { return {true, false, std::nullopt, why}; }
    static ProbeResult failure(std::string why) { return {false, false, std::nullopt, why}; }
    static ProbeResult timeout(std::string why = "timeout") {
        return {false, true, std::nullopt, why};
    }
};

/** Where probes register sockets for readiness (the engine's epoll). */
class IoWatcher {
public:
    virtual ~IoWatcher() = default;
    /** Adds fd or changes its interest set (EPOLLIN | EPOLLOUT). */
    virtual void watch(int fd, uint32_t events) = 0;
    /** Stops watching fd. Called before fd is closed. */
    virtual void unwatch(int fd) = 0;
};

/** What a probe may use besides its spec. Pointers outlive the probe. */
struct ProbeContext {
    IoWatcher* io = nullptr;
    vrrp::ScriptRunner* runner = nullptr;           ///< MISC_CHECK
    detail::TlsContext* tls = nullptr;              ///< SSL_GET
    Duration kill_grace = std::chrono::seconds(1);  ///< runner's SIGTERM → SIGKILL delay
    uint64_t nonce = 0;                             ///< seeds UDP_CHECK's random payload
};

/** One running probe. */
class Probe {
public:
    virtual ~Probe() = default;

    /**
     * Starts the probe.
     * @return the result if it is already known (e.g. connect failed synchronously),
     *         nullopt while running
     */
    virtual std::optional<ProbeResult> start(TimePoint now) = 0;

    /** The watched socket is ready (epoll events). @return the result, or nullopt */
    virtual std::optional<ProbeResult> on_ready(uint32_t events, TimePoint now) = 0;

    /** deadline() has passed. @return the final result; the probe is finished */
    virtual ProbeResult on_deadline(TimePoint now) = 0;

    /** A script ended (only called for the id script() returns). @return the result */
    virtual std::optional<ProbeResult> on_exit(const vrrp::ScriptRunner::Exit& exit) {
        (void)exit;
        return std::nullopt;
    }

    /** When on_deadline() is due. May move forward (HTTP_GET: each url has its own). */
    virtual TimePoint deadline() const = 0;

    /** The script this probe waits for, if any. */
    virtual std::optional<vrrp::ScriptRunner::Id> script() const { return std::nullopt; }
};

/** Makes the probe for a spec; the engine's default is make_probe. */
using ProbeFactory =
    std::function<std::unique_ptr<Probe>(const CheckSpec& spec, const ProbeContext& ctx)>;

/**
 * The real probe for spec.type. SSL_GET needs ctx.tls, MISC_CHECK ctx.runner.
 *
 * Caller: control lcore.
 *
 * @param spec  the checker; must outlive the probe (the probe keeps a reference)
 * @param ctx   watcher, runner and TLS context; must outlive the probe
 * @return the probe, not started yet
 */
std::unique_ptr<Probe> make_probe(const CheckSpec& spec, const ProbeContext& ctx);

}  // namespace director::health
