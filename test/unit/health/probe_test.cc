// SPDX-License-Identifier: BSD-3-Clause
// Real probes against loopback servers the tests create (port 0 listeners only): TCP_CHECK,
// HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK. Real clock, generous bounds.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include "servers.h"

namespace director::health {
namespace {

using namespace std::chrono_literals;
using namespace testing_support;

config::Check tcp_check(Duration timeout = 2s) {
    config::Check c;
    c.connect_timeout = timeout;
    return c;
}

config::Check http_check(std::vector<config::HttpUrl> urls, bool tls = false,
                         Duration timeout = 2s) {
    config::Check c;
    c.type = tls ? config::CheckType::SslGet : config::CheckType::HttpGet;
    c.url = std::move(urls);
    c.connect_timeout = timeout;
    return c;
}

config::HttpUrl url(std::string path, std::vector<config::StatusRange> codes = {{200, 299}},
                    std::string digest = {}) {
    config::HttpUrl u;
    u.path = std::move(path);
    u.status_code = std::move(codes);
    u.digest = std::move(digest);
    return u;
}

constexpr const char* kHelloMd5 = "5d41402abc4b2a76b9719d911017c592";  // md5("hello")

// ---- TCP_CHECK -----------------------------------------------------------------------------

TEST(HealthProbeTcp, ListeningSocketIsUp) {
    TcpListener l;
    const CheckSpec spec = spec_for(tcp_check(), l.port());
    const ProbeRun r = run_probe(spec);
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    EXPECT_LT(r.elapsed, 1s);
}

TEST(HealthProbeTcp, ClosedPortIsDownByConnectionRefused) {
    const ProbeRun r = run_probe(spec_for(tcp_check(), closed_port(SOCK_STREAM)));
    EXPECT_FALSE(r.result.ok);
    EXPECT_FALSE(r.result.timed_out);
    EXPECT_EQ(r.result.reason, "connect: Connection refused");
}

TEST(HealthProbeTcp, BlackholedConnectTimesOut) {
    // A listener that never accepts, with its accept queue full: SYNs are dropped.
    TcpListener l(0);
    l.fill_backlog();
    const ProbeRun r = run_probe(spec_for(tcp_check(300ms), l.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_TRUE(r.result.timed_out) << r.result.reason;
    EXPECT_GE(r.elapsed, 300ms);
    EXPECT_LT(r.elapsed, 3s);
}

TEST(HealthProbeTcp, ConnectIpPortAndBindOverridesAreUsed) {
    TcpListener l;
    config::Check c = tcp_check();
    c.connect_ip = *net::IpAddress::parse("127.0.0.1");
    c.connect_port = l.port();
    c.bindto = *net::IpAddress::parse("127.0.0.1");
    c.bind_port = closed_port(SOCK_STREAM);
    // The real server's own address is never contacted: connect_ip wins.
    const CheckSpec spec = spec_for(c, 1, "192.0.2.1");
    EXPECT_EQ(spec.display, "[127.0.0.1]:tcp:" + std::to_string(l.port()));
    const ProbeRun r = run_probe(spec);
    ASSERT_TRUE(r.result.ok) << r.result.reason;
    EXPECT_EQ(l.accept_peer_port(), c.bind_port);
}

// ---- HTTP_GET ------------------------------------------------------------------------------

TEST(HealthProbeHttp, StatusInRangeIsUpAndTheRequestIsKeepalivedS) {
    HttpServer srv;
    srv.answer("/healthz", {200, "ok"});
    const ProbeRun r = run_probe(spec_for(http_check({url("/healthz")}), srv.port()));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    ASSERT_EQ(srv.requests().size(), 1u);
    EXPECT_EQ(srv.requests()[0],
              "GET /healthz HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n"
              "Host: 127.0.0.1:" +
                  std::to_string(srv.port()) + "\r\n\r\n");
}

TEST(HealthProbeHttp, VirtualhostGoesIntoTheHostHeader) {
    HttpServer srv;
    srv.answer("/", {200, "ok"});
    config::Check c = http_check({url("/")});
    c.virtualhost = "www.example.com";
    ASSERT_TRUE(run_probe(spec_for(c, srv.port())).result.ok);
    c.url[0].virtualhost = "api.example.com";  // per-url virtualhost wins
    ASSERT_TRUE(run_probe(spec_for(c, srv.port())).result.ok);
    const auto reqs = srv.requests();
    ASSERT_EQ(reqs.size(), 2u);
    // keepalived: a virtualhost is sent as is, without the port.
    EXPECT_NE(reqs[0].find("\r\nHost: www.example.com\r\n"), std::string::npos);
    EXPECT_NE(reqs[1].find("\r\nHost: api.example.com\r\n"), std::string::npos);
}

TEST(HealthProbeHttp, StatusMismatchIsDown) {
    HttpServer srv;
    srv.answer("/", {500, "boom"});
    ProbeRun r = run_probe(spec_for(http_check({url("/")}), srv.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "status code 500 from url /");
    // The same answer passes when the url accepts 5xx.
    r = run_probe(spec_for(http_check({url("/", {{200, 200}, {500, 599}})}), srv.port()));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
}

TEST(HealthProbeHttp, DigestMatchAndMismatch) {
    HttpServer srv;
    srv.answer("/page", {200, "hello"});
    ProbeRun r =
        run_probe(spec_for(http_check({url("/page", {{200, 299}}, kHelloMd5)}), srv.port()));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    r = run_probe(spec_for(
        http_check({url("/page", {{200, 299}}, "00000000000000000000000000000000")}), srv.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, std::string("digest mismatch for url /page: ") + kHelloMd5);
}

TEST(HealthProbeHttp, DigestCoversALargeBody) {
    HttpServer srv;
    const std::string body(300000, 'z');  // several reads; streamed into MD5
    srv.answer("/big", {200, body});
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(body.data(), body.size(), md, &len, EVP_md5(), nullptr);
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        char b[3];
        std::snprintf(b, sizeof(b), "%02x", md[i]);
        hex += b;
    }
    const ProbeRun r =
        run_probe(spec_for(http_check({url("/big", {{200, 299}}, hex)}), srv.port()));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
}

TEST(HealthProbeHttp, EveryUrlMustPass) {
    HttpServer srv;
    srv.answer("/a", {200, "a"});
    srv.answer("/b", {200, "b"});
    EXPECT_TRUE(run_probe(spec_for(http_check({url("/a"), url("/b")}), srv.port())).result.ok);
    const ProbeRun r = run_probe(spec_for(http_check({url("/a"), url("/missing")}), srv.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "status code 404 from url /missing");
    EXPECT_EQ(srv.requests().size(), 4u);
}

TEST(HealthProbeHttp, SlowBodyBeyondConnectTimeoutIsDown) {
    HttpServer srv;
    srv.answer("/slow", {200, "late", 3000ms});
    const ProbeRun r = run_probe(spec_for(http_check({url("/slow")}, false, 400ms), srv.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_TRUE(r.result.timed_out);
    EXPECT_EQ(r.result.reason, "timeout reading url /slow");
    EXPECT_GE(r.elapsed, 400ms);
    EXPECT_LT(r.elapsed, 2500ms);
}

TEST(HealthProbeHttp, RefusedConnectionIsDown) {
    const ProbeRun r = run_probe(spec_for(http_check({url("/")}), closed_port(SOCK_STREAM)));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "connect: Connection refused");
}

// ---- SSL_GET -------------------------------------------------------------------------------

TEST(HealthProbeSsl, StatusAndDigestOverTlsWithoutVerification) {
    HttpServer srv(true);  // self-signed: keepalived does not verify, neither do we
    srv.answer("/tls", {200, "hello"});
    ProbeRun r =
        run_probe(spec_for(http_check({url("/tls", {{200, 299}}, kHelloMd5)}, true), srv.port()));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    srv.answer("/tls", {503, "hello"});
    r = run_probe(spec_for(http_check({url("/tls")}, true), srv.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "status code 503 from url /tls");
    ASSERT_EQ(srv.requests().size(), 2u);
    EXPECT_EQ(srv.requests()[0].rfind("GET /tls HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n", 0),
              0u);
}

TEST(HealthProbeSsl, SniOnlyWhenEnabled) {
    HttpServer srv(true);
    srv.answer("/", {200, "x"});
    config::Check c = http_check({url("/")}, true);
    c.virtualhost = "secure.example.com";
    ASSERT_TRUE(run_probe(spec_for(c, srv.port())).result.ok);
    c.enable_sni = true;
    ASSERT_TRUE(run_probe(spec_for(c, srv.port())).result.ok);
    EXPECT_EQ(srv.server_names(), (std::vector<std::string>{"", "secure.example.com"}));
}

TEST(HealthProbeSsl, ServerThatNeverSpeaksTlsTimesOut) {
    TcpListener silent;  // completes TCP handshakes, never answers the ClientHello
    const ProbeRun r = run_probe(spec_for(http_check({url("/")}, true, 300ms), silent.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_TRUE(r.result.timed_out);
    EXPECT_EQ(r.result.reason, "timeout in TLS handshake url /");
}

TEST(HealthProbeSsl, SlowBodyOverTlsIsDown) {
    HttpServer srv(true);
    srv.answer("/slow", {200, "late", 3000ms});
    const ProbeRun r = run_probe(spec_for(http_check({url("/slow")}, true, 500ms), srv.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_TRUE(r.result.timed_out);
}

// ---- MISC_CHECK ----------------------------------------------------------------------------

config::Check misc(std::string path, bool dynamic = false, Duration timeout = 5s) {
    config::Check c;
    c.type = config::CheckType::Misc;
    c.misc_path = std::move(path);
    c.misc_dynamic = dynamic;
    c.misc_timeout = timeout;
    return c;
}

TEST(HealthProbeMisc, ExitZeroIsUpExitOneIsDown) {
    ProbeRun r = run_probe(spec_for(misc("/bin/true"), 80));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    EXPECT_FALSE(r.result.weight);
    r = run_probe(spec_for(misc("/bin/false"), 80));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "exited with status 1");
}

TEST(HealthProbeMisc, DynamicExitCodeSetsWeightExitMinusTwo) {
    ProbeRun r = run_probe(spec_for(misc("sh -c 'exit 5'", true), 80));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    EXPECT_EQ(r.result.weight, std::optional<uint32_t>(3));
    r = run_probe(spec_for(misc("sh -c 'exit 2'", true), 80));
    EXPECT_EQ(r.result.weight, std::optional<uint32_t>(0));
    // Without misc_dynamic any non-zero status is a failure.
    r = run_probe(spec_for(misc("sh -c 'exit 5'", false), 80));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "exited with status 5");
}

TEST(HealthProbeMisc, SleepingScriptIsKilledAtMiscTimeout) {
    const ProbeRun r = run_probe(spec_for(misc("sh -c 'sleep 30'", false, 300ms), 80));
    EXPECT_FALSE(r.result.ok);
    EXPECT_TRUE(r.result.timed_out);
    EXPECT_EQ(r.result.reason, "timed out");
    EXPECT_GE(r.elapsed, 300ms);
    EXPECT_LT(r.elapsed, 3s);
}

TEST(HealthProbeMisc, MissingProgramIsDown) {
    const ProbeRun r = run_probe(spec_for(misc("/nonexistent/check-script"), 80));
    EXPECT_FALSE(r.result.ok);
}

// ---- UDP_CHECK -----------------------------------------------------------------------------

config::Check udp(std::string payload, std::optional<std::string> reply, Duration timeout = 2s) {
    config::Check c;
    c.type = config::CheckType::Udp;
    c.payload = std::move(payload);
    c.require_reply = std::move(reply);
    c.connect_timeout = timeout;
    return c;
}

TEST(HealthProbeUdp, EchoReplyIsUpAtOnce) {
    UdpServer echo(UdpServer::Mode::Echo);
    const ProbeRun r = run_probe(spec_for(udp("", std::nullopt), echo.port()));
    EXPECT_TRUE(r.result.ok) << r.result.reason;
    EXPECT_LT(r.elapsed, 1s);
    EXPECT_EQ(echo.received(), 1);
}

TEST(HealthProbeUdp, SilenceWithoutRequireReplyIsUpAtTheTimeout) {
    UdpServer quiet(UdpServer::Mode::Silent);
    const ProbeRun r = run_probe(spec_for(udp("01", std::nullopt, 300ms), quiet.port()));
    EXPECT_TRUE(r.result.ok);
    EXPECT_EQ(r.result.reason, "no ICMP error");
    EXPECT_GE(r.elapsed, 300ms);
}

TEST(HealthProbeUdp, ClosedPortIsDownByIcmpUnreachable) {
    const ProbeRun r = run_probe(spec_for(udp("01", std::nullopt), closed_port(SOCK_DGRAM)));
    EXPECT_FALSE(r.result.ok);
    EXPECT_FALSE(r.result.timed_out);
    EXPECT_EQ(r.result.reason, "port unreachable");
    EXPECT_LT(r.elapsed, 1s);
}

TEST(HealthProbeUdp, RequireReplyMatchesThePrefix) {
    UdpServer echo(UdpServer::Mode::Echo);
    EXPECT_TRUE(run_probe(spec_for(udp("0a0b0c", "0a0b"), echo.port())).result.ok);
    EXPECT_TRUE(run_probe(spec_for(udp("0a0b0c", "0aXb"), echo.port())).result.ok);  // wildcard
    EXPECT_FALSE(run_probe(spec_for(udp("0a0b0c", "0aXc"), echo.port())).result.ok);
    const ProbeRun r = run_probe(spec_for(udp("0a0b0c", "ff"), echo.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_EQ(r.result.reason, "reply data mismatch");
}

TEST(HealthProbeUdp, RequireReplyChecksLengthBounds) {
    UdpServer fixed(UdpServer::Mode::Fixed, {1, 2, 3});
    config::Check c = udp("00", "");
    EXPECT_TRUE(run_probe(spec_for(c, fixed.port())).result.ok);  // "" = any reply
    c.min_reply_length = 4;
    EXPECT_FALSE(run_probe(spec_for(c, fixed.port())).result.ok);
    c.min_reply_length = 0;
    c.max_reply_length = 2;
    EXPECT_FALSE(run_probe(spec_for(c, fixed.port())).result.ok);
}

TEST(HealthProbeUdp, RequireReplyWithSilenceIsDownAtTheTimeout) {
    UdpServer quiet(UdpServer::Mode::Silent);
    const ProbeRun r = run_probe(spec_for(udp("01", "01", 300ms), quiet.port()));
    EXPECT_FALSE(r.result.ok);
    EXPECT_TRUE(r.result.timed_out);
    EXPECT_EQ(r.result.reason, "no reply");
}

}  // namespace
}  // namespace director::health
