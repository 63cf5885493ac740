// SPDX-License-Identifier: BSD-3-Clause
// Loopback servers for the probe tests, all created by the tests themselves on 127.0.0.1 with
// kernel-assigned ports: a TCP listener (optionally never accepting, with its backlog filled:
// a blackholed connect), an HTTP/HTTPS server on its own thread with a self-signed
// certificate made with OpenSSL, a UDP responder, and ports known to be closed.
// Plus drivers that run one probe, or the engine, against the real clock.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "health/engine.h"
#include "health/probe.h"
#include "health/spec.h"

namespace director::health::testing_support {

using namespace std::chrono_literals;

/** A TCP socket listening on 127.0.0.1:<ephemeral>. */
class TcpListener {
public:
    explicit TcpListener(int backlog = 4096, uint16_t port = 0);
    ~TcpListener();
    uint16_t port() const noexcept { return port_; }
    int fd() const noexcept { return fd_; }
    /** Accepts and closes every pending connection; returns how many. */
    int accept_all();
    /** Accepts one pending connection (blocking up to 2 s) and returns its peer port. */
    std::optional<uint16_t> accept_peer_port();
    /** Fills the accept queue with client connections nobody will accept. */
    void fill_backlog();

private:
    int fd_ = -1;
    uint16_t port_ = 0;
    std::vector<int> fillers_;
};

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
uint16_t closed_port(int type);

/** A test certificate and key, made fresh with OpenSSL (EC P-256, self-signed, CN=localhost). */
struct TestCert {
    TestCert();
    ~TestCert();
    void* key = nullptr;   // EVP_PKEY*
    void* cert = nullptr;  // X509*
};

/** What the HTTP server answers for one path. */
struct HttpAnswer {
    int status = 200;
    std::string body = "hello";
    std::chrono::milliseconds body_delay{0};  ///< pause between headers and body
};

/** HTTP/1.0 server (optionally over TLS) on its own thread. */
class HttpServer {
public:
    explicit HttpServer(bool tls = false);
    ~HttpServer();
    uint16_t port() const noexcept { return listener_.port(); }
    void answer(const std::string& path, HttpAnswer a);
    /** Every request received so far (the raw head). */
    std::vector<std::string> requests();
    /** SNI names presented by clients ("" = none), TLS only. */
    std::vector<std::string> server_names();

private:
    void run();
    void serve(int fd);

    TcpListener listener_;
    bool tls_;
    std::unique_ptr<TestCert> cert_;
    void* ctx_ = nullptr;  // SSL_CTX*
    int stop_pipe_[2] = {-1, -1};
    std::mutex mu_;
    std::map<std::string, HttpAnswer> answers_;
    std::vector<std::string> requests_;
    std::vector<std::string> names_;
    std::thread thread_;
};

/** UDP responder on its own thread: echoes, answers fixed bytes, or stays silent. */
class UdpServer {
public:
    enum class Mode { Echo, Fixed, Silent };
    explicit UdpServer(Mode mode, std::vector<uint8_t> fixed = {});
    ~UdpServer();
    uint16_t port() const noexcept { return port_; }
    int received() const noexcept { return received_.load(); }

private:
    void run();
    int fd_ = -1;
    uint16_t port_ = 0;
    Mode mode_;
    std::vector<uint8_t> fixed_;
    int stop_pipe_[2] = {-1, -1};
    std::atomic<int> received_{0};
    std::thread thread_;
};

/** One check of a real server 127.0.0.1:port in a VS on port 80, resolved. */
CheckSpec spec_for(config::Check check, uint16_t port, const std::string& rs = "127.0.0.1");

struct ProbeRun {
    ProbeResult result;
    Duration elapsed{0};
};

/** Runs one real probe to completion against the real clock (its own epoll). */
ProbeRun run_probe(const CheckSpec& spec, vrrp::ScriptRunner* runner = nullptr);

/**
 * Runs the engine against the real clock until done() or max elapses, waiting on the engine's
 * fd (and extra fds), calling each() every iteration. @return done() at the end
 */
bool drive(Engine& engine, const std::function<bool()>& done, Duration max,
           const std::function<void()>& each = {}, std::vector<int> extra_fds = {});

/** Open file descriptors of this process (/proc/self/fd). */
int open_fds();

}  // namespace director::health::testing_support
