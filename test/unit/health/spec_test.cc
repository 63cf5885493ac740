// SPDX-License-Identifier: BSD-3-Clause
// Configuration → checker specs: keepalived's inheritance and defaults.
#include "health/spec.h"

#include <gtest/gtest.h>

namespace director::health {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }

config::VirtualServer vs_with(config::Check check) {
    config::VirtualServer vs;
    vs.address = ip("10.0.0.100");
    vs.port = 80;
    vs.delay_loop = 7s;
    config::RealServer rs;
    rs.address = ip("10.0.0.1");
    rs.port = 8080;
    rs.checks.push_back(std::move(check));
    vs.real_servers.push_back(rs);
    return vs;
}

TEST(HealthSpec, TrioFormatIsKeepalivedsSockaddrToTrio) {
    EXPECT_EQ(format_trio(ip("10.1.2.3"), config::Protocol::Tcp, 80), "[10.1.2.3]:tcp:80");
    EXPECT_EQ(format_trio(ip("2001:db8::1"), config::Protocol::Udp, 53), "[2001:db8::1]:udp:53");
}

TEST(HealthSpec, TimingIsInheritedFromTheVirtualServer) {
    config::Check c;
    c.retry = 4;
    c.delay_before_retry = 3s;
    config::VirtualServer vs = vs_with(c);
    vs.alpha = true;
    auto s = resolve_check(vs, vs.real_servers[0], c, 0);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->timing.delay_loop, 7s);
    EXPECT_EQ(s->timing.warmup, 7s);  // keepalived: warmup defaults to delay_loop
    EXPECT_EQ(s->timing.retry, 4u);
    EXPECT_EQ(s->timing.delay_before_retry, 3s);
    EXPECT_TRUE(s->timing.alpha);
    EXPECT_EQ(s->connect_timeout, config::kDefaultConnectTimeout);

    c.delay_loop = 2s;
    s = resolve_check(vs, vs.real_servers[0], c, 0);
    EXPECT_EQ(s->timing.delay_loop, 2s);
}

TEST(HealthSpec, ConnectTargetDefaultsToTheRealServer) {
    config::Check c;
    config::VirtualServer vs = vs_with(c);
    auto s = resolve_check(vs, vs.real_servers[0], c, 0);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->address, ip("10.0.0.1"));
    EXPECT_EQ(s->port, 8080);
    EXPECT_EQ(s->display, "[10.0.0.1]:tcp:8080");

    c.connect_ip = ip("10.9.9.9");
    c.connect_port = 9000;
    c.bindto = ip("10.0.0.250");
    c.bind_port = 5555;
    s = resolve_check(vs, vs.real_servers[0], c, 0);
    EXPECT_EQ(s->address, ip("10.9.9.9"));
    EXPECT_EQ(s->port, 9000);
    EXPECT_EQ(s->bindto, ip("10.0.0.250"));
    EXPECT_EQ(s->bind_port, std::optional<uint16_t>(5555));
    EXPECT_EQ(s->display, "[10.9.9.9]:tcp:9000");

    vs.real_servers[0].port = 0;  // DR: the real server listens on the service port
    c.connect_port.reset();
    s = resolve_check(vs, vs.real_servers[0], c, 0);
    EXPECT_EQ(s->port, 80);

    vs.port = 0;
    EXPECT_FALSE(resolve_check(vs, vs.real_servers[0], c, 0));  // nothing to connect to
    c.bindto = ip("2001:db8::1");
    c.connect_port = 1;
    EXPECT_FALSE(resolve_check(vs, vs.real_servers[0], c, 0));  // family mismatch
}

TEST(HealthSpec, MiscCheckSplitsItsScriptAndDefaultsTimeoutToDelayLoop) {
    config::Check c;
    c.type = config::CheckType::Misc;
    c.misc_path = "/usr/bin/check 'a b' c";
    c.misc_dynamic = true;
    config::VirtualServer vs = vs_with(c);
    auto s = resolve_check(vs, vs.real_servers[0], c, 0);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->misc_argv, (std::vector<std::string>{"/usr/bin/check", "a b", "c"}));
    EXPECT_EQ(s->misc_timeout, 7s);
    EXPECT_TRUE(s->misc_dynamic);
    c.misc_timeout = 1s;
    EXPECT_EQ(resolve_check(vs, vs.real_servers[0], c, 0)->misc_timeout, 1s);
    c.misc_path = "/bin/x 'unterminated";
    auto bad = resolve_check(vs, vs.real_servers[0], c, 0);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("misc_path"), std::string::npos);
    EXPECT_NE(bad.error().message.find("[10.0.0.1]:tcp:8080"), std::string::npos);
}

