// SPDX-License-Identifier: BSD-3-Clause
// MetricsServer: real HTTP requests over loopback TCP to a civetweb bound to an ephemeral port.
#include "metrics/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace director::metrics {
namespace {

struct Response {
    int status = 0;
    std::string headers;  // raw header block, "\r\n"-separated, without the status line
    std::string body;

    std::optional<std::string> header(std::string_view name) const {
        std::size_t pos = 0;
        while (pos < headers.size()) {
            const std::size_t end = headers.find("\r\n", pos);
            const std::string line = headers.substr(pos, end - pos);
            const std::size_t colon = line.find(':');
            if (colon != std::string::npos && strncasecmp(line.c_str(), name.data(), colon) == 0 &&
                colon == name.size()) {
                std::size_t v = colon + 1;
                while (v < line.size() && line[v] == ' ') {
                    ++v;
                }
                return line.substr(v);
            }
            if (end == std::string::npos) {
                break;
            }
            pos = end + 2;
        }
        return std::nullopt;
    }
};

int connect_loopback(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/** A minimal HTTP/1.1 client: one request, read to EOF (the server closes). */
Response http(uint16_t port, std::string_view method, std::string_view path) {
    Response r;
    const int fd = connect_loopback(port);
    if (fd < 0) {
        ADD_FAILURE() << "connect 127.0.0.1:" << port << ": " << std::strerror(errno);
        return r;
    }
    const std::string request = std::string(method) + " " + std::string(path) +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        ADD_FAILURE() << "send: " << std::strerror(errno);
        ::close(fd);
        return r;
    }
    std::string raw;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
            raw.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0) {
            ADD_FAILURE() << "recv: " << std::strerror(errno);
        }
        break;
    }
    ::close(fd);
    const std::size_t head_end = raw.find("\r\n\r\n");
    const std::size_t line_end = raw.find("\r\n");
    if (head_end == std::string::npos || !raw.starts_with("HTTP/1.1 ")) {
        ADD_FAILURE() << "not an HTTP response: " << raw;
        return r;
    }
    r.status = std::stoi(raw.substr(9, 3));
    r.headers = raw.substr(line_end + 2, head_end - line_end - 2);
    r.body = raw.substr(head_end + 4);
    return r;
}

std::unique_ptr<MetricsServer> start_ephemeral() {
    auto s = MetricsServer::start("127.0.0.1:0");
    if (!s) {
        ADD_FAILURE() << s.error().message;
        return nullptr;
    }
    EXPECT_NE((*s)->port(), 0);
    return std::move(*s);
}

// One server shared by the request tests: civetweb 1.15's mg_stop takes up to 2 s once it has
// served a request (civetweb issue #1163, fixed in 1.16), so each test starting its own would
// make the suite slow. Tests that need a fresh server (before publish, shutdown) start one.
class MetricsServerHttp : public testing::Test {
protected:
    static void SetUpTestSuite() { shared_ = start_ephemeral().release(); }
    static void TearDownTestSuite() {
        delete shared_;
        shared_ = nullptr;
    }
    void SetUp() override { ASSERT_NE(shared_, nullptr); }

    static MetricsServer* shared_;
};

MetricsServer* MetricsServerHttp::shared_ = nullptr;

TEST_F(MetricsServerHttp, ServesThePublishedTextWithTheExpositionContentType) {
    MetricsServer* server = shared_;
    const uint64_t scrapes_before = server->scrapes();
    const std::string text = "# HELP up Up\n# TYPE up gauge\nup 1\n";
    server->publish(text);
    const Response r = http(server->port(), "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(r.header("Content-Length"), std::to_string(text.size()));
    EXPECT_EQ(r.body, text);
    EXPECT_EQ(server->scrapes(), scrapes_before + 1);
}

TEST_F(MetricsServerHttp, ServesTheLatestPublish) {
    MetricsServer* server = shared_;
    server->publish("a 1\n");
    EXPECT_EQ(http(server->port(), "GET", "/metrics").body, "a 1\n");
    server->publish("a 2\n");
    EXPECT_EQ(http(server->port(), "GET", "/metrics").body, "a 2\n");
    // A query string does not change the path.
    EXPECT_EQ(http(server->port(), "GET", "/metrics?x=1").body, "a 2\n");
}

TEST_F(MetricsServerHttp, LargeBodyArrivesWhole) {
    MetricsServer* server = shared_;
    std::string text;
    for (int i = 0; i < 20000; ++i) {
        text += "m{i=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
    }
    server->publish(text);
    const Response r = http(server->port(), "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), text.size());
    EXPECT_TRUE(r.body == text);
}

TEST(MetricsServer, ServiceUnavailableBeforeFirstPublish) {
    auto server = start_ephemeral();
    ASSERT_TRUE(server);
    const Response r = http(server->port(), "GET", "/metrics");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "metrics not published yet\n");
    EXPECT_EQ(server->scrapes(), 0u);
}

TEST_F(MetricsServerHttp, NotFoundForOtherPaths) {
    MetricsServer* server = shared_;
    server->publish("a 1\n");
    for (const char* path : {"/", "/index.html", "/metrics/", "/metrics/x", "/metricsx",
                             "/../../etc/passwd", "/METRICS"}) {
        const Response r = http(server->port(), "GET", path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(r.body, "not found: metrics are at /metrics\n") << path;
    }
}

TEST_F(MetricsServerHttp, HeadHasHeadersOnlyAndOtherMethodsAre405) {
    MetricsServer* server = shared_;
    server->publish("a 1\n");
    const Response head = http(server->port(), "HEAD", "/metrics");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length"), "4");
    EXPECT_EQ(head.body, "");
    const Response post = http(server->port(), "POST", "/metrics");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("Allow"), "GET, HEAD");
}

TEST_F(MetricsServerHttp, ConcurrentScrapesSeeWholeTextsWhilePublishing) {
    MetricsServer* server = shared_;
    const auto text_of = [](int generation) {
        std::string t;
        for (int i = 0; i < 200; ++i) {
            t += "gen" + std::to_string(generation) + "_" + std::to_string(i) + " 1\n";
        }
        return t;
    };
    server->publish(text_of(0));
    std::atomic<bool> stop{false};
    std::atomic<int> generation{0};
    std::thread publisher([&] {
        while (!stop.load()) {
            server->publish(text_of(generation.fetch_add(1) + 1));
        }
    });
    const uint64_t scrapes_before = server->scrapes();
    std::atomic<int> bad{0};
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
        clients.emplace_back([&] {
            for (int k = 0; k < 25; ++k) {
                const Response r = http(server->port(), "GET", "/metrics");
                const std::size_t us = r.body.find('_');
                const bool whole = r.status == 200 && us != std::string::npos &&
                                   r.body == text_of(std::stoi(r.body.substr(3, us - 3)));
                (whole ? ok : bad).fetch_add(1);
            }
        });
    }
    for (std::thread& t : clients) {
        t.join();
    }
    stop = true;
    publisher.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(ok.load(), 100);
    EXPECT_EQ(server->scrapes(), scrapes_before + 100);
}

