// SPDX-License-Identifier: BSD-3-Clause
// Which configuration changes a reload may apply (lib/control/runtime.h init_only_change):
// EAL, lcores, ports, table sizes, timeouts and forwarding policy are fixed at start; services,
// real servers, VRRP and global settings may change.
#include <gtest/gtest.h>

#include <string>

#include "config/load.h"
#include "control/runtime.h"

namespace director::ctl {
namespace {

config::Config running() {
    auto c = config::load_file(DIRECTOR_SOURCE_ROOT "/config/lab/ds1.yaml");
    EXPECT_TRUE(c.has_value());
    return c ? *c : config::Config{};
}

net::IpAddress ip(const char* text) { return *net::IpAddress::parse(text); }

TEST(InitOnlyChange, SameConfigurationIsFine) {
    EXPECT_EQ(init_only_change(running(), running()), "");
}

TEST(InitOnlyChange, EveryDpdkFieldIsNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.dpdk.memory_mb += 1;
    EXPECT_EQ(init_only_change(a, b), "dpdk");
    b = a;
    b.dpdk.worker_lcores.push_back(2);
    EXPECT_EQ(init_only_change(a, b), "dpdk");
    b = a;
    b.dpdk.control_lcore = 3;
    EXPECT_EQ(init_only_change(a, b), "dpdk");
    b = a;
    b.dpdk.hugepages = !a.dpdk.hugepages;
    EXPECT_EQ(init_only_change(a, b), "dpdk");
    b = a;
    b.dpdk.file_prefix = "other";
    EXPECT_EQ(init_only_change(a, b), "dpdk");
    b = a;
    b.dpdk.eal_args.push_back("--no-telemetry");
    EXPECT_EQ(init_only_change(a, b), "dpdk");
    b = a;
    b.dpdk.idle_sleep_us += 1;
    EXPECT_EQ(init_only_change(a, b), "dpdk");
}

TEST(InitOnlyChange, TablesAreNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.tables.connections *= 2;
    EXPECT_EQ(init_only_change(a, b), "tables");
    b = a;
    b.tables.persistence *= 2;
    EXPECT_EQ(init_only_change(a, b), "tables");
}

TEST(InitOnlyChange, TimeoutsAreNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.timeouts.tcp = std::chrono::seconds(30);
    EXPECT_EQ(init_only_change(a, b), "timeouts");
    b = a;
    b.timeouts.udp = std::chrono::seconds(30);
    EXPECT_EQ(init_only_change(a, b), "timeouts");
}

TEST(InitOnlyChange, ForwardingIsNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.forwarding.sloppy_tcp = !a.forwarding.sloppy_tcp;
    EXPECT_EQ(init_only_change(a, b), "forwarding");
    b = a;
    b.forwarding.expire_nodest_conn = !a.forwarding.expire_nodest_conn;
    EXPECT_EQ(init_only_change(a, b), "forwarding");
}

TEST(InitOnlyChange, PortsAreNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.ports[0].device = "net_af_packet0,iface=eth1";
    EXPECT_EQ(init_only_change(a, b), "ports");
    b = a;
    b.ports[0].address = net::Prefix::parse("10.99.0.121/24");
    EXPECT_EQ(init_only_change(a, b), "ports");
    b = a;
    b.ports.push_back(b.ports[0]);
    b.ports.back().name = "eth1";
    EXPECT_EQ(init_only_change(a, b), "ports");
    b = a;
    b.ports.clear();
    EXPECT_EQ(init_only_change(a, b), "ports");
}

TEST(InitOnlyChange, TheFirstDifferingSectionIsNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.ports[0].device = "net_af_packet0,iface=eth1";
    b.tables.connections *= 2;
    EXPECT_EQ(init_only_change(a, b), "tables");
    EXPECT_EQ(init_only_change(b, a), "tables");
}

TEST(InitOnlyChange, VirtualServerAndRealChangesAreAllowed) {
    const config::Config a = running();
    config::Config b = a;
    b.virtual_servers[0].address = ip("10.99.0.253");  // a VIP moved
    EXPECT_EQ(init_only_change(a, b), "");
    b = a;
    config::RealServer r = b.virtual_servers[0].real_servers[0];
    r.address = ip("10.99.0.174");
    b.virtual_servers[0].real_servers.push_back(r);  // a real added
    EXPECT_EQ(init_only_change(a, b), "");
    b = a;
    b.virtual_servers[0].real_servers[1].weight = 0;  // drained
    b.virtual_servers[0].lb_algo = config::LbAlgo::Wlc;
    b.virtual_servers[0].persistence_timeout = std::chrono::seconds(0);
    EXPECT_EQ(init_only_change(a, b), "");
    b = a;
    b.virtual_servers.push_back(a.virtual_servers[0]);
    b.virtual_servers.back().port = 443;  // a service added
    EXPECT_EQ(init_only_change(a, b), "");
    b = a;
    b.virtual_servers.clear();  // all removed
    EXPECT_EQ(init_only_change(a, b), "");
}

TEST(InitOnlyChange, GlobalChangesAreAllowed) {
    const config::Config a = running();
    config::Config b = a;
    b.global.log_level = config::LogLevel::Debug;
    b.global.router_id = "LVS_OTHER";
    EXPECT_EQ(init_only_change(a, b), "");
}

// The /metrics listener is bound once at start (civetweb cannot rebind in place).
TEST(InitOnlyChange, MetricsListenIsNamed) {
    const config::Config a = running();
    config::Config b = a;
    b.global.metrics_listen = "127.0.0.1:9200";
    EXPECT_EQ(init_only_change(a, b), "global.metrics_listen");
    b.global.metrics_listen = "";
    EXPECT_EQ(init_only_change(a, b), "global.metrics_listen");
}

// VRRP is reconciled instance by instance (VrrpService::reconfigure): a reload may change it.
TEST(InitOnlyChange, VrrpChangesAreAppliedInPlace) {
    const config::Config a = running();
    config::Config b = a;
    b.vrrp_instances[0].priority = 100;
    EXPECT_EQ(init_only_change(a, b), "");
    b = a;
    b.vrrp_instances[0].virtual_ipaddress.push_back(
        config::VirtualIp{*net::Prefix::parse("10.99.0.253"), "", ""});
    EXPECT_EQ(init_only_change(a, b), "");
    b = a;
    config::VrrpSyncGroup group;
    group.name = "G";
    group.group = {a.vrrp_instances[0].name};
    b.vrrp_sync_groups.push_back(group);
    EXPECT_EQ(init_only_change(a, b), "");
}

}  // namespace
}  // namespace director::ctl
