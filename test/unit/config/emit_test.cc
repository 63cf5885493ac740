// SPDX-License-Identifier: BSD-3-Clause
// Tests of the YAML emitter (lib/config/emit.cc). The property that matters is
// load_string(to_yaml(c)) == c; the other tests pin the parts of the text people read:
// units, quoting, key order, one check as a map.
#include "config/emit.h"

#include <gtest/gtest.h>

#include "config_md_example.h"

#include <string>
#include <string_view>

#include "config/load.h"

namespace director::config {
namespace {

using namespace std::chrono_literals;

const std::string kRoot = DIRECTOR_SOURCE_ROOT;

std::string join(const ConfigErrors& errors) {
    std::string out;
    for (const ConfigError& e : errors) {
        out += e.to_string() + "\n";
    }
    return out;
}

net::IpAddress ip(std::string_view t) { return *net::IpAddress::parse(t); }
net::Prefix prefix(std::string_view t) { return *net::Prefix::parse(t); }

/** Emits, loads back and expects the same Config. */
void expect_round_trip(const Config& c) {
    const std::string yaml = to_yaml(c);
    auto back = load_string(yaml, "emitted.yaml");
    ASSERT_TRUE(back.has_value()) << join(back.error()) << yaml;
    EXPECT_EQ(*back, c) << yaml;
}

/** A Config in which every field differs from its default (within what validates). */
Config everything() {
    Config c;
    c.global = Global{.router_id = "1111",  // looks like a number: must stay a string
                      .control_socket = "/run/director/test.sock",
                      .metrics_listen = "",
                      .log_level = LogLevel::Debug,
                      .notify = "/etc/director/notify.sh \"all\" # events"};
    c.dpdk = Dpdk{.control_lcore = 2,
                  .worker_lcores = {3, 5},
                  .hugepages = false,
                  .memory_mb = 1024,
                  .file_prefix = "d-test",
                  .idle_sleep_us = 100,
                  .eal_args = {"--no-pci", "--vdev=net_ring0", "yes"}};
    c.tables = Tables{.connections = 4096, .persistence = 1024};
    c.timeouts = Timeouts{.tcp = 7200s, .tcp_fin = 61s, .tcp_syn = 1s, .udp = 3600s};
    c.forwarding = Forwarding{
        .sloppy_tcp = false, .expire_nodest_conn = false, .expire_quiescent_template = true};
    c.ports = {
        Port{.name = "lan0",
             .device = "0000:01:00.0",
             .profile = "mlx5",
             .address = prefix("10.99.0.120/24"),
             .gateway = ip("10.99.0.1"),
             .exception_tap = "dir0"},
        Port{.name = "wan:1",
             .device = "net_af_packet1,iface=veth1",
             .profile = "auto",
             .address = prefix("2001:db8::120/64"),
             .gateway = std::nullopt,
             .exception_tap = ""},
    };

    VrrpInstance v4;
    v4.name = "VI_1";
    v4.interface = "lan0";
    v4.state = VrrpState::Master;
    v4.virtual_router_id = 62;
    v4.priority = 200;
    v4.advert_int = 2s;
    v4.version = 2;
    v4.preempt = false;
    v4.preempt_delay = 1500ms;
    v4.authentication = Authentication{AuthType::Ah, "00000042"};
    v4.virtual_ipaddress = {{prefix("10.99.0.252"), "", ""},
                            {prefix("10.99.0.253/24"), "wan:1", "lan0: vip"}};
    v4.unicast_src_ip = ip("10.99.0.120");
    v4.unicast_peers = {ip("10.99.0.123"), ip("10.99.0.124")};
    v4.garp_master_delay = 0s;
    v4.garp_master_repeat = 1;
    v4.garp_master_refresh = 60s;
    v4.track_ports = {"wan:1"};
    v4.v3_checksum_as_v2 = true;
    v4.notify_master = "/bin/m";
    v4.notify_backup = "/bin/b x";
    v4.notify_fault = "'/bin/f'";
    v4.notify_stop = "true";
    v4.notify = "/bin/all";

    VrrpInstance v6;
    v6.name = "VI_6";
    v6.interface = "wan:1";
    v6.virtual_router_id = 62;
    v6.version = 3;
    v6.advert_int = 10ms;
    v6.virtual_ipaddress = {{prefix("fe80::1/64"), "", ""}, {prefix("::ffff:1.2.3.4"), "", ""}};
    c.vrrp_instances = {v4, v6};
    c.vrrp_sync_groups = {VrrpSyncGroup{.name = "G1",
                                        .group = {"VI_1", "VI_6"},
                                        .notify_master = "/bin/gm",
                                        .notify_backup = "/bin/gb",
                                        .notify_fault = "/bin/gf",
                                        .notify = "/bin/g"}};

    VirtualServer web;
    web.address = ip("10.99.0.252");
    web.port = 80;
    web.protocol = Protocol::Tcp;
    web.lb_algo = LbAlgo::Mh;
    web.lb_kind = LbKind::Dr;
    web.delay_loop = 3s;
    web.persistence_timeout = 50s;
    web.persistence_granularity = 24;
    web.quorum = 2;
    web.hysteresis = 1;
    web.quorum_up = "/bin/up";
    web.quorum_down = "/bin/down";
    web.sorry_server = SorryServer{ip("10.99.0.99"), 80};
    web.inhibit_on_failure = true;
    web.alpha = true;

    RealServer r1;
    r1.address = ip("10.99.0.142");
    r1.port = 80;
    r1.weight = 0;
    r1.mac = net::MacAddress::parse("02:00:00:00:00:01");
    r1.inhibit_on_failure = false;
    r1.notify_up = "/bin/rs up";
    r1.notify_down = "/bin/rs down";
    Check tcp;
    tcp.type = CheckType::Tcp;
    tcp.connect_timeout = 10s;
    tcp.retry = 3;
    tcp.delay_before_retry = 3s;
    tcp.delay_loop = 7s;
    tcp.connect_ip = ip("10.99.0.143");
    tcp.connect_port = 8080;
    tcp.bindto = ip("10.99.0.120");
    tcp.bind_port = 40000;
    r1.checks = {tcp};

    RealServer r2;
    r2.address = ip("10.99.0.173");
    r2.port = 80;
    r2.weight = 65535;
    Check http;
    http.type = CheckType::HttpGet;
    http.url = {
        HttpUrl{.path = "/healthz", .status_code = {{200, 200}}, .digest = "", .virtualhost = ""},
        HttpUrl{.path = "/a b?c=#d",
                .status_code = {{200, 299}, {404, 404}},
                .digest = "0123456789abcdef0123456789abcdef",
                .virtualhost = "a.example.com"}};
    http.virtualhost = "www.example.com";
    http.retry = 0;
    http.delay_before_retry = 1500us;
    http.connect_timeout = 150ms;
    Check ssl;
    ssl.type = CheckType::SslGet;
    ssl.url = {HttpUrl{.path = "/",
                       .status_code = {{200, 299}},
                       .digest = "11111111111111111111111111111111",
                       .virtualhost = ""}};
    ssl.enable_sni = true;
    Check misc;
    misc.type = CheckType::Misc;
    misc.misc_path = "/usr/bin/check 'x y'";
    misc.misc_timeout = 250ms;
    misc.misc_dynamic = true;
    misc.retry = 2;
    Check udp;
    udp.type = CheckType::Udp;
    udp.payload = "0123";
    udp.require_reply = "";
    udp.min_reply_length = 1;
    udp.max_reply_length = 200;
    Check udp2;
    udp2.type = CheckType::Udp;
    udp2.require_reply = "12XX";
    r2.checks = {http, ssl, misc, udp, udp2};
    web.real_servers = {r1, r2};

    VirtualServer v6vs;
    v6vs.address = ip("2001:db8::252");
    v6vs.port = 0;
    v6vs.protocol = Protocol::Udp;
    v6vs.persistence_timeout = 360s;
    v6vs.persistence_granularity = 64;
    RealServer r6;
    r6.address = ip("2001:db8::1");
    r6.port = 0;
    v6vs.real_servers = {r6};

    VirtualServer empty;
    empty.address = ip("10.99.0.253");
    empty.port = 443;
    c.virtual_servers = {web, v6vs, empty};
    return c;
}

TEST(Emit, EveryFieldRoundTrips) {
    const Config c = everything();
    // The Config must itself be valid, or the round trip proves nothing.
    expect_round_trip(c);
}

TEST(Emit, DefaultsRoundTrip) {
    Config c;
    Port p;
    p.name = "p0";
    p.device = "net_null0";
    c.ports = {p};
    expect_round_trip(c);
}



TEST(Emit, ConfigMdExampleRoundTrips) {
    auto c = load_string(config_md_example(), "CONFIG.md");
    ASSERT_TRUE(c.has_value()) << join(c.error());
    expect_round_trip(*c);
}

TEST(Emit, Ds1RoundTrips) {
    auto c = load_file(kRoot + "/config/ds1.yaml");
    ASSERT_TRUE(c.has_value()) << join(c.error());
    expect_round_trip(*c);
}

TEST(Emit, DurationsUseTheLargestExactUnit) {
    const std::string yaml = to_yaml(everything());
    EXPECT_NE(yaml.find("delay_before_retry: 1500us\n"), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("connect_timeout: 150ms\n"), std::string::npos);
    EXPECT_NE(yaml.find("  tcp_fin: 61s\n"), std::string::npos);
    EXPECT_NE(yaml.find("  udp: 3600s\n"), std::string::npos);  // not 1h: ipvsadm's unit
    EXPECT_NE(yaml.find("    preempt_delay: 1500ms\n"), std::string::npos);
    EXPECT_NE(yaml.find("    advert_int: 10ms\n"), std::string::npos);
    EXPECT_NE(yaml.find("    garp_master_delay: 0s\n"), std::string::npos);
}

TEST(Emit, StringsThatYamlWouldMisreadAreQuoted) {
    const std::string yaml = to_yaml(everything());
    EXPECT_NE(yaml.find("router_id: \"1111\"\n"), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("pass: \"00000042\""), std::string::npos);
    EXPECT_NE(yaml.find("metrics_listen: \"\"\n"), std::string::npos);
    EXPECT_NE(yaml.find("notify_stop: \"true\"\n"), std::string::npos);
    EXPECT_NE(yaml.find("eal_args: [\"--no-pci\", \"--vdev=net_ring0\", \"yes\"]"),
              std::string::npos);
    EXPECT_NE(yaml.find("notify: \"/etc/director/notify.sh \\\"all\\\" # events\"\n"),
              std::string::npos);
    // Addresses are not numbers and stay readable.
    EXPECT_NE(yaml.find("  - address: 10.99.0.252\n"), std::string::npos);
}

TEST(Emit, GranularityIsADottedMaskForIpv4AndALengthForIpv6) {
    const std::string yaml = to_yaml(everything());
    EXPECT_NE(yaml.find("persistence_granularity: 255.255.255.0\n"), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("persistence_granularity: 64\n"), std::string::npos);
}

TEST(Emit, OneCheckIsAMapSeveralAreAList) {
    const std::string yaml = to_yaml(everything());
    EXPECT_NE(yaml.find("        check:\n          type: TCP_CHECK\n"), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("        check:\n          - type: HTTP_GET\n"), std::string::npos);
    EXPECT_NE(yaml.find("            url:\n              - path: /healthz\n"), std::string::npos);
    EXPECT_NE(yaml.find("            url:\n              path: /\n"), std::string::npos);
}

TEST(Emit, OptionalFieldsAreOmittedWhenUnset) {
    Config c;
    Port p;
    p.name = "p0";
    p.device = "net_null0";
    c.ports = {p};
    VrrpInstance v;
    v.name = "VI";
    v.interface = "p0";
    v.virtual_router_id = 1;
    v.virtual_ipaddress = {{prefix("192.0.2.1"), "", ""}};
    c.vrrp_instances = {v};
    const std::string yaml = to_yaml(c);
    for (const char* key : {"notify", "authentication", "unicast_src_ip", "gateway",
                            " address:", "sorry_server", "quorum_up"}) {
        EXPECT_EQ(yaml.find(key), std::string::npos) << key << "\n" << yaml;
    }
    EXPECT_NE(yaml.find("virtual_ipaddress: [192.0.2.1]"), std::string::npos) << yaml;
}

TEST(Emit, KeysFollowConfigMdOrder) {
    const std::string yaml = to_yaml(everything());
    const char* order[] = {"global:",
                           "dpdk:",
                           "tables:",
                           "timeouts:",
                           "forwarding:",
                           "ports:",
                           "vrrp_instances:",
                           "vrrp_sync_groups:",
                           "virtual_servers:",
                           "    port: 80\n",
                           "    protocol:",
                           "    lb_algo:",
                           "    lb_kind:",
                           "    delay_loop:",
                           "    persistence_timeout:",
                           "    real_servers:"};
    size_t at = 0;
    for (const char* key : order) {
        const size_t found = yaml.find(key, at);
        ASSERT_NE(found, std::string::npos) << key << " out of order\n" << yaml;
        at = found;
    }
}

}  // namespace
}  // namespace director::config
