// SPDX-License-Identifier: BSD-3-Clause
#include "servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "health/detail/tls.h"

namespace director::health::testing_support {

namespace {

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
    }
}

/** Sleeps up to d, returning early (true) when the stop pipe becomes readable. */
bool wait_stop(int stop_fd, std::chrono::milliseconds d) {
    pollfd p{stop_fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(d.count())) > 0;
}

}  // namespace

// ---- TcpListener ---------------------------------------------------------------------------

TcpListener::TcpListener(int backlog, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    check(fd_ >= 0, "socket");
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in a = loopback(port);
    check(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0, "bind");
    check(::listen(fd_, backlog) == 0, "listen");
    port_ = local_port(fd_);
}

TcpListener::~TcpListener() {
    for (int f : fillers_) {
        ::close(f);
    }
    ::close(fd_);
}

int TcpListener::accept_all() {
    int n = 0;
    for (;;) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            return n;
        }
        ::close(c);
        ++n;
    }
}

std::optional<uint16_t> TcpListener::accept_peer_port() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) {
        return std::nullopt;
    }
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    const int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (c < 0) {
        return std::nullopt;
    }
    ::close(c);
    return ntohs(peer.sin_port);
}

void TcpListener::fill_backlog() {
    // With backlog 0 the accept queue holds one connection; a few more make sure the queue is
    // full and further SYNs are dropped (the kernel's ListenOverflows path).
    for (int i = 0; i < 4; ++i) {
        const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        const sockaddr_in a = loopback(port_);
        ::connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
        fillers_.push_back(c);
    }
    std::this_thread::sleep_for(100ms);  // let the handshakes that can complete do so
}

uint16_t closed_port(int type) {
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    const sockaddr_in a = loopback(0);
    ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
    const uint16_t port = local_port(fd);
    ::close(fd);
    return port;
}

// ---- certificate ---------------------------------------------------------------------------

TestCert::TestCert() {
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    if (pkey == nullptr) {
        throw std::runtime_error("EVP_EC_gen failed");
    }
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, pkey, EVP_sha256()) == 0) {
        throw std::runtime_error("X509_sign failed");
    }
    key = pkey;
    cert = x;
}

TestCert::~TestCert() {
    X509_free(static_cast<X509*>(cert));
    EVP_PKEY_free(static_cast<EVP_PKEY*>(key));
}

// ---- HttpServer ----------------------------------------------------------------------------

HttpServer::HttpServer(bool tls) : listener_(64), tls_(tls) {
    ::signal(SIGPIPE, SIG_IGN);  // the server writes to clients that gave up (test process)
    check(::pipe2(stop_pipe_, O_CLOEXEC) == 0, "pipe2");
    if (tls_) {
        cert_ = std::make_unique<TestCert>();
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate(ctx, static_cast<X509*>(cert_->cert));
        SSL_CTX_use_PrivateKey(ctx, static_cast<EVP_PKEY*>(cert_->key));
        ctx_ = ctx;
    }
    thread_ = std::thread([this] { run(); });
}

