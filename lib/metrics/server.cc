// SPDX-License-Identifier: BSD-3-Clause
// MetricsServer on civetweb (Debian's libcivetweb1: the C API of civetweb.h).
#include "metrics/server.h"

#include <arpa/inet.h>
#include <civetweb.h>

#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace director::metrics {

namespace {

constexpr std::string_view kKey = "global.metrics_listen";
constexpr const char* kNumThreads = "2";
constexpr const char* kRequestTimeoutMs = "10000";

std::string where(std::string_view listen) {
    return std::string(kKey) + " \"" + std::string(listen) + "\": ";
}

/** civetweb's listening_ports spelling of a validated listen address. */
struct ListenSpec {
    std::string civetweb;
    bool ipv6 = false;
};

bool parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) {
        return false;
    }
    unsigned value = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535;
}

Result<ListenSpec> parse_listen(std::string_view listen) {
    const auto bad = [&] {
        return make_error(where(listen) +
                          "not ADDRESS:PORT (e.g. 127.0.0.1:9100, [::1]:9100 or :9100 for every "
                          "IPv4 address; port 0-65535)");
    };
    if (listen.empty()) {
        return make_error(where(listen) + "empty: /metrics is disabled, nothing to start");
    }
    if (listen.front() == '[') {
        const std::size_t close = listen.find("]:");
        if (close == std::string_view::npos || !parse_port(listen.substr(close + 2))) {
            return bad();
        }
        const std::string host(listen.substr(1, close - 1));
        in6_addr a6{};
        if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
            return bad();
        }
        return ListenSpec{.civetweb = std::string(listen), .ipv6 = true};
    }
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || !parse_port(listen.substr(colon + 1))) {
        return bad();
    }
    if (colon == 0) {
        // civetweb reads a bare port as "every IPv4 address".
        return ListenSpec{.civetweb = std::string(listen.substr(1))};
    }
    const std::string host(listen.substr(0, colon));
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1) {
        return bad();
    }
    return ListenSpec{.civetweb = std::string(listen)};
}

// civetweb reports why it could not start only through log_message (mg_error_data's text is a
// generic "Failed to setup server ports"); start() runs mg_start2 on its own thread, so a
// thread-local pointer catches that reason without a global.
thread_local std::string* t_start_error = nullptr;

int on_log(const mg_connection* /*conn*/, const char* message) {
    if (t_start_error != nullptr && t_start_error->empty() && message != nullptr) {
        *t_start_error = message;
    }
    return 1;  // handled: civetweb writes nothing (no error_log_file, no stderr)
}

int on_access_log(const mg_connection* /*conn*/, const char* /*message*/) { return 1; }

void init_library() {
    // mg_init_library must run once before any other call and is not thread-safe. Its return
    // value is the subset of the requested features it set up: with none requested (we need
    // neither TLS nor anything else optional) that is 0, so it says nothing; a real failure
    // makes mg_start2 fail below.
    static std::once_flag once;
    std::call_once(once, [] { mg_init_library(0); });
}

void reply(mg_connection* conn, int status, std::string_view reason, std::string_view type,
           std::string_view body, bool head_only, std::string_view extra_headers = {}) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                       "\r\nContent-Type: " + std::string(type) +
                       "\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\n" +
                       std::string(extra_headers) + "\r\n";
    if (!head_only) {
        head += body;
    }
    mg_write(conn, head.data(), head.size());
}

}  // namespace

