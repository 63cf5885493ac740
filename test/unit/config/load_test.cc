// SPDX-License-Identifier: BSD-3-Clause
// Tests of the director.yaml loader (lib/config/load.cc), in the style of Seastar's
// net_config_test: YAML text in, Config fields or positioned errors out. Every invalid case
// asserts the exact line (and column where the node is known) and part of the message.
#include "config/load.h"

#include <gtest/gtest.h>

#include "config_md_example.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace director::config {
namespace {

using namespace std::chrono_literals;

/** Raw strings start with a newline for readability; YAML line 1 is the line after it. */
std::string yaml(std::string_view text) {
    if (!text.empty() && text.front() == '\n') {
        text.remove_prefix(1);
    }
    return std::string(text);
}

std::string join(const ConfigErrors& errors) {
    std::string out;
    for (const ConfigError& e : errors) {
        out += e.to_string() + "\n";
    }
    return out;
}

Config load_ok(std::string_view text) {
    auto r = load_string(yaml(text), "t.yaml");
    if (!r) {
        ADD_FAILURE() << "unexpected errors:\n" << join(r.error());
        return Config{};
    }
    return *r;
}

ConfigErrors load_errors(std::string_view text) {
    auto r = load_string(yaml(text), "t.yaml");
    if (r) {
        ADD_FAILURE() << "loaded, but errors were expected:\n" << text;
        return {};
    }
    return r.error();
}

net::IpAddress ip(std::string_view text) { return *net::IpAddress::parse(text); }

// ---- the contract's example -----------------------------------------------------------------



TEST(LoadConfig, ConfigMdExampleLoadsWithItsValues) {
    const Config c = load_ok(config_md_example());

    EXPECT_EQ(c.global.router_id, "LVS_DEVEL");
    EXPECT_EQ(c.global.control_socket, "/run/director/director.sock");
    EXPECT_EQ(c.global.metrics_listen, "127.0.0.1:9100");
    EXPECT_EQ(c.global.log_level, LogLevel::Info);
    EXPECT_EQ(c.global.notify, "/etc/director/notify.sh");

    EXPECT_EQ(c.dpdk.control_lcore, 0u);
    EXPECT_EQ(c.dpdk.worker_lcores, std::vector<uint32_t>{1});
    EXPECT_TRUE(c.dpdk.hugepages);
    EXPECT_EQ(c.dpdk.memory_mb, 512u);
    EXPECT_EQ(c.dpdk.file_prefix, "director");
    EXPECT_EQ(c.dpdk.idle_sleep_us, 0u);
    EXPECT_TRUE(c.dpdk.eal_args.empty());

    EXPECT_EQ(c.tables.connections, 1048576u);
    EXPECT_EQ(c.tables.persistence, 262144u);
    EXPECT_EQ(c.timeouts.tcp, 900s);
    EXPECT_EQ(c.timeouts.tcp_fin, 120s);
    EXPECT_EQ(c.timeouts.tcp_syn, 60s);
    EXPECT_EQ(c.timeouts.udp, 300s);

    ASSERT_EQ(c.ports.size(), 1u);
    const Port& port = c.ports[0];
    EXPECT_EQ(port.name, "lan0");
    EXPECT_EQ(port.device, "0000:01:00.0");
    EXPECT_EQ(port.profile, "auto");
    EXPECT_EQ(port.address, net::Prefix::parse("172.17.13.120/24"));
    EXPECT_EQ(port.gateway, ip("172.17.13.1"));
    EXPECT_EQ(port.exception_tap, "dir0");

    ASSERT_EQ(c.vrrp_instances.size(), 1u);
    const VrrpInstance& v = c.vrrp_instances[0];
    EXPECT_EQ(v.name, "VI_1");
    EXPECT_EQ(v.interface, "lan0");
    EXPECT_EQ(v.state, VrrpState::Master);
    EXPECT_EQ(v.virtual_router_id, 62);
    EXPECT_EQ(v.priority, 200);
    EXPECT_EQ(v.advert_int, 1s);
    EXPECT_EQ(v.version, 2);
    EXPECT_TRUE(v.preempt);
    EXPECT_EQ(v.preempt_delay, 0s);
    ASSERT_TRUE(v.authentication.has_value());
    EXPECT_EQ(v.authentication->type, AuthType::Pass);
    EXPECT_EQ(v.authentication->pass, "1111");
    ASSERT_EQ(v.virtual_ipaddress.size(), 1u);
    EXPECT_EQ(v.virtual_ipaddress[0].address, net::Prefix::parse("172.17.13.252/32"));
    EXPECT_EQ(v.virtual_ipaddress[0].dev, "");
    EXPECT_FALSE(v.unicast_src_ip.has_value());
    EXPECT_TRUE(v.unicast_peers.empty());
    EXPECT_EQ(v.garp_master_delay, 5s);
    EXPECT_EQ(v.garp_master_repeat, 5u);
    EXPECT_EQ(v.garp_master_refresh, 0s);
    EXPECT_TRUE(v.track_ports.empty());
    EXPECT_FALSE(v.notify_master.has_value());

    ASSERT_EQ(c.vrrp_sync_groups.size(), 1u);
    EXPECT_EQ(c.vrrp_sync_groups[0].name, "G1");
    EXPECT_EQ(c.vrrp_sync_groups[0].group, std::vector<std::string>{"VI_1"});

    ASSERT_EQ(c.virtual_servers.size(), 1u);
    const VirtualServer& vs = c.virtual_servers[0];
    EXPECT_EQ(vs.address, ip("172.17.13.252"));
    EXPECT_EQ(vs.port, 80);
    EXPECT_EQ(vs.protocol, Protocol::Tcp);
    EXPECT_EQ(vs.lb_algo, LbAlgo::Rr);
    EXPECT_EQ(vs.lb_kind, LbKind::Dr);
    EXPECT_EQ(vs.delay_loop, 3s);
    EXPECT_EQ(vs.persistence_timeout, 50s);
    EXPECT_EQ(vs.persistence_granularity, 32);
    EXPECT_EQ(vs.quorum, 1u);
    EXPECT_FALSE(vs.sorry_server.has_value());
    EXPECT_FALSE(vs.inhibit_on_failure);
    ASSERT_EQ(vs.real_servers.size(), 2u);

    const RealServer& rs0 = vs.real_servers[0];
    EXPECT_EQ(rs0.address, ip("172.17.13.173"));
    EXPECT_EQ(rs0.port, 80);
    EXPECT_EQ(rs0.weight, 1u);
    ASSERT_EQ(rs0.checks.size(), 1u);
    EXPECT_EQ(rs0.checks[0].type, CheckType::Tcp);
    EXPECT_EQ(rs0.checks[0].connect_timeout, 10s);
    EXPECT_EQ(rs0.checks[0].retry, 3u);
    EXPECT_EQ(rs0.checks[0].delay_before_retry, 3s);
    EXPECT_EQ(rs0.checks[0].connect_port, 80);

    const RealServer& rs1 = vs.real_servers[1];
    EXPECT_EQ(rs1.address, ip("172.17.13.142"));
    ASSERT_EQ(rs1.checks.size(), 1u);
    const Check& http = rs1.checks[0];
    EXPECT_EQ(http.type, CheckType::HttpGet);
    ASSERT_EQ(http.url.size(), 1u);
    EXPECT_EQ(http.url[0].path, "/healthz");
    EXPECT_EQ(http.url[0].status_code, (std::vector<StatusRange>{{200, 200}}));
    EXPECT_EQ(http.connect_timeout, 3s);
    EXPECT_EQ(http.retry, 3u);
    EXPECT_EQ(http.delay_before_retry, 1s);
    EXPECT_FALSE(http.connect_port.has_value());
}

TEST(LoadConfig, ExampleFileEqualsTheContractExample) {
    auto file = load_file(DIRECTOR_SOURCE_ROOT "/config/example.yaml");
    ASSERT_TRUE(file) << join(file.error());
    EXPECT_EQ(*file, load_ok(config_md_example()));
}

TEST(LoadConfig, ShippedConfigsLoadWithoutErrors) {
    for (const char* name : {"ds1.yaml", "ds2.yaml", "example.yaml"}) {
        auto r = load_file(std::string(DIRECTOR_SOURCE_ROOT "/config/") + name);
        EXPECT_TRUE(r) << name << ":\n" << (r ? "" : join(r.error()));
    }
}

TEST(LoadConfig, Ds1IsTheMasterAndDs2TheBackup) {
    auto ds1 = load_file(DIRECTOR_SOURCE_ROOT "/config/ds1.yaml");
    auto ds2 = load_file(DIRECTOR_SOURCE_ROOT "/config/ds2.yaml");
    ASSERT_TRUE(ds1 && ds2);
    EXPECT_EQ(ds1->vrrp_instances.at(0).state, VrrpState::Master);
    EXPECT_EQ(ds2->vrrp_instances.at(0).state, VrrpState::Backup);
    EXPECT_GT(ds1->vrrp_instances[0].priority, ds2->vrrp_instances[0].priority);
    EXPECT_EQ(ds1->virtual_servers, ds2->virtual_servers);
}

// ---- defaults -------------------------------------------------------------------------------

TEST(LoadConfig, AbsentKeysTakeTheNamedDefaults) {
    const Config c = load_ok(R"(
ports:
  - name: lan0
    device: net_null0
vrrp_instances:
  - name: VI_1
    interface: lan0
    virtual_router_id: 7
    virtual_ipaddress: [10.0.0.100]
virtual_servers:
  - address: 10.0.0.100
    port: 80
    real_servers:
      - address: 10.0.0.11
        check: { type: TCP_CHECK }
      - address: 10.0.0.12
        check: { type: HTTP_GET, url: { path: / } }
      - address: 10.0.0.13
        check: { type: MISC_CHECK, misc_path: /bin/true }
)");
    EXPECT_EQ(c.global, Global{});
    EXPECT_EQ(c.dpdk, Dpdk{});
    EXPECT_EQ(c.tables.connections, kDefaultConnections);
    EXPECT_EQ(c.tables.persistence, kDefaultPersistence);
    EXPECT_EQ(c.timeouts.tcp, kDefaultTcpTimeout);
    EXPECT_EQ(c.timeouts.tcp_fin, kDefaultTcpFinTimeout);
    EXPECT_EQ(c.timeouts.tcp_syn, kDefaultTcpSynTimeout);
    EXPECT_EQ(c.timeouts.udp, kDefaultUdpTimeout);
    EXPECT_EQ(c.forwarding, Forwarding{});
    EXPECT_EQ(c.ports.at(0).profile, "auto");
    EXPECT_FALSE(c.ports[0].address.has_value());

    const VrrpInstance& v = c.vrrp_instances.at(0);
    EXPECT_EQ(v.state, VrrpState::Backup);
    EXPECT_EQ(v.priority, kDefaultPriority);
    EXPECT_EQ(v.advert_int, kDefaultAdvertInt);
    EXPECT_EQ(v.version, 2);
    EXPECT_TRUE(v.preempt);
    EXPECT_EQ(v.garp_master_delay, kDefaultGarpMasterDelay);
    EXPECT_EQ(v.garp_master_repeat, kDefaultGarpMasterRepeat);
    EXPECT_FALSE(v.authentication.has_value());

    const VirtualServer& vs = c.virtual_servers.at(0);
    EXPECT_EQ(vs.protocol, Protocol::Tcp);
    EXPECT_EQ(vs.lb_algo, LbAlgo::Wlc);
    EXPECT_EQ(vs.lb_kind, LbKind::Dr);
    EXPECT_EQ(vs.delay_loop, kDefaultDelayLoop);
    EXPECT_EQ(vs.persistence_timeout, 0s);
    EXPECT_EQ(vs.persistence_granularity, 32);
    EXPECT_EQ(vs.quorum, kDefaultQuorum);

    const RealServer& rs = vs.real_servers.at(0);
    EXPECT_EQ(rs.port, 80) << "DR keeps the port: the virtual server's is the default";
    EXPECT_EQ(rs.weight, kDefaultWeight);
    const Check& tcp = rs.checks.at(0);
    EXPECT_EQ(tcp.connect_timeout, kDefaultConnectTimeout);
    EXPECT_EQ(tcp.retry, kDefaultRetry);
    EXPECT_EQ(tcp.delay_before_retry, kDefaultDelayBeforeRetry);
    EXPECT_FALSE(tcp.connect_port.has_value());
    EXPECT_FALSE(tcp.delay_loop.has_value());

    const Check& http = vs.real_servers.at(1).checks.at(0);
    EXPECT_EQ(http.retry, kDefaultRetry);
    EXPECT_EQ(http.delay_before_retry, kDefaultHttpDelayBeforeRetry);
    EXPECT_EQ(http.url.at(0).status_code, (std::vector<StatusRange>{{200, 299}}));

    const Check& misc = vs.real_servers.at(2).checks.at(0);
    EXPECT_EQ(misc.retry, kDefaultMiscRetry);
    EXPECT_EQ(misc.delay_before_retry, kDefaultDelayBeforeRetry);
    EXPECT_EQ(misc.misc_path, "/bin/true");
}

TEST(LoadConfig, IpV6InstanceDefaultsToVersion3AndGranularity128) {
    const Config c = load_ok(R"(
ports:
  - name: lan0
    device: net_null0
vrrp_instances:
  - name: VI_6
    interface: lan0
    virtual_router_id: 9
    advert_int: 50ms
    virtual_ipaddress: ["2001:db8::100/64"]
virtual_servers:
  - address: "2001:db8::100"
    port: 443
)");
    EXPECT_EQ(c.vrrp_instances.at(0).version, 3);
    EXPECT_EQ(c.vrrp_instances[0].advert_int, 50ms);
    EXPECT_EQ(c.vrrp_instances[0].virtual_ipaddress.at(0).address.length, 64);
    EXPECT_EQ(c.virtual_servers.at(0).persistence_granularity, 128);
}

// ---- value forms ----------------------------------------------------------------------------

TEST(LoadConfig, ChecksUrlsAndStatusCodesTakeEveryForm) {
    const Config c = load_ok(R"(
virtual_servers:
  - address: 10.0.0.100
    port: 443
    real_servers:
      - address: 10.0.0.11
        mac: "02:00:00:00:00:0B"
        check:
          - type: SSL_GET
            enable_sni: yes
            virtualhost: www.example.com
            url:
              - path: /a
                status_code: [200, "301-302"]
                digest: 9E107D9D372BB6826BD81D3542A419D6
              - path: /b
                status_code: "200-299"
          - type: UDP_CHECK
            connect_port: 53
            payload: 0a1b
            require_reply: 0aXX
            min_reply_length: 2
            max_reply_length: 64
)");
    const RealServer& rs = c.virtual_servers.at(0).real_servers.at(0);
    EXPECT_EQ(rs.mac, net::MacAddress::parse("02:00:00:00:00:0b"));
    ASSERT_EQ(rs.checks.size(), 2u);
    const Check& ssl = rs.checks[0];
    EXPECT_EQ(ssl.type, CheckType::SslGet);
    EXPECT_TRUE(ssl.enable_sni);
    EXPECT_EQ(ssl.virtualhost, "www.example.com");
    ASSERT_EQ(ssl.url.size(), 2u);
    EXPECT_EQ(ssl.url[0].status_code, (std::vector<StatusRange>{{200, 200}, {301, 302}}));
    EXPECT_EQ(ssl.url[0].digest, "9e107d9d372bb6826bd81d3542a419d6");
    EXPECT_EQ(ssl.url[1].status_code, (std::vector<StatusRange>{{200, 299}}));
    const Check& udp = rs.checks[1];
    EXPECT_EQ(udp.type, CheckType::Udp);
    EXPECT_EQ(udp.connect_port, 53);
    EXPECT_EQ(udp.payload, "0a1b");
    EXPECT_EQ(udp.require_reply, "0aXX");
    EXPECT_EQ(udp.min_reply_length, 2u);
    EXPECT_EQ(udp.max_reply_length, 64u);
}

TEST(LoadConfig, VirtualIpaddressTakesStringsAndMaps) {
    const Config c = load_ok(R"(
ports:
  - { name: lan0, device: net_null0 }
  - { name: lan1, device: net_null1 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    virtual_router_id: 1
    unicast_src_ip: 10.0.0.2
    unicast_peers: [10.0.0.3]
    virtual_ipaddress:
      - 10.0.0.100
      - { address: 10.1.0.100/24, dev: lan1, label: "lan1:vip" }
)");
    const auto& vips = c.vrrp_instances.at(0).virtual_ipaddress;
    ASSERT_EQ(vips.size(), 2u);
    EXPECT_EQ(vips[0].address, net::Prefix::parse("10.0.0.100/32"));
    EXPECT_EQ(vips[1].address, net::Prefix::parse("10.1.0.100/24"));
    EXPECT_EQ(vips[1].dev, "lan1");
    EXPECT_EQ(vips[1].label, "lan1:vip");
    EXPECT_EQ(c.vrrp_instances[0].unicast_peers, std::vector<net::IpAddress>{ip("10.0.0.3")});
}

TEST(LoadConfig, GranularityAcceptsNetmaskSlashAndInteger) {
    for (const char* g : {"255.255.255.0", "/24", "24"}) {
        const Config c = load_ok(std::string(R"(
virtual_servers:
  - address: 10.0.0.100
    port: 80
    persistence_timeout: 300
    persistence_granularity: )") +
                                 g + "\n");
        EXPECT_EQ(c.virtual_servers.at(0).persistence_granularity, 24) << g;
        EXPECT_EQ(c.virtual_servers.at(0).persistence_timeout, 300s) << g;
    }
}

TEST(LoadConfig, BooleansTakeYamlSpellings) {
    for (auto [text, value] : {std::pair{"true", true},
                               {"yes", true},
                               {"on", true},
                               {"false", false},
                               {"no", false},
                               {"Off", false}}) {
        const Config c = load_ok(std::string("dpdk:\n  hugepages: ") + text + "\n");
        EXPECT_EQ(c.dpdk.hugepages, value) << text;
    }
}

/** Loads one duration through a field whose range is 0..unbounded (it is on line 5). */
Result<Duration, ConfigErrors> load_duration(std::string_view text) {
    auto r = load_string(std::string(R"(
ports: [{ name: lan0, device: net_null0 }]
vrrp_instances:
  - { name: VI_1, interface: lan0, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1],
      garp_master_delay: )") +
                             std::string(text) + " }\n",
                         "d.yaml");
    if (!r) {
        return Unexpected{r.error()};
    }
    return r->vrrp_instances.at(0).garp_master_delay;
}

TEST(LoadConfig, DurationsTakeUnitsFractionsAndBareSeconds) {
    const std::pair<const char*, Duration> cases[] = {
        {"3s", 3s},     {"150ms", 150ms},  {"250us", 250us},    {"1m", 60s},
        {"2h", 7200s},  {"0.5s", 500ms},   {"1.5s", 1500ms},    {"1.5", 1500ms},
        {"2", 2s},      {"0", 0s},         {"0s", 0s},          {"0.001ms", 1us},
        {"1.25m", 75s}, {"1.50s", 1500ms}, {"0.0000025h", 9ms}, {"40.95s", 40950ms},
    };
    for (const auto& [text, expected] : cases) {
        auto d = load_duration(text);
        ASSERT_TRUE(d) << text << ": " << join(d.error());
        EXPECT_EQ(*d, expected) << text;
    }
}

TEST(LoadConfig, DurationsRejectGarbageNegativesAndSubMicroseconds) {
    const std::pair<const char*, const char*> cases[] = {
        {"-1s", "is negative"},
        {"3 s", "is not a duration"},
        {"3sec", "is not a duration"},
        {"abc", "is not a duration"},
        {".5s", "is not a duration"},
        {"5.s", "is not a duration"},
        {"1e3", "is not a duration"},
        {"\"\"", "is not a duration"},
        {"0.0000001s", "finer than the microsecond resolution"},
        {"0.5us", "finer than the microsecond resolution"},
        {"99999999999999999999s", "is too large"},
        {"9999999999999h", "is too large"},
        {"[1]", "expected a duration, got a list"},
    };
    for (const auto& [text, message] : cases) {
        auto d = load_duration(text);
        ASSERT_FALSE(d) << text << " loaded";
        ASSERT_EQ(d.error().size(), 1u) << join(d.error());
        EXPECT_EQ(d.error()[0].line, 5) << text;
        EXPECT_NE(d.error()[0].message.find(message), std::string::npos)
            << text << ": " << d.error()[0].message;
    }
}

// ---- invalid configurations, one error each -------------------------------------------------

struct InvalidCase {
    const char* name;
    std::string yaml;
    int line;
    int column;  ///< 0: not asserted (the position of a whole map)
    const char* message;
};

// Most cases start from this head; its lines are 1..9.
const std::string kHead =
    "ports:\n"
    "  - name: lan0\n"
    "    device: \"0000:01:00.0\"\n"
    "    address: 10.0.0.2/24\n"
    "vrrp_instances:\n"
    "  - name: VI_1\n"
    "    interface: lan0\n"
    "    virtual_router_id: 62\n"
    "    virtual_ipaddress: [10.0.0.100]\n";

// A virtual server whose lines are 1..7, ending where its first real server's check begins.
const std::string kVs =
    "virtual_servers:\n"
    "  - address: 10.0.0.100\n"
    "    port: 80\n"
    "    real_servers:\n"
    "      - address: 10.0.0.11\n"
    "        weight: 1\n"
    "        check:\n";

const InvalidCase kInvalid[] = {
    {"VridOutOfRange",
     kHead + "    priority: 100\n  - name: VI_2\n    interface: lan0\n"
             "    virtual_router_id: 300\n    virtual_ipaddress: [10.0.0.101]\n",
     13, 24, "vrrp_instances[1].virtual_router_id: 300 is out of range 1..255"},
    {"PriorityZero", kHead + "    priority: 0\n", 10, 15,
     "vrrp_instances[0].priority: 0 is out of range 1..255"},
    {"PriorityNotInteger", kHead + "    priority: 1.5\n", 10, 15, "'1.5' is not an integer"},
    {"VersionFour", kHead + "    version: 4\n", 10, 14, "4 is out of range 2..3"},
    {"StateUnknown", kHead + "    state: MASTR\n", 10, 12,
     "'MASTR' is not one of MASTER|BACKUP; did you mean 'MASTER'?"},
    {"UnknownKeyWithSuggestion", kHead + "    prority: 100\n", 10, 5,
     "unknown key 'prority' in vrrp_instances[0]; did you mean 'priority'?"},
    {"UnknownTopLevelKey", "global:\n  router_id: x\nvirtual_server: []\n", 3, 1,
     "unknown key 'virtual_server' at top level; did you mean 'virtual_servers'?"},
    {"DuplicateKey", kHead + "    virtual_router_id: 63\n", 10, 5,
     "duplicate key 'virtual_router_id' in vrrp_instances[0] (first at line 8)"},
    {"AdvertIntV2NotWholeSeconds", kHead + "    advert_int: 1.5s\n", 10, 17,
     "1500ms is not whole seconds"},
    {"AdvertIntV2TooLong", kHead + "    advert_int: 300s\n", 10, 17,
     "300s is out of range 1s..255s for version 2"},
    {"AdvertIntV3NotCentiseconds", kHead + "    version: 3\n    advert_int: 15ms\n", 11, 17,
     "15ms is not a multiple of 10ms"},
    {"AdvertIntV3TooLong", kHead + "    version: 3\n    advert_int: 41s\n", 11, 17,
     "41s is out of range 10ms..40.95s for version 3"},
    {"AuthenticationWithVersion3",
     kHead + "    version: 3\n    authentication: { type: PASS, pass: abc }\n", 11, 21,
     "vrrp_instances[0].authentication: is VRRPv2 only"},
    {"AuthenticationPassTooLong",
     kHead + "    authentication: { type: PASS, pass: \"123456789\" }\n", 10, 41,
     "is 9 characters; VRRPv2 authentication carries at most 8"},
    {"AuthenticationTypeUnknown", kHead + "    authentication: { type: MD5, pass: x }\n", 10, 29,
     "'MD5' is not one of PASS|AH"},
    {"IpV6InstanceWithVersion2",
     "ports: [{ name: lan0, device: x }]\nvrrp_instances:\n  - name: VI_6\n"
     "    interface: lan0\n    virtual_router_id: 1\n    version: 2\n"
     "    virtual_ipaddress: [\"fe80::1\"]\n",
     6, 14, "an IPv6 instance needs version 3"},
    {"VipFamiliesMixed",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_router_id: 2\n"
             "    version: 3\n    virtual_ipaddress: [10.0.0.5, \"2001:db8::5\"]\n",
     14, 35, "2001:db8::5 is IPv6 but the instance's first address is IPv4"},
    {"VipNotAnAddress",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: [10.0.0.300]\n",
     13, 25, "'10.0.0.300' is not an address or ADDRESS/LENGTH"},
    {"VipKeepalivedLineSyntax",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: [\"10.0.0.7/24 dev lan0\"]\n",
     13, 25, "write {address: ..., dev: ..., label: ...}"},
    {"VipEmpty",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: []\n",
     13, 24, "vrrp_instances[1].virtual_ipaddress: needs at least one address"},
    {"VipDevUnknownPort",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: [{ address: 10.0.0.9, dev: lan9 }]\n",
     13, 51, "no port named 'lan9' in ports"},
    {"InterfaceUnknownWithSuggestion",
     kHead + "  - name: VI_2\n    interface: lan1\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: [10.0.0.9]\n",
     11, 16, "vrrp_instances[1].interface: no port named 'lan1' in ports; did you mean 'lan0'?"},
    {"TrackPortUnknown", kHead + "    track_ports: [lan0, wan0]\n", 10, 25,
     "vrrp_instances[0].track_ports[1]: no port named 'wan0'"},
    {"DuplicateInstanceName",
     kHead + "  - name: VI_1\n    interface: lan0\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: [10.0.0.9]\n",
     10, 11, "duplicate vrrp instance name 'VI_1' (also vrrp_instances[0])"},
    {"DuplicateVirtualRouter",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_router_id: 62\n"
             "    virtual_ipaddress: [10.0.0.9]\n",
     12, 24, "virtual_router_id 62 (IPv4) on port 'lan0' is already used by vrrp_instances[0]"},
    {"UnicastSrcWithoutPeers", kHead + "    unicast_src_ip: 10.0.0.2\n", 10, 21,
     "unicast_src_ip: is set but unicast_peers is empty"},
    {"UnicastPeerFamily", kHead + "    unicast_peers: [10.0.0.3, \"2001:db8::3\"]\n", 10, 31,
     "vrrp_instances[0].unicast_peers[1]: 2001:db8::3 is IPv6 but the instance is IPv4"},
    {"GarpMasterRepeatZero", kHead + "    garp_master_repeat: 0\n", 10, 25,
     "0 is out of range 1..255"},
    {"PreemptDelayTooLong", kHead + "    preempt_delay: 2000s\n", 10, 20,
     "2000s is out of range 0s..1000s"},
    {"MissingRequiredKey",
     kHead + "  - name: VI_2\n    interface: lan0\n    virtual_ipaddress: [10.0.0.9]\n", 10, 5,
     "vrrp_instances[1]: missing required key 'virtual_router_id'"},
    {"SyncGroupUnknownMember", kHead + "vrrp_sync_groups:\n  - name: G1\n    group: [VI_1, VI_2]\n",
     12, 19, "vrrp_sync_groups[0].group[1]: no vrrp instance named 'VI_2'; did you mean 'VI_1'?"},
    {"InstanceInTwoSyncGroups",
     kHead +
         "vrrp_sync_groups:\n  - name: G1\n    group: [VI_1]\n  - name: G2\n    group: [VI_1]\n",
     14, 13, "'VI_1' is already in vrrp_sync_groups[0]"},
    {"UnknownTopLevelKeyWithoutHint",
     kHead + "  - name: VI_2\n"
             "    interface: lan0\n    virtual_router_id: 2\n"
             "    virtual_ipaddress: [10.0.0.9]\n"
             "ports_again: 1\n",
     14, 1, "unknown key 'ports_again' at top level"},
    {"PortNameTwice", "ports:\n  - { name: lan0, device: a }\n  - { name: lan0, device: b }\n", 3,
     13, "ports[1].name: duplicate port name 'lan0' (also ports[0])"},
    {"PortDeviceTwice", "ports:\n  - { name: lan0, device: a }\n  - { name: lan1, device: a }\n", 3,
     27, "ports[1].device: device 'a' is already used by ports[0]"},
    {"PortMissingDevice", "ports:\n  - name: lan0\n    address: 10.0.0.2/24\n", 2, 5,
     "ports[0]: missing required key 'device'"},
    {"GatewayOutsidePrefix",
     "ports:\n  - name: lan0\n    device: x\n    address: 10.0.0.2/24\n    gateway: 10.0.1.1\n", 5,
     14, "ports[0].gateway: 10.0.1.1 is not inside 10.0.0.2/24"},
    {"GatewayWithoutAddress", "ports:\n  - name: lan0\n    device: x\n    gateway: 10.0.1.1\n", 4,
     14, "ports[0].gateway: needs the port's address"},
    {"ExceptionTapTooLong",
     "ports:\n  - name: lan0\n    device: x\n    exception_tap: a-very-long-tap-name\n", 4, 20,
     "is longer than 15 characters"},
    {"LogLevelUnknown", "global:\n  log_level: verbose\n", 2, 14,
     "global.log_level: 'verbose' is not one of error|warn|info|debug"},
    {"MetricsListenNotHostPort", "global:\n  metrics_listen: localhost\n", 2, 19,
     "'localhost' is not ADDRESS:PORT"},
    {"MemoryTooSmall", "dpdk:\n  memory_mb: 32\n", 2, 14,
     "dpdk.memory_mb: 32 is out of range 64..4294967295"},
    {"IdleSleepTooLong", "dpdk:\n  idle_sleep_us: 2000000\n", 2, 18,
     "2000000 is out of range 0..1000000"},
    {"ControlLcoreIsAWorker", "dpdk:\n  lcores: { control: 2, workers: [1, 2] }\n", 2, 38,
     "lcore 2 is the control lcore"},
    {"WorkerListedTwice", "dpdk:\n  lcores: { control: 0, workers: [1, 1] }\n", 2, 38,
     "lcore 1 is listed twice"},
    {"WorkersEmpty", "dpdk:\n  lcores: { control: 0, workers: [] }\n", 2, 34,
     "dpdk.lcores.workers: needs at least one worker lcore"},
    {"LcoreTooLarge", "dpdk:\n  lcores: { control: 1024, workers: [1] }\n", 2, 22,
     "1024 is out of range 0..1023"},
    {"EalArgsNotStrings", "dpdk:\n  eal_args: [--log-level, { a: b }]\n", 2, 27,
     "dpdk.eal_args[1]: expected a string, got a map"},
    {"TableSizeZero", "tables:\n  connections: 0\n", 2, 16,
     "tables.connections: 0 is out of range 1..4294967295"},
    {"TimeoutZero", "timeouts:\n  tcp_fin: 0s\n", 2, 12,
     "timeouts.tcp_fin: 0s is too short: the minimum is 1s"},
    {"TimeoutFractional", "timeouts:\n  udp: 1.5s\n", 2, 8,
     "1500ms is not a whole number of seconds"},
    {"ForwardingNotBoolean", "forwarding:\n  sloppy_tcp: maybe\n", 2, 15,
     "forwarding.sloppy_tcp: expected true or false, got 'maybe'"},
    {"LbKindNat", "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    lb_kind: NAT\n", 4,
     14, "lb_kind NAT is not supported: director forwards in DR mode (MAC rewrite)"},
    {"LbAlgoUnknown",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    lb_algo: lblc\n", 4, 14,
     "'lblc' is not one of rr|wrr|lc|wlc|sed|nq|sh|dh|mh"},
    {"ProtocolLowercase",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    protocol: tcp\n", 4, 15,
     "'tcp' is not one of TCP|UDP; did you mean 'TCP'?"},
    {"VirtualServerAddressInvalid", "virtual_servers:\n  - address: 10.0.0.256\n    port: 80\n", 2,
     14, "virtual_servers[0].address: '10.0.0.256' is not an IPv4 or IPv6 address"},
    {"VirtualServerPortNegative", "virtual_servers:\n  - address: 10.0.0.100\n    port: -1\n", 3,
     11, "virtual_servers[0].port: -1 is out of range 0..65535"},
    {"VirtualServerPortZeroWithoutPersistence",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 0\n", 3, 11,
     "port 0 (all ports) needs persistence_timeout > 0"},
    {"VirtualServerDuplicate",
     "virtual_servers:\n  - { address: 10.0.0.100, port: 80 }\n  - { address: 10.0.0.100, "
     "port: 80, lb_algo: rr }\n",
     3, 16, "virtual server 10.0.0.100 port 80 TCP is already defined by virtual_servers[0]"},
    {"GranularityNotContiguous",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    persistence_timeout: 60s\n"
     "    persistence_granularity: 255.0.255.0\n",
     5, 30, "'255.0.255.0' is not a contiguous netmask, /N or N"},
    {"GranularityWiderThanFamily",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    persistence_timeout: 60s\n"
     "    persistence_granularity: /33\n",
     5, 30, "/33 is longer than the 32 bits of the IPv4 virtual server address"},
    {"GranularityWithoutPersistence",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n"
     "    persistence_granularity: 255.255.255.0\n",
     4, 30, "has no effect without persistence_timeout > 0"},
    {"QuorumZero", "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    quorum: 0\n", 4,
     13, "0 is out of range 1..4294967295"},
    {"HysteresisNotBelowQuorum",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n    quorum: 2\n    hysteresis: 2\n",
     5, 17, "2 must be less than quorum 2"},
    {"SorryServerFamily",
     "virtual_servers:\n  - address: 10.0.0.100\n    port: 80\n"
     "    sorry_server: { address: \"2001:db8::1\", port: 80 }\n",
     4, 30, "2001:db8::1 is IPv6 but the virtual server is IPv4"},
    {"DrCannotChangePort",
     kVs + "          type: TCP_CHECK\n      - address: 10.0.0.12\n"
           "        port: 8080\n",
     10, 15,
     "DR cannot change the port: real server port 8080 differs from virtual server port 80"},
    {"RealServerPortZero",
     kVs + "          type: TCP_CHECK\n      - address: 10.0.0.12\n"
           "        port: 0\n",
     10, 15, "0 is out of range 1..65535"},
    {"RealServerFamily", kVs + "          type: TCP_CHECK\n      - address: \"2001:db8::12\"\n", 9,
     18, "2001:db8::12 is IPv6 but the virtual server is IPv4"},
    {"RealServerDuplicate", kVs + "          type: TCP_CHECK\n      - address: 10.0.0.11\n", 9, 18,
     "real server 10.0.0.11 port 80 is already in virtual_servers[0].real_servers[0]"},
    {"WeightOutOfRange",
     kVs + "          type: TCP_CHECK\n      - address: 10.0.0.12\n"
           "        weight: 70000\n",
     10, 17, "virtual_servers[0].real_servers[1].weight: 70000 is out of range 0..65535"},
    {"RealServerMacMulticast",
     kVs + "          type: TCP_CHECK\n      - address: 10.0.0.12\n"
           "        mac: \"01:00:5e:00:00:01\"\n",
     10, 14, "is not a unicast MAC"},
    {"RealServerMacZero",
     kVs + "          type: TCP_CHECK\n      - address: 10.0.0.12\n"
           "        mac: \"00:00:00:00:00:00\"\n",
     10, 14, "is not a unicast MAC"},
    {"RealServerMacGarbage",
     kVs + "          type: TCP_CHECK\n      - address: 10.0.0.12\n"
           "        mac: 00-11-22\n",
     10, 14, "'00-11-22' is not a MAC address"},
    {"CheckTypeMissing", kVs + "          connect_timeout: 3s\n", 8, 11,
     "virtual_servers[0].real_servers[0].check: missing required key 'type'"},
    {"CheckTypeUnknown", kVs + "          type: PING_CHECK\n", 8, 17,
     "'PING_CHECK' is not one of TCP_CHECK|HTTP_GET|SSL_GET|MISC_CHECK|UDP_CHECK"},
    {"UrlOnTcpCheck", kVs + "          type: TCP_CHECK\n          url: { path: / }\n", 9, 11,
     "check.url: applies to HTTP_GET and SSL_GET only, not TCP_CHECK"},
    {"SniOnHttpGet",
     kVs + "          type: HTTP_GET\n          url: { path: / }\n"
           "          enable_sni: true\n",
     10, 11, "check.enable_sni: applies to SSL_GET only, not HTTP_GET"},
    {"MiscPathOnUdpCheck", kVs + "          type: UDP_CHECK\n          misc_path: /bin/true\n", 9,
     11, "applies to MISC_CHECK only, not UDP_CHECK"},
    {"HttpGetWithoutUrl", kVs + "          type: HTTP_GET\n", 8, 11,
     "check: missing required key 'url'"},
    {"MiscCheckWithoutPath", kVs + "          type: MISC_CHECK\n          misc_timeout: 5s\n", 8,
     11, "check: missing required key 'misc_path'"},
    {"StatusCodeOutOfRange",
     kVs + "          type: HTTP_GET\n          url: { path: /, status_code: [200, 700] }\n", 9, 46,
     "check.url.status_code[1]: 700 is out of range 100..599"},
    {"StatusCodeGarbage",
     kVs + "          type: HTTP_GET\n          url: { path: /, status_code: ok }\n", 9, 40,
     "'ok' is not a status code or range"},
    {"DigestNotMd5", kVs + "          type: HTTP_GET\n          url: { path: /, digest: 12ab }\n",
     9, 35, "'12ab' is not an MD5 digest (32 hex digits)"},
    {"UrlPathRelative", kVs + "          type: HTTP_GET\n          url: [{ path: healthz }]\n", 9,
     25, "check.url[0].path: 'healthz' does not start with '/'"},
    {"UdpReplyLengths",
     kVs + "          type: UDP_CHECK\n          min_reply_length: 10\n"
           "          max_reply_length: 4\n",
     9, 29, "min_reply_length 10 exceeds max_reply_length 4"},
    {"UdpPayloadNotHex", kVs + "          type: UDP_CHECK\n          payload: hello\n", 9, 20,
     "'hello' is not hex bytes"},
    {"CheckBindtoFamily", kVs + "          type: TCP_CHECK\n          bindto: \"2001:db8::1\"\n", 9,
     19, "check.bindto: is IPv6 but the check connects to IPv4 10.0.0.11"},
    {"CheckConnectPortZero", kVs + "          type: TCP_CHECK\n          connect_port: 0\n", 9, 25,
     "0 is out of range 1..65535"},
    {"CheckConnectTimeoutZero", kVs + "          type: TCP_CHECK\n          connect_timeout: 0\n",
     9, 28, "0 is too short: the minimum is 1ms"},
    {"CheckNotAMap", kVs + "          - TCP_CHECK\n", 8, 13,
     "check[0]: expected a map, got a scalar"},
    {"SectionNotAMap", "global: [router_id]\n", 1, 9, "global: expected a map, got a list"},
    {"ListExpected", kHead + "    unicast_peers: 10.0.0.3\n", 10, 20,
     "vrrp_instances[0].unicast_peers: expected a list, got a scalar"},
    {"KeyWithoutValue", "ports:\n  - name:\n    device: x\n", 2, 5,
     "ports[0]: key 'name' needs a value"},
    {"EmptyScriptPath", kHead + "    notify_master: \"\"\n", 10, 20,
     "vrrp_instances[0].notify_master: must not be empty"},
    {"TopLevelNotAMap", "- ports\n- vrrp_instances\n", 1, 1, "the top level must be a map"},
    {"EmptyDocument", "# nothing but a comment\n", 1, 1, "empty configuration"},
    {"TwoDocuments", "global: {}\n---\nglobal: {}\n", 3, 1, "a second YAML document"},
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class InvalidConfig : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidConfig, ReportsOnePositionedError) {
    const InvalidCase& c = GetParam();
    auto r = load_string(c.yaml, "bad.yaml");
    ASSERT_FALSE(r) << "loaded:\n" << c.yaml;
    const ConfigErrors& errors = r.error();
    ASSERT_EQ(errors.size(), 1u) << join(errors);
    const ConfigError& e = errors[0];
    EXPECT_EQ(e.file, "bad.yaml");
    EXPECT_EQ(e.line, c.line) << e.to_string();
    if (c.column != 0) {
        EXPECT_EQ(e.column, c.column) << e.to_string();
    }
    EXPECT_NE(e.message.find(c.message), std::string::npos)
        << "message: " << e.message << "\nexpected to contain: " << c.message;
}

INSTANTIATE_TEST_SUITE_P(LoadConfig, InvalidConfig, ::testing::ValuesIn(kInvalid),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- several errors, syntax errors, files ---------------------------------------------------

TEST(LoadConfig, ReportsEveryIndependentErrorInFileOrder) {
    // A relation error (found after parsing), a typo and a bad value, in that order in the file.
    auto errors = load_errors(R"(
ports:
  - name: lan0
    device: x
    gateway: 10.0.0.1
global:
  log_levl: info
dpdk:
  memory_mb: 8
)");
    ASSERT_EQ(errors.size(), 3u) << join(errors);
    EXPECT_EQ(errors[0].to_string(),
              "t.yaml:4:14: ports[0].gateway: needs the port's address, to know its subnet");
    EXPECT_EQ(errors[1].to_string(),
              "t.yaml:6:3: unknown key 'log_levl' in global; did you mean 'log_level'?");
    EXPECT_EQ(errors[2].to_string(),
              "t.yaml:8:14: dpdk.memory_mb: 8 is out of range 64..4294967295");
}

TEST(LoadConfig, ErrorsInManyListItemsAreAllReported) {
    auto errors = load_errors(R"(
virtual_servers:
  - address: 10.0.0.100
    port: 80
    real_servers:
      - { address: 10.0.0.11, weight: -1 }
      - { address: 10.0.0.12, port: 81 }
      - { address: 10.0.0.13, mac: zz }
)");
    ASSERT_EQ(errors.size(), 3u) << join(errors);
    EXPECT_EQ(errors[0].line, 5);
    EXPECT_EQ(errors[1].line, 6);
    EXPECT_EQ(errors[2].line, 7);
}

TEST(LoadConfig, SyntaxErrorReportsItsLine) {
    auto errors = load_errors(R"(
global:
  router_id: x
ports:
  - name: lan0
    device: [unclosed
  - name: lan1
)");
    ASSERT_EQ(errors.size(), 1u) << join(errors);
    EXPECT_EQ(errors[0].line, 6);
    EXPECT_NE(errors[0].message.find("YAML syntax error"), std::string::npos) << errors[0].message;
}

TEST(LoadConfig, BadIndentationIsASyntaxErrorAtItsLine) {
    auto errors = load_errors(R"(
global:
  router_id: x
  log_level: info
   notify: /bin/true
)");
    ASSERT_EQ(errors.size(), 1u) << join(errors);
    EXPECT_EQ(errors[0].line, 4);
    EXPECT_NE(errors[0].message.find("YAML syntax error"), std::string::npos) << errors[0].message;
}

TEST(LoadConfig, EmptyTextIsAnError) {
    auto r = load_string("", "empty.yaml");
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(r.error()[0].message, "empty configuration");
}

TEST(LoadConfig, UnreadableFileIsOneErrorAtLineZero) {
    auto r = load_file("/nonexistent/director.yaml");
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(r.error()[0].line, 0);
    EXPECT_EQ(r.error()[0].file, "/nonexistent/director.yaml");
    EXPECT_EQ(r.error()[0].to_string().rfind("/nonexistent/director.yaml: cannot open: ", 0), 0u)
        << r.error()[0].to_string();
}

TEST(LoadConfig, ErrorToStringIsFileLineColumnMessage) {
    EXPECT_EQ((ConfigError{"a.yaml", 3, 7, "boom"}).to_string(), "a.yaml:3:7: boom");
    EXPECT_EQ((ConfigError{"a.yaml", 3, 0, "boom"}).to_string(), "a.yaml:3: boom");
    EXPECT_EQ((ConfigError{"a.yaml", 0, 0, "boom"}).to_string(), "a.yaml: boom");
}

TEST(LoadConfig, EmptyStringsAreAcceptedWhereTheyMeanTheDefault) {
    const Config c = load_ok(R"(
ports: [{ name: lan0, device: x, exception_tap: "" }]
global: { router_id: "", metrics_listen: "" }
vrrp_instances:
  - name: VI_1
    interface: lan0
    virtual_router_id: 1
    virtual_ipaddress: [{ address: 10.0.0.1, dev: "", label: "" }]
virtual_servers:
  - address: 10.0.0.1
    port: 80
    real_servers:
      - address: 10.0.0.2
        check:
          - { type: HTTP_GET, virtualhost: "", url: [{ path: /, digest: "", virtualhost: "" }] }
          - { type: UDP_CHECK, payload: "", require_reply: "" }
)");
    EXPECT_EQ(c.global.metrics_listen, "");
    EXPECT_EQ(c.vrrp_instances.at(0).virtual_ipaddress.at(0).dev, "");
    const auto& checks = c.virtual_servers.at(0).real_servers.at(0).checks;
    EXPECT_EQ(checks.at(0).url.at(0).digest, "");
    EXPECT_EQ(checks.at(1).require_reply, "") << "\"\" = any reply, unlike an absent key";
}

/** Every error is positioned inside the text (1-based), whatever the damage. */
void expect_loads_or_positioned(const std::string& text, int lines) {
    auto r = load_string(text, "cut.yaml");
    if (r) {
        return;
    }
    ASSERT_FALSE(r.error().empty());
    for (const ConfigError& e : r.error()) {
        EXPECT_GE(e.line, 1) << e.to_string() << "\n" << text;
        EXPECT_LE(e.line, lines) << e.to_string();
        EXPECT_GE(e.column, 1) << e.to_string();
    }
}

TEST(LoadConfig, DamagedExamplesLoadOrReportPositionedErrors) {
    const std::string text = yaml(config_md_example());
    const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    for (std::size_t cut = 1; cut < text.size(); cut += 5) {
        expect_loads_or_positioned(text.substr(0, cut), lines);
    }
    for (std::size_t at = 0, next; at < text.size(); at = next) {
        const std::size_t newline = text.find('\n', at);
        next = newline == std::string::npos ? text.size() : newline + 1;
        expect_loads_or_positioned(text.substr(0, at) + text.substr(next), lines);
    }
}

// ---- warnings -------------------------------------------------------------------------------

TEST(LoadConfig, WarnsWhenAVrrpPortHasNoAddress) {
    const Config c = load_ok(R"(
ports:
  - { name: enp1s0, device: x }
  - { name: enp2s0, device: y }
vrrp_instances:
  - { name: VI_1, interface: enp1s0, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1] }
  - { name: VI_2, interface: enp2s0, virtual_router_id: 2, virtual_ipaddress: [10.0.0.2],
      unicast_src_ip: 10.0.0.9, unicast_peers: [10.0.0.8] }
)");
    EXPECT_EQ(warnings(c), std::vector<std::string>{
                               "port 'enp1s0' has no address: VRRP instance 'VI_1' needs one as "
                               "advert source; fill ports[0].address"});
}

TEST(LoadConfig, NoWarningsForTheShippedConfigs) {
    auto ds1 = load_file(DIRECTOR_SOURCE_ROOT "/config/ds1.yaml");
    ASSERT_TRUE(ds1);
    EXPECT_TRUE(warnings(*ds1).empty());
}

}  // namespace
}  // namespace director::config