TEST(HealthSpec, UdpPayloadAndReplyPatternAreDecoded) {
    config::Check c;
    c.type = config::CheckType::Udp;
    c.payload = "0a0B";
    c.require_reply = "ffX1";
    c.min_reply_length = 2;
    config::VirtualServer vs = vs_with(c);
    auto s = resolve_check(vs, vs.real_servers[0], c, 0);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->payload, (std::vector<uint8_t>{0x0a, 0x0b}));
    EXPECT_TRUE(s->require_reply);
    EXPECT_EQ(s->reply, (std::vector<uint8_t>{0xff, 0x01}));
    EXPECT_EQ(s->reply_mask, (std::vector<uint8_t>{0xff, 0x0f}));
    EXPECT_EQ(s->min_reply_length, 2u);
    EXPECT_FALSE(parse_hex("abc"));
    EXPECT_FALSE(parse_hex("zz"));
    EXPECT_FALSE(parse_hex("xx"));  // wildcards only where allowed
}

TEST(HealthSpec, HttpCheckGetsTheDefaultUrlWhenNoneIsConfigured) {
    config::Check c;
    c.type = config::CheckType::HttpGet;
    config::VirtualServer vs = vs_with(c);
    auto s = resolve_check(vs, vs.real_servers[0], c, 0);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->urls.size(), 1u);
    EXPECT_EQ(s->urls[0].path, "/");
}

TEST(HealthSpec, SameProbeIgnoresTimingOnly) {
    config::Check c;
    config::VirtualServer vs = vs_with(c);
    auto a = *resolve_check(vs, vs.real_servers[0], c, 0);
    config::Check c2 = c;
    c2.retry = 9;
    c2.delay_loop = 1s;
    auto b = *resolve_check(vs, vs.real_servers[0], c2, 0);
    EXPECT_TRUE(same_probe(a, b));
    c2.connect_port = 1;
    EXPECT_FALSE(same_probe(a, *resolve_check(vs, vs.real_servers[0], c2, 0)));
    // Identity hashes differ between checkers of one server, so their offsets differ.
    EXPECT_NE(a.key, resolve_check(vs, vs.real_servers[0], c, 1)->key);
}

TEST(HealthSpec, ServiceQuorumIsCappedAndScriptsAreSplit) {
    config::VirtualServer vs = vs_with(config::Check{});
    vs.real_servers.push_back(vs.real_servers[0]);
    vs.real_servers[1].address = ip("10.0.0.2");
    vs.real_servers[1].weight = 3;
    vs.real_servers[1].inhibit_on_failure = true;
    vs.real_servers[0].notify_up = "/bin/up \"x y\"";
    vs.quorum = 10;
    vs.hysteresis = 20;
    vs.quorum_down = "/bin/qd";
    vs.sorry_server = config::SorryServer{ip("10.0.0.9"), 0};
    auto s = resolve_service(vs);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->display, "[10.0.0.100]:tcp:80");
    EXPECT_EQ(s->quorum, 4u);      // capped to the total weight 1 + 3
    EXPECT_EQ(s->hysteresis, 3u);  // kept below quorum
    EXPECT_EQ(s->reals[0].notify_up, (std::vector<std::string>{"/bin/up", "x y"}));
    EXPECT_FALSE(s->reals[0].inhibit);
    EXPECT_TRUE(s->reals[1].inhibit);
    EXPECT_EQ(s->reals[1].display, "[10.0.0.2]:tcp:8080");
    EXPECT_EQ(s->quorum_down, (std::vector<std::string>{"/bin/qd"}));
    EXPECT_EQ(s->sorry_display, "[10.0.0.9]:tcp:80");

    vs.inhibit_on_failure = true;
    EXPECT_TRUE(resolve_service(vs)->reals[0].inhibit);  // VS default, RS may override
    vs.real_servers[1].inhibit_on_failure = false;
    EXPECT_FALSE(resolve_service(vs)->reals[1].inhibit);
    vs.quorum_up = "'oops";
    EXPECT_FALSE(resolve_service(vs));
}

}  // namespace
}  // namespace director::health