HttpServer::~HttpServer() {
    (void)!::write(stop_pipe_[1], "x", 1);
    thread_.join();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

void HttpServer::answer(const std::string& path, HttpAnswer a) {
    std::lock_guard lock(mu_);
    answers_[path] = std::move(a);
}

std::vector<std::string> HttpServer::requests() {
    std::lock_guard lock(mu_);
    return requests_;
}

std::vector<std::string> HttpServer::server_names() {
    std::lock_guard lock(mu_);
    return names_;
}

void HttpServer::run() {
    for (;;) {
        pollfd p[2] = {{listener_.fd(), POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        ::poll(p, 2, -1);
        if (p[1].revents != 0) {
            return;
        }
        const int c = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            continue;
        }
        timeval tv{2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        serve(c);
        ::close(c);
    }
}

void HttpServer::serve(int fd) {
    SSL* ssl = nullptr;
    if (tls_) {
        ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            SSL_free(ssl);
            return;
        }
        const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        std::lock_guard lock(mu_);
        names_.push_back(sni != nullptr ? sni : "");
    }
    const auto rd = [&](char* buf, int n) {
        return ssl != nullptr ? SSL_read(ssl, buf, n) : static_cast<int>(::recv(fd, buf, n, 0));
    };
    const auto wr = [&](const std::string& s) {
        if (ssl != nullptr) {
            SSL_write(ssl, s.data(), static_cast<int>(s.size()));
        } else {
            (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        }
    };
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
        const int n = rd(buf, sizeof(buf));
        if (n <= 0) {
            SSL_free(ssl);
            return;
        }
        head.append(buf, static_cast<size_t>(n));
    }
    HttpAnswer a{404, "not found", {}};
    {
        std::lock_guard lock(mu_);
        requests_.push_back(head);
        const size_t sp = head.find(' ');
        const std::string path = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
        if (auto it = answers_.find(path); it != answers_.end()) {
            a = it->second;
        }
    }
    wr("HTTP/1.0 " + std::to_string(a.status) + " X\r\nContent-Type: text/plain\r\n\r\n");
    if (a.body_delay.count() > 0 && wait_stop(stop_pipe_[0], a.body_delay)) {
        SSL_free(ssl);
        return;
    }
    wr(a.body);
    if (ssl != nullptr) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
}

// ---- UdpServer -----------------------------------------------------------------------------

UdpServer::UdpServer(Mode mode, std::vector<uint8_t> fixed)
    : mode_(mode), fixed_(std::move(fixed)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    check(fd_ >= 0, "socket");
    const sockaddr_in a = loopback(0);
    check(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0, "bind");
    port_ = local_port(fd_);
    check(::pipe2(stop_pipe_, O_CLOEXEC) == 0, "pipe2");
    thread_ = std::thread([this] { run(); });
}

UdpServer::~UdpServer() {
    (void)!::write(stop_pipe_[1], "x", 1);
    thread_.join();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    ::close(fd_);
}

void UdpServer::run() {
    for (;;) {
        pollfd p[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        ::poll(p, 2, -1);
        if (p[1].revents != 0) {
            return;
        }
        uint8_t buf[2048];
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        const ssize_t n =
            ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) {
            continue;
        }
        ++received_;
        if (mode_ == Mode::Echo) {
            ::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
        } else if (mode_ == Mode::Fixed) {
            ::sendto(fd_, fixed_.data(), fixed_.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }
}

// ---- drivers -------------------------------------------------------------------------------

CheckSpec spec_for(config::Check check, uint16_t port, const std::string& rs_address) {
    config::VirtualServer vs;
    vs.address = *net::IpAddress::parse("10.0.0.100");
    vs.port = 80;
    vs.delay_loop = 1s;
    config::RealServer rs;
    rs.address = *net::IpAddress::parse(rs_address);
    rs.port = port;
    auto s = resolve_check(vs, rs, check, 0);
    if (!s) {
        throw std::runtime_error(s.error().message);
    }
    return *s;
}

namespace {

class EpollWatcher final : public IoWatcher {
public:
    explicit EpollWatcher(int ep) : ep_(ep) {}
    void watch(int fd, uint32_t events) override {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        if (::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) != 0) {
            ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
        }
        ++watches;
    }
    void unwatch(int fd) override {
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
        ++unwatches;
    }
    int watches = 0;
    int unwatches = 0;

private:
    int ep_;
};

}  // namespace

ProbeRun run_probe(const CheckSpec& spec, vrrp::ScriptRunner* runner) {
    const vrrp::SteadyClock clock;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    EpollWatcher watcher(ep);
    std::unique_ptr<detail::TlsContext> tls;
    if (spec.type == config::CheckType::SslGet) {
        auto created = detail::TlsContext::create();
        if (!created) {
            throw std::runtime_error(created.error().message);
        }
        tls = std::move(*created);
    }
    std::unique_ptr<vrrp::ScriptRunner> own_runner;
    if (runner == nullptr) {
        own_runner = std::make_unique<vrrp::ScriptRunner>();
        runner = own_runner.get();
    }
    ProbeContext ctx{&watcher, runner, tls.get(), 1s, 42};
    auto probe = make_probe(spec, ctx);
    const TimePoint start = clock.now();
    std::optional<ProbeResult> r = probe->start(start);
    while (!r) {
        const TimePoint now = clock.now();
        if (now >= probe->deadline()) {
            r = probe->on_deadline(now);
            break;
        }
        if (auto id = probe->script()) {
            for (const auto& e : runner->poll(now)) {
                if (e.id == *id) {
                    r = probe->on_exit(e);
                }
            }
            if (r) {
                break;
            }
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(probe->deadline() - now);
        epoll_event ev{};
        const int n = ::epoll_wait(ep, &ev, 1,
                                   static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 10)));
        if (n == 1) {
            r = probe->on_ready(ev.events, clock.now());
        }
    }
    ProbeRun out{*r, clock.now() - start};
    probe.reset();
    if (watcher.watches > 0 && watcher.unwatches == 0) {
        throw std::runtime_error("probe closed a watched socket without unwatching it");
    }
    ::close(ep);
    return out;
}

bool drive(Engine& engine, const std::function<bool()>& done, Duration max,
           const std::function<void()>& each, std::vector<int> extra_fds) {
    const vrrp::SteadyClock clock;
    const TimePoint end = clock.now() + max;
    std::vector<pollfd> fds;
    for (int fd : engine.fds()) {
        fds.push_back({fd, POLLIN, 0});
    }
    for (int fd : extra_fds) {
        fds.push_back({fd, POLLIN, 0});
    }
    for (;;) {
        const TimePoint now = clock.now();
        engine.poll(now);
        if (each) {
            each();
        }
        if (done()) {
            return true;
        }
        if (now >= end) {
            return false;
        }
        int64_t ms = 20;
        if (auto d = engine.next_deadline()) {
            ms = std::clamp<int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(*d - now).count() + 1, 0, 20);
        }
        ::poll(fds.data(), fds.size(), static_cast<int>(ms));
    }
}

int open_fds() {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        (void)e;
        ++n;
    }
    return n;
}

}  // namespace director::health::testing_support
