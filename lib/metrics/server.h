// SPDX-License-Identifier: BSD-3-Clause
// The /metrics HTTP endpoint (`global.metrics_listen`), served by civetweb.
//
// Why this shape: the control lcore owns all control state and must never block or share it
// (STYLE C1), while civetweb answers from its own threads. So the control loop renders the
// exposition text itself (exposition.h), e.g. once a second, and hands the finished string to
// publish(); a scrape only returns the latest published text. The one lock guards a pointer
// swap: publish() never waits for a slow client, and a client never sees a half-written body.
//
// What it serves:
//   GET or HEAD /metrics  200, `Content-Type: text/plain; version=0.0.4; charset=utf-8`, the
//                         latest published text (503 until the first publish())
//   other methods         405 (Allow: GET, HEAD)
//   any other path        404
// civetweb runs with 2 worker threads and no document root (it serves no files), no keep-alive,
// a 10 s request timeout; its error and access logs are discarded, never written to stderr.
// Starting civetweb sets SIGPIPE to SIG_IGN process-wide (civetweb's mg_start does this).
//
// Listen addresses, the forms `global.metrics_listen` takes:
//   "127.0.0.1:9100"  one IPv4 address
//   "[::1]:9100"      one IPv6 address; needs a libcivetweb built with IPv6 (Debian 12's is
//                     not: start() then fails saying so, see supports_ipv6())
//   ":9100"           every IPv4 address
// Port 0 picks a free ephemeral port (tests); port() reports the one bound. An empty string
// means "/metrics disabled": the caller does not call start() at all.
//
// Usage (control lcore):
//
//     std::unique_ptr<metrics::MetricsServer> server;
//     if (!cfg.global.metrics_listen.empty()) {
//         auto s = metrics::MetricsServer::start(cfg.global.metrics_listen);
//         if (!s) { return make_error(s.error().message); }   // e.g. port in use
//         server = std::move(*s);
//     }
//     ...
//     // on the control loop's 1 s timer:
//     if (server) {
//         metrics::TextWriter w;
//         render_counters(w);              // family() + sample() calls
//         server->publish(w.take());
//     }
//     ...
//     server.reset();                      // stops civetweb, joins its threads
//
// Caller: start(), the destructor and port() from the owning thread (the control lcore);
// publish() and scrapes() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

struct mg_context;  // civetweb, kept out of this header so includers need no civetweb.h

namespace director::metrics {

/** The Content-Type of the 0.0.4 text format. */
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

/** The path the metrics are served on. */
inline constexpr std::string_view kMetricsPath = "/metrics";

class MetricsServer {
public:
    /**
     * Parses `listen` and starts civetweb on it.
     *
     * @param listen  "ADDRESS:PORT", "[IPV6]:PORT" or ":PORT" (see the file comment)
     * @return the running server, or an error naming the key and the value, e.g.
     *         `global.metrics_listen "x": not ADDRESS:PORT (...)`, or
     *         `global.metrics_listen "127.0.0.1:9100": cannot serve /metrics: cannot bind to
     *         127.0.0.1:9100: 98 (Address already in use)`
     */
    static Result<std::unique_ptr<MetricsServer>> start(std::string_view listen);

    /**
     * Stops civetweb: joins its threads and closes the listening socket. Blocks for up to 2 s
     * once a request has been served (civetweb 1.15 polls its stop flag every 2 s; issue #1163,
     * fixed in 1.16), so destroy it at shutdown, not on a path that must keep timing.
     */
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /**
     * Replaces the text that scrapes return. Takes ownership; cheap (a pointer swap under a
     * mutex; the previous text is freed by whoever drops the last reference to it).
     *
     * @param text  a complete exposition body, e.g. TextWriter::take()
     */
    void publish(std::string text);

    /** The TCP port bound (useful after starting on port 0). */
    uint16_t port() const noexcept { return port_; }

    /** Successful GET/HEAD /metrics responses so far (for a self-metric, if wanted). */
    uint64_t scrapes() const noexcept { return scrapes_.load(std::memory_order_relaxed); }

    /** Whether the linked libcivetweb can listen on IPv6 addresses. */
    static bool supports_ipv6() noexcept;

private:
    struct Handler;  // civetweb's request callback, defined in server.cc

    MetricsServer() = default;

    /** The latest published text, or null before the first publish(). Any thread. */
    std::shared_ptr<const std::string> current() const;

    mg_context* ctx_ = nullptr;
    uint16_t port_ = 0;
    mutable std::mutex mutex_;
    std::shared_ptr<const std::string> text_;  // guarded by mutex_
    std::atomic<uint64_t> scrapes_{0};
};

}  // namespace director::metrics