TEST(MetricsServer, DestructorStopsListening) {
    auto server = start_ephemeral();
    ASSERT_TRUE(server);
    const uint16_t port = server->port();
    server.reset();
    const int fd = connect_loopback(port);
    EXPECT_LT(fd, 0);
    EXPECT_EQ(errno, ECONNREFUSED);
    if (fd >= 0) {
        ::close(fd);
    }
}

TEST(MetricsServer, PortOnlyListensOnEveryIpv4Address) {
    auto s = MetricsServer::start(":0");
    ASSERT_TRUE(s) << s.error().message;
    (*s)->publish("a 1\n");
    EXPECT_EQ(http((*s)->port(), "GET", "/metrics").body, "a 1\n");
}

TEST(MetricsServer, PortInUseSaysWhatAndWhere) {
    // Hold a listening socket on an ephemeral port, then ask for the same port.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof(sa);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    const std::string listen = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));

    testing::internal::CaptureStderr();
    auto s = MetricsServer::start(listen);
    const std::string err = testing::internal::GetCapturedStderr();
    ::close(fd);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "global.metrics_listen \"" + listen +
                                     "\": cannot serve /metrics: cannot bind to " + listen +
                                     ": 98 (Address already in use)");
    EXPECT_EQ(err, "") << "civetweb must not write to stderr";
}

TEST(MetricsServer, UnassignableAddressSaysWhy) {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never configured on a test machine.
    auto s = MetricsServer::start("192.0.2.1:9100");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message,
              "global.metrics_listen \"192.0.2.1:9100\": cannot serve /metrics: cannot bind to "
              "192.0.2.1:9100: 99 (Cannot assign requested address)");
}

TEST(MetricsServer, MalformedListenStringsAreRejectedBeforeCivetweb) {
    const std::string why =
        "not ADDRESS:PORT (e.g. 127.0.0.1:9100, [::1]:9100 or :9100 for every IPv4 address; "
        "port 0-65535)";
    for (const char* listen : {"x", "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                               "127.0.0.1:80x", "localhost:9100", "1.2.3:80", "[::1]",
                               "[::1]:", "[zz::1]:80", "[127.0.0.1]:80", "::1:9100", ":", ":-1"}) {
        auto s = MetricsServer::start(listen);
        ASSERT_FALSE(s) << listen;
        EXPECT_EQ(s.error().message,
                  "global.metrics_listen \"" + std::string(listen) + "\": " + why)
            << listen;
    }
    auto empty = MetricsServer::start("");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message,
              "global.metrics_listen \"\": empty: /metrics is disabled, nothing to start");
}

TEST(MetricsServer, Ipv6ListenNeedsAnIpv6Civetweb) {
    auto s = MetricsServer::start("[::1]:0");
    if (MetricsServer::supports_ipv6()) {
        // A civetweb built with IPv6 (not Debian 12's): the address must then work.
        ASSERT_TRUE(s) << s.error().message;
        EXPECT_NE((*s)->port(), 0);
        return;
    }
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message,
              "global.metrics_listen \"[::1]:0\": this libcivetweb was built without IPv6 "
              "support; listen on an IPv4 address (e.g. 127.0.0.1:9100 or :9100)");
}

TEST_F(MetricsServerHttp, RequestsDoNotWriteToStderr) {
    MetricsServer* server = shared_;
    server->publish("a 1\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(http(server->port(), "GET", "/nope").status, 404);
    EXPECT_EQ(http(server->port(), "GET", "/metrics").status, 200);
    // A client that connects and leaves without a request.
    const int fd = connect_loopback(server->port());
    if (fd >= 0) {
        ::close(fd);
    }
    EXPECT_EQ(http(server->port(), "GET", "/metrics").status, 200);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace director::metrics