struct MetricsServer::Handler {
    static int handle(mg_connection* conn, void* cbdata) {
        auto* server = static_cast<MetricsServer*>(cbdata);
        const mg_request_info* ri = mg_get_request_info(conn);
        const std::string_view uri = ri->local_uri != nullptr ? ri->local_uri : "";
        const std::string_view method = ri->request_method != nullptr ? ri->request_method : "";
        const bool head = method == "HEAD";
        constexpr std::string_view kPlain = "text/plain; charset=utf-8";
        if (uri != kMetricsPath) {
            reply(conn, 404, "Not Found", kPlain, "not found: metrics are at /metrics\n", head);
            return 404;
        }
        if (method != "GET" && !head) {
            reply(conn, 405, "Method Not Allowed", kPlain, "use GET /metrics\n", false,
                  "Allow: GET, HEAD\r\n");
            return 405;
        }
        const std::shared_ptr<const std::string> text = server->current();
        if (!text) {
            reply(conn, 503, "Service Unavailable", kPlain, "metrics not published yet\n", head);
            return 503;
        }
        reply(conn, 200, "OK", kContentType, *text, head);
        server->scrapes_.fetch_add(1, std::memory_order_relaxed);
        return 200;
    }
};

bool MetricsServer::supports_ipv6() noexcept { return mg_check_feature(MG_FEATURES_IPV6) != 0; }

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(std::string_view listen) {
    auto spec = parse_listen(listen);
    if (!spec) {
        return Unexpected<Error>{std::move(spec).error()};
    }
    if (spec->ipv6 && !supports_ipv6()) {
        return make_error(where(listen) +
                          "this libcivetweb was built without IPv6 support; listen on an IPv4 "
                          "address (e.g. 127.0.0.1:9100 or :9100)");
    }
    init_library();

    std::unique_ptr<MetricsServer> server(new MetricsServer());
    // No document_root: civetweb serves no files.
    const std::pair<const char*, const char*> settings[] = {
        {"listening_ports", spec->civetweb.c_str()},  // validated by parse_listen
        {"num_threads", kNumThreads},                 // a scrape a second needs no pool
        {"enable_directory_listing", "no"},           // belt and braces with no document_root
        {"enable_keep_alive", "no"},                  // scrapers reconnect; threads stay free
        {"request_timeout_ms", kRequestTimeoutMs},    // a stalled client frees its thread
    };
    std::vector<const char*> options;  // civetweb's form: name, value, ..., nullptr
    for (const auto& [name, value] : settings) {
        options.push_back(name);
        options.push_back(value);
    }
    options.push_back(nullptr);
    mg_callbacks callbacks{};
    callbacks.log_message = on_log;
    callbacks.log_access = on_access_log;
    mg_init_data init{};
    init.callbacks = &callbacks;
    init.user_data = server.get();
    init.configuration_options = options.data();
    char text[256] = "";
    unsigned code = 0;
    mg_error_data error{};
    error.code = &code;
    error.text = text;
    error.text_buffer_size = sizeof(text);

    std::string reason;
    t_start_error = &reason;
    server->ctx_ = mg_start2(&init, &error);
    t_start_error = nullptr;
    if (server->ctx_ == nullptr) {
        if (reason.empty()) {
            reason = text[0] != '\0' ? text : "civetweb failed to start";
        }
        return make_error(where(listen) + "cannot serve /metrics: " + reason);
    }
    // One handler for every URI ("**"), so that other paths get our 404, not civetweb's.
    mg_set_request_handler(server->ctx_, "**", &Handler::handle, server.get());

    mg_server_port ports[4]{};
    const int n = mg_get_server_ports(server->ctx_, 4, ports);
    if (n < 1) {
        return make_error(where(listen) + "cannot serve /metrics: civetweb reports no port");
    }
    server->port_ = static_cast<uint16_t>(ports[0].port);
    return server;
}

MetricsServer::~MetricsServer() {
    if (ctx_ != nullptr) {
        mg_stop(ctx_);
    }
}

void MetricsServer::publish(std::string text) {
    auto next = std::make_shared<const std::string>(std::move(text));
    const std::lock_guard lock(mutex_);
    text_.swap(next);
    // The previous text (now in `next`) is freed after the lock is released, or by the last
    // scrape still writing it.
}

std::shared_ptr<const std::string> MetricsServer::current() const {
    const std::lock_guard lock(mutex_);
    return text_;
}

}  // namespace director::metrics
