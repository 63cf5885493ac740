// SPDX-License-Identifier: BSD-3-Clause
// The control plane's path from configuration to forwarding state (lib/control/services.cc):
// IdRegistry's stable ids, and SnapshotFactory's snapshots across rebuilds and reloads — ids
// that survive edits, generations that change exactly when a service's reals change, static
// and resolved MACs, routing of reals to ports, the health hook, and draining (weight 0) that
// leaves the Maglev layout alone.
#include "control/services.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "config/load.h"

namespace director::ctl {
namespace {

using config::Protocol;

net::IpAddress ip(const char* text) {
    auto a = net::IpAddress::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(net::IpAddress{});
}

net::Prefix prefix(const char* text) {
    auto p = net::Prefix::parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    return p.value_or(net::Prefix{});
}

net::MacAddress mac(const char* text) {
    auto m = net::MacAddress::parse(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m.value_or(net::MacAddress{});
}

// ---- IdRegistry ---------------------------------------------------------------------------

TEST(IdRegistry, SameServiceKeyGivesSameIdAcrossCalls) {
    IdRegistry ids;
    const uint32_t a = ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp);
    EXPECT_EQ(ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp), a);
    ids.release_unused();
    EXPECT_EQ(ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp), a);
    ids.release_unused();
    EXPECT_EQ(ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp), a);
    EXPECT_EQ(ids.services(), 1u);
}

TEST(IdRegistry, EachPartOfTheServiceKeyMakesANewService) {
    IdRegistry ids;
    std::set<uint32_t> seen;
    seen.insert(ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp));
    seen.insert(ids.service_id(ip("10.0.0.100"), 80, Protocol::Udp));   // protocol
    seen.insert(ids.service_id(ip("10.0.0.100"), 443, Protocol::Tcp));  // port
    seen.insert(ids.service_id(ip("10.0.0.101"), 80, Protocol::Tcp));   // address
    seen.insert(ids.service_id(ip("2001:db8::100"), 80, Protocol::Tcp));
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_EQ(ids.services(), 5u);
}

TEST(IdRegistry, SameRealKeyGivesSameId) {
    IdRegistry ids;
    const uint32_t s = ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp);
    const uint32_t r = ids.real_id(s, ip("10.0.0.11"), 80);
    EXPECT_EQ(ids.real_id(s, ip("10.0.0.11"), 80), r);
    ids.release_unused();
    EXPECT_EQ(ids.real_id(s, ip("10.0.0.11"), 80), r);
    EXPECT_NE(ids.real_id(s, ip("10.0.0.11"), 8080), r);  // another port: another real
    EXPECT_NE(ids.real_id(s, ip("10.0.0.12"), 80), r);
}

TEST(IdRegistry, OneServerInTwoServicesHasTwoDistinctRealIds) {
    // A real id names one real of one service: per-core entries check it against the service.
    IdRegistry ids;
    const uint32_t web = ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp);
    const uint32_t dns = ids.service_id(ip("10.0.0.100"), 53, Protocol::Udp);
    const uint32_t a = ids.real_id(web, ip("10.0.0.11"), 80);
    const uint32_t b = ids.real_id(dns, ip("10.0.0.11"), 80);
    EXPECT_NE(a, b);
    EXPECT_EQ(ids.reals(), 2u);
}

TEST(IdRegistry, NewKeysGetFreshIds) {
    IdRegistry ids;
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < 100; ++i) {
        seen.insert(ids.real_id(0, net::IpAddress::v4(0x0a000000u + i), 80));
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_EQ(*seen.rbegin(), 99u);  // dense
}

TEST(IdRegistry, ReleasedIdIsNotReusedWhileFreshIdsRemain) {
    IdRegistry ids;
    const uint32_t s = ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp);
    const uint32_t a = ids.real_id(s, ip("10.0.0.11"), 80);
    const uint32_t b = ids.real_id(s, ip("10.0.0.12"), 80);
    const uint32_t c = ids.real_id(s, ip("10.0.0.13"), 80);
    ids.release_unused();  // first publication: everything was used
    EXPECT_EQ(ids.reals(), 3u);

    // The next snapshot no longer has b.
    EXPECT_EQ(ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp), s);
    EXPECT_EQ(ids.real_id(s, ip("10.0.0.11"), 80), a);
    EXPECT_EQ(ids.real_id(s, ip("10.0.0.13"), 80), c);
    ids.release_unused();
    EXPECT_EQ(ids.reals(), 2u);

    // A new real, and b coming back, both get ids never handed out before.
    const uint32_t d = ids.real_id(s, ip("10.0.0.14"), 80);
    const uint32_t b2 = ids.real_id(s, ip("10.0.0.12"), 80);
    EXPECT_NE(d, b);
    EXPECT_NE(b2, b);
    EXPECT_EQ(std::set<uint32_t>({a, b, c, d, b2}).size(), 5u);
}

TEST(IdRegistry, ReleasedServiceIdIsNotReusedWhileFreshIdsRemain) {
    IdRegistry ids;
    const uint32_t a = ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp);
    const uint32_t b = ids.service_id(ip("10.0.0.101"), 80, Protocol::Tcp);
    ids.release_unused();
    ids.service_id(ip("10.0.0.100"), 80, Protocol::Tcp);
    ids.release_unused();  // b released
    EXPECT_EQ(ids.services(), 1u);
    const uint32_t c = ids.service_id(ip("10.0.0.102"), 80, Protocol::Tcp);
    EXPECT_NE(c, a);
    EXPECT_NE(c, b);
}

TEST(IdRegistry, ReleasedIdsAreReusedOldestFirstOnceFreshIdsRunOut) {
    IdRegistry ids;
    for (uint32_t i = 0; i < lb::kMaxServices; ++i) {
        ASSERT_EQ(ids.service_id(net::IpAddress::v4(0x0a000000u + i), 80, Protocol::Tcp), i);
    }
    ids.release_unused();
    // Keep all but ids 7 and 3 (released in key order: 3 then 7).
    for (uint32_t i = 0; i < lb::kMaxServices; ++i) {
        if (i != 3 && i != 7) {
            ids.service_id(net::IpAddress::v4(0x0a000000u + i), 80, Protocol::Tcp);
        }
    }
    ids.release_unused();
    EXPECT_EQ(ids.services(), lb::kMaxServices - 2);
    EXPECT_EQ(ids.service_id(ip("192.168.0.1"), 80, Protocol::Tcp), 3u);
    EXPECT_EQ(ids.service_id(ip("192.168.0.2"), 80, Protocol::Tcp), 7u);
}

TEST(IdRegistry, ExhaustedIdsGiveAnOutOfRangeIdInsteadOfCrashing) {
    // Every id in use and none released: the registry must not read an empty free list; it
    // answers an id >= kMaxServices, which SnapshotBuilder rejects with a message.
    IdRegistry ids;
    for (uint32_t i = 0; i < lb::kMaxServices; ++i) {
        ids.service_id(net::IpAddress::v4(0x0a000000u + i), 80, Protocol::Tcp);
    }
    EXPECT_GE(ids.service_id(ip("192.168.0.1"), 80, Protocol::Tcp), lb::kMaxServices);
    EXPECT_GE(ids.service_id(ip("192.168.0.2"), 80, Protocol::Tcp), lb::kMaxServices);
    // The failed keys hold nothing: once ids are released they get real ones.
    ids.release_unused();
    for (uint32_t i = 1; i < lb::kMaxServices; ++i) {
        ids.service_id(net::IpAddress::v4(0x0a000000u + i), 80, Protocol::Tcp);
    }
    ids.release_unused();  // id 0 released
    EXPECT_EQ(ids.service_id(ip("192.168.0.1"), 80, Protocol::Tcp), 0u);
}

// ---- SnapshotFactory ----------------------------------------------------------------------

config::RealServer real(const char* addr, uint32_t weight = 1, uint16_t port = 80) {
    config::RealServer r;
    r.address = ip(addr);
    r.port = port;
    r.weight = weight;
    return r;
}

/**
 * Two ports (10.0.0.0/24 on port id 3, 10.1.0.0/24 on port id 7) and two services: web
 * (10.0.0.100:80/TCP, mh, three reals, one of them on the second segment) and dns
 * (10.0.0.100:53/UDP, rr, two reals).
 */
config::Config base_config() {
    config::Config c;
    config::Port lan0;
    lan0.name = "lan0";
    lan0.device = "net_ring0";
    lan0.address = prefix("10.0.0.1/24");
    config::Port lan1;
    lan1.name = "lan1";
    lan1.device = "net_ring1";
    lan1.address = prefix("10.1.0.1/24");
    c.ports = {lan0, lan1};

    config::VirtualServer web;
    web.address = ip("10.0.0.100");
    web.port = 80;
    web.protocol = Protocol::Tcp;
    web.lb_algo = config::LbAlgo::Mh;
    web.real_servers = {real("10.0.0.11"), real("10.0.0.12", 2), real("10.1.0.13", 3)};

    config::VirtualServer dns;
    dns.address = ip("10.0.0.100");
    dns.port = 53;
    dns.protocol = Protocol::Udp;
    dns.lb_algo = config::LbAlgo::Rr;
    dns.persistence_timeout = std::chrono::seconds(50);
    dns.real_servers = {real("10.0.0.21", 1, 53), real("10.0.0.22", 1, 53)};

    c.virtual_servers = {web, dns};
    return c;
}

const std::vector<PortRoute> kRoutes = {{3, prefix("10.0.0.1/24")}, {7, prefix("10.1.0.1/24")}};

/** The neighbour table every test uses: 02:00:00:00:<third octet>:<last octet>. */
std::optional<net::MacAddress> neighbour(uint16_t, const net::IpAddress& a) {
    if (!a.is_v4()) {
        return std::nullopt;
    }
    return net::MacAddress{{0x02, 0, 0, 0, a.bytes()[2], a.bytes()[3]}};
}

RealHealth health_up(bool up) {
    RealHealth h;
    h.up = up;
    return h;
}

RealSources resolved() {
    RealSources s;
    s.mac = neighbour;
    return s;
}

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

class Factory : public ::testing::Test {
protected:
    /** Builds and keeps the snapshot as `previous` for the next build, as Runtime does. */
    const lb::Snapshot& build(const config::Config& c, const RealSources& sources = resolved()) {
        auto r = factory_.build(c, kRoutes, sources, current_.get());
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        if (r) {
            // The old snapshot may go now: the new one shares its tables by reference.
            current_ = std::move(r).value();
        }
        return *current_;
    }

    uint32_t web() const { return current_->find_service(ip("10.0.0.100"), 80, kTcp); }
    uint32_t dns() const { return current_->find_service(ip("10.0.0.100"), 53, kUdp); }

    /** Real id of the real at `addr` in service svc. */
    uint32_t id_of(uint32_t svc, const char* addr) const {
        for (uint32_t slot = 0; slot < current_->service(svc).real_count; ++slot) {
            if (current_->real_addr(svc, slot) == ip(addr)) {
                return current_->real_id(svc, slot);
            }
        }
        ADD_FAILURE() << addr << " is not a real of service " << svc;
        return lb::kNoReal;
    }

    uint32_t slot_of(uint32_t svc, const char* addr) const {
        return current_->find_real(svc, id_of(svc, addr));
    }

    uint32_t generation(uint32_t svc) const { return current_->service(svc).generation; }

    /** The real id consistent_pick gives each of `n` keys. */
    std::vector<uint32_t> picks(uint32_t svc, uint32_t n) const {
        std::vector<uint32_t> out(n);
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t slot = current_->consistent_pick(svc, k * 2654435761u);
            out[k] = slot == lb::kNoReal ? lb::kNoReal : current_->real_id(svc, slot);
        }
        return out;
    }

    SnapshotFactory factory_;
    std::unique_ptr<lb::Snapshot> current_;
};

TEST_F(Factory, SnapshotHoldsTheConfiguredServicesAndReals) {
    const config::Config c = base_config();
    const lb::Snapshot& s = build(c);
    ASSERT_EQ(s.service_count(), 2u);
    ASSERT_NE(web(), lb::kNoService);
    ASSERT_NE(dns(), lb::kNoService);
    EXPECT_EQ(s.find_service(ip("10.0.0.100"), 443, kTcp), lb::kNoService);
    EXPECT_EQ(s.find_service(ip("10.0.0.100"), 80, kUdp), lb::kNoService);

    const lb::ServiceInfo& w = s.service(web());
    EXPECT_EQ(w.port, 80);
    EXPECT_EQ(w.proto, lb::Protocol::Tcp);
    EXPECT_EQ(w.scheduler, lb::SchedulerKind::Mh);
    EXPECT_EQ(w.persistence_timeout_s, 0u);
    ASSERT_EQ(w.real_count, 3u);
    EXPECT_EQ(w.usable_count, 3u);
    // Slots keep the configuration's order (IPVS list order).
    EXPECT_EQ(s.real_addr(web(), 0), ip("10.0.0.11"));
    EXPECT_EQ(s.real_addr(web(), 1), ip("10.0.0.12"));
    EXPECT_EQ(s.real_addr(web(), 2), ip("10.1.0.13"));
    EXPECT_EQ(s.weight(web(), 0), 1u);
    EXPECT_EQ(s.weight(web(), 1), 2u);
    EXPECT_EQ(s.weight(web(), 2), 3u);

    const lb::ServiceInfo& d = s.service(dns());
    EXPECT_EQ(d.scheduler, lb::SchedulerKind::Rr);
    EXPECT_EQ(d.persistence_timeout_s, 50u);
    ASSERT_EQ(d.real_count, 2u);
    EXPECT_EQ(s.real_addr(dns(), 0), ip("10.0.0.21"));
    EXPECT_EQ(s.real_addr(dns(), 1), ip("10.0.0.22"));

    // Every real id of the snapshot is distinct, and the specs say the same as the snapshot.
    std::set<uint32_t> ids;
    for (uint32_t svc : {web(), dns()}) {
        for (uint32_t id : s.real_ids(svc)) {
            ids.insert(id);
        }
    }
    EXPECT_EQ(ids.size(), 5u);
    ASSERT_EQ(factory_.last_specs().size(), 2u);
    EXPECT_EQ(factory_.last_specs()[0].service_id, s.service(web()).service_id);
    EXPECT_EQ(factory_.last_specs()[1].reals.size(), 2u);
    EXPECT_NE(s.service(web()).service_id, s.service(dns()).service_id);
}

TEST_F(Factory, EveryConfiguredSchedulerMapsToItsLbKind) {
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Rr), lb::SchedulerKind::Rr);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Wrr), lb::SchedulerKind::Wrr);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Lc), lb::SchedulerKind::Lc);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Wlc), lb::SchedulerKind::Wlc);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Sed), lb::SchedulerKind::Sed);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Nq), lb::SchedulerKind::Nq);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Sh), lb::SchedulerKind::Sh);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Dh), lb::SchedulerKind::Dh);
    EXPECT_EQ(scheduler_kind(config::LbAlgo::Mh), lb::SchedulerKind::Mh);
}

TEST_F(Factory, ReloadThatAddsARealKeepsEveryOtherId) {
    config::Config c = base_config();
    build(c);
    const uint32_t web_id = current_->service(web()).service_id;
    const uint32_t dns_id = current_->service(dns()).service_id;
    const uint32_t r11 = id_of(web(), "10.0.0.11");
    const uint32_t r12 = id_of(web(), "10.0.0.12");
    const uint32_t r13 = id_of(web(), "10.1.0.13");
    const uint32_t r21 = id_of(dns(), "10.0.0.21");

    // The edited file: a new real in the middle of web's list, and a new service first.
    config::Config edited = c;
    auto& reals = edited.virtual_servers[0].real_servers;
    reals.insert(reals.begin() + 1, real("10.0.0.14"));
    config::VirtualServer https = c.virtual_servers[0];
    https.port = 443;
    edited.virtual_servers.insert(edited.virtual_servers.begin(), https);
    build(edited);

    ASSERT_EQ(current_->service_count(), 3u);
    EXPECT_EQ(current_->service(web()).service_id, web_id);
    EXPECT_EQ(current_->service(dns()).service_id, dns_id);
    EXPECT_EQ(id_of(web(), "10.0.0.11"), r11);
    EXPECT_EQ(id_of(web(), "10.0.0.12"), r12);
    EXPECT_EQ(id_of(web(), "10.1.0.13"), r13);
    EXPECT_EQ(id_of(dns(), "10.0.0.21"), r21);
    const uint32_t r14 = id_of(web(), "10.0.0.14");
    EXPECT_EQ(std::set<uint32_t>({r11, r12, r13, r14, r21}).size(), 5u);
    EXPECT_EQ(slot_of(web(), "10.0.0.14"), 1u);

    // Removing it again gives the old reals their old ids; it does not hand out r14 again.
    build(c);
    EXPECT_EQ(id_of(web(), "10.0.0.11"), r11);
    EXPECT_EQ(id_of(web(), "10.1.0.13"), r13);
    EXPECT_EQ(current_->locate_real(r14).service_idx, lb::kNoService);
    config::Config other = c;
    other.virtual_servers[0].real_servers.push_back(real("10.0.0.15"));
    build(other);
    EXPECT_NE(id_of(web(), "10.0.0.15"), r14);
}

TEST_F(Factory, GenerationIsStableWhenNothingAboutTheRealsChanges) {
    config::Config c = base_config();
    build(c);
    const uint32_t g_web = generation(web());
    const uint32_t g_dns = generation(dns());
    build(c);
    EXPECT_EQ(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);

    // Service and check settings are not the real set.
    config::Config edited = c;
    edited.virtual_servers[0].delay_loop = std::chrono::seconds(7);
    edited.virtual_servers[0].real_servers[0].checks.push_back(config::Check{});
    edited.virtual_servers[1].quorum = 2;
    edited.vrrp_instances.push_back(config::VrrpInstance{});
    build(edited);
    EXPECT_EQ(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
}

TEST_F(Factory, GenerationChangesWithTheRealsOfThatServiceOnly) {
    config::Config c = base_config();
    build(c);
    uint32_t g_web = generation(web());
    const uint32_t g_dns = generation(dns());

    // Weight.
    config::Config weights = c;
    weights.virtual_servers[0].real_servers[1].weight = 5;
    build(weights);
    EXPECT_NE(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
    g_web = generation(web());

    // A real added.
    config::Config added = weights;
    added.virtual_servers[0].real_servers.push_back(real("10.0.0.16"));
    build(added);
    EXPECT_NE(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
    g_web = generation(web());

    // A real removed.
    build(weights);
    EXPECT_NE(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
    g_web = generation(web());

    // Health state.
    RealSources down = resolved();
    down.health = [](size_t vs, size_t rs) { return health_up(!(vs == 0 && rs == 2)); };
    build(weights, down);
    EXPECT_NE(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
    g_web = generation(web());
    build(weights, down);
    EXPECT_EQ(generation(web()), g_web);

    // MAC resolved to another address (the neighbour moved).
    RealSources moved = down;
    moved.mac = [](uint16_t port, const net::IpAddress& a) -> std::optional<net::MacAddress> {
        auto m = neighbour(port, a);
        if (a == ip("10.0.0.11")) {
            m->bytes[0] = 0x06;
        }
        return m;
    };
    build(weights, moved);
    EXPECT_NE(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
    g_web = generation(web());

    // MAC lost (neighbour entry expired).
    RealSources unknown = moved;
    unknown.mac = [](uint16_t port, const net::IpAddress& a) -> std::optional<net::MacAddress> {
        return a == ip("10.0.0.12") ? std::nullopt : neighbour(port, a);
    };
    build(weights, unknown);
    EXPECT_NE(generation(web()), g_web);
    EXPECT_EQ(generation(dns()), g_dns);
}

TEST_F(Factory, StaticMacFromTheConfigurationIsInTheSnapshot) {
    config::Config c = base_config();
    c.virtual_servers[0].real_servers[0].mac = mac("02:99:00:00:00:ad");
    int asked_for_11 = 0;
    RealSources sources;
    sources.mac = [&](uint16_t port, const net::IpAddress& a) {
        asked_for_11 += a == ip("10.0.0.11") ? 1 : 0;
        return neighbour(port, a);
    };
    const lb::Snapshot& s = build(c, sources);
    const uint32_t slot = slot_of(web(), "10.0.0.11");
    ASSERT_TRUE(s.mac_known(web(), slot));
    EXPECT_EQ(s.mac(web(), slot), mac("02:99:00:00:00:ad"));
    EXPECT_EQ(asked_for_11, 0);  // static neighbour: no resolution needed
    // The others come from the neighbour table.
    const uint32_t slot12 = slot_of(web(), "10.0.0.12");
    ASSERT_TRUE(s.mac_known(web(), slot12));
    EXPECT_EQ(s.mac(web(), slot12), mac("02:00:00:00:00:0c"));
}

TEST_F(Factory, StaticMacWinsOverTheNeighbourTable) {
    config::Config c = base_config();
    c.virtual_servers[1].real_servers[1].mac = mac("02:99:00:00:00:8e");
    const lb::Snapshot& s = build(c);
    EXPECT_EQ(s.mac(dns(), slot_of(dns(), "10.0.0.22")), mac("02:99:00:00:00:8e"));
}

TEST_F(Factory, RealWithoutAnyMacIsNotUsable) {
    config::Config c = base_config();
    c.virtual_servers[0].real_servers[2].mac = mac("02:99:00:00:00:0d");
    const lb::Snapshot& s = build(c, RealSources{});  // no neighbour table at all
    EXPECT_FALSE(s.mac_known(web(), slot_of(web(), "10.0.0.11")));
    EXPECT_FALSE(s.slot_usable(web(), slot_of(web(), "10.0.0.11")));
    EXPECT_TRUE(s.slot_usable(web(), slot_of(web(), "10.1.0.13")));
    EXPECT_EQ(s.service(web()).usable_count, 1u);
}

TEST_F(Factory, SeedConfigurationStaticMacsReachTheSnapshot) {
    // config/lab/ds1.yaml with the real servers' MACs configured statically (`mac:`), as a
    // user with static neighbours writes it.
    auto loaded = config::load_file(DIRECTOR_SOURCE_ROOT "/config/lab/ds1.yaml");
    ASSERT_TRUE(loaded.has_value());
    loaded->virtual_servers[0].real_servers[0].mac = mac("02:99:00:00:00:ad");
    loaded->virtual_servers[0].real_servers[1].mac = mac("02:99:00:00:00:8e");
    const std::vector<PortRoute> routes = {{0, loaded->ports[0].address}};
    auto r = factory_.build(*loaded, routes, RealSources{}, nullptr);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    const lb::Snapshot& s = **r;
    const uint32_t svc = s.find_service(ip("10.99.0.252"), 80, kTcp);
    ASSERT_NE(svc, lb::kNoService);
    ASSERT_EQ(s.service(svc).real_count, 2u);
    EXPECT_EQ(s.real_addr(svc, 0), ip("10.99.0.173"));
    EXPECT_EQ(s.mac(svc, 0), mac("02:99:00:00:00:ad"));
    EXPECT_EQ(s.mac(svc, 1), mac("02:99:00:00:00:8e"));
    EXPECT_EQ(s.service(svc).usable_count, 2u);
    EXPECT_EQ(s.service(svc).persistence_timeout_s, 50u);
    EXPECT_EQ(s.service(svc).scheduler, lb::SchedulerKind::Rr);
}

TEST_F(Factory, RealsAreRoutedToThePortWhosePrefixHoldsThem) {
    config::Config c = base_config();
    c.virtual_servers[1].real_servers.push_back(real("192.0.2.9", 1, 53));  // off every segment
    std::vector<std::pair<uint16_t, std::string>> asked;
    RealSources sources;
    sources.mac = [&](uint16_t port, const net::IpAddress& a) {
        asked.emplace_back(port, a.to_string());
        return neighbour(port, a);
    };
    const lb::Snapshot& s = build(c, sources);
    EXPECT_EQ(s.tx_port(web(), slot_of(web(), "10.0.0.11")), 3);
    EXPECT_EQ(s.tx_port(web(), slot_of(web(), "10.0.0.12")), 3);
    EXPECT_EQ(s.tx_port(web(), slot_of(web(), "10.1.0.13")), 7);
    EXPECT_EQ(s.tx_port(dns(), slot_of(dns(), "10.0.0.21")), 3);
    EXPECT_EQ(s.tx_port(dns(), slot_of(dns(), "192.0.2.9")), 3);  // the first port
    // The neighbour table is asked on the port the real is routed to.
    bool asked_on_7 = false;
    for (const auto& [port, addr] : asked) {
        if (addr == "10.1.0.13") {
            asked_on_7 = port == 7;
        }
    }
    EXPECT_TRUE(asked_on_7);
}

TEST_F(Factory, PortOrderDoesNotDecideTheRoute) {
    // The second segment listed first: 10.0.0.x still goes out on port 3.
    const std::vector<PortRoute> routes = {{7, prefix("10.1.0.1/24")}, {3, prefix("10.0.0.1/24")}};
    auto r = factory_.build(base_config(), routes, resolved(), nullptr);
    ASSERT_TRUE(r.has_value());
    const lb::Snapshot& s = **r;
    const uint32_t svc = s.find_service(ip("10.0.0.100"), 80, kTcp);
    EXPECT_EQ(s.tx_port(svc, 0), 3);
    EXPECT_EQ(s.tx_port(svc, 2), 7);
}

TEST_F(Factory, HealthHookMarksARealDown) {
    RealSources sources = resolved();
    sources.health = [](size_t vs, size_t rs) { return health_up(!(vs == 1 && rs == 0)); };
    const lb::Snapshot& s = build(base_config(), sources);
    const uint32_t down = slot_of(dns(), "10.0.0.21");
    EXPECT_EQ(s.real_state(dns(), down), lb::RealState::Down);
    EXPECT_FALSE(s.slot_usable(dns(), down));
    EXPECT_EQ(s.real_status(dns(), id_of(dns(), "10.0.0.21")), lb::RealStatus::Down);
    EXPECT_EQ(s.real_state(dns(), slot_of(dns(), "10.0.0.22")), lb::RealState::Up);
    EXPECT_EQ(s.service(dns()).usable_count, 1u);
    for (uint32_t slot = 0; slot < 3; ++slot) {
        EXPECT_EQ(s.real_state(web(), slot), lb::RealState::Up);
    }
    // Back up: usable again, same id.
    const uint32_t id = id_of(dns(), "10.0.0.21");
    build(base_config());
    EXPECT_EQ(id_of(dns(), "10.0.0.21"), id);
    EXPECT_EQ(current_->real_status(dns(), id), lb::RealStatus::Usable);
}

TEST_F(Factory, HealthHookWeightOverridesTheConfiguredWeight) {
    RealSources sources = resolved();
    sources.health = [](size_t vs, size_t rs) {
        RealHealth h;
        if (vs == 0 && rs == 1) {
            h.weight = 40;  // MISC_CHECK dynamic
        }
        return h;
    };
    const lb::Snapshot& s = build(base_config(), sources);
    EXPECT_EQ(s.weight(web(), slot_of(web(), "10.0.0.12")), 40u);
    EXPECT_EQ(s.weight(web(), slot_of(web(), "10.0.0.11")), 1u);
    EXPECT_EQ(s.weight(web(), slot_of(web(), "10.1.0.13")), 3u);
}

TEST_F(Factory, SorryServerIsInTheSnapshotButDownWhileThePoolHasQuorum) {
    config::Config c = base_config();
    c.virtual_servers[1].sorry_server = config::SorryServer{ip("10.0.0.99"), 53};
    const lb::Snapshot& s = build(c);
    ASSERT_EQ(s.service(dns()).real_count, 3u);
    const uint32_t sorry = slot_of(dns(), "10.0.0.99");
    EXPECT_EQ(s.real_state(dns(), sorry), lb::RealState::Down);
    EXPECT_EQ(s.service(dns()).usable_count, 2u);
    // Resolved ahead of need: the neighbour table is asked for its MAC.
    EXPECT_TRUE(s.mac_known(dns(), sorry));
    // The other service has no sorry server and no extra real.
    EXPECT_EQ(s.service(web()).real_count, 3u);
}

TEST_F(Factory, SorryServerAloneTakesTrafficWhenQuorumIsLost) {
    config::Config c = base_config();
    c.virtual_servers[1].sorry_server = config::SorryServer{ip("10.0.0.99"), 53};
    build(c);
    const uint32_t sorry_id = id_of(dns(), "10.0.0.99");
    RealSources sources = resolved();
    // As health::ServiceDecision has it on quorum loss: every real removed, sorry active.
    sources.health = [](size_t vs, size_t) { return health_up(vs != 1); };
    sources.sorry_active = [](size_t vs) { return vs == 1; };
    const lb::Snapshot& s = build(c, sources);
    EXPECT_EQ(s.service(dns()).usable_count, 1u);
    EXPECT_EQ(id_of(dns(), "10.0.0.99"), sorry_id);  // same id across the change
    EXPECT_EQ(s.real_status(dns(), sorry_id), lb::RealStatus::Usable);
    EXPECT_EQ(s.weight(dns(), slot_of(dns(), "10.0.0.99")), 1u);
    for (uint32_t k = 0; k < 100; ++k) {
        EXPECT_EQ(s.consistent_pick(dns(), k * 2654435761u), slot_of(dns(), "10.0.0.99"));
    }
    // Quorum back: the sorry server leaves again.
    build(c);
    EXPECT_EQ(current_->real_status(dns(), sorry_id), lb::RealStatus::Down);
    EXPECT_EQ(current_->service(dns()).usable_count, 2u);
}

TEST_F(Factory, SorryServerThatIsAlsoARealIsNotAddedTwice) {
    config::Config c = base_config();
    c.virtual_servers[1].sorry_server = config::SorryServer{ip("10.0.0.22"), 53};
    const lb::Snapshot& s = build(c);
    EXPECT_EQ(s.service(dns()).real_count, 2u);
}

constexpr uint32_t kKeys = 50000;

/** Checks that only keys of `drained` moved between `before` and `after`. */
void expect_only_drained_keys_moved(const std::vector<uint32_t>& before,
                                    const std::vector<uint32_t>& after, uint32_t drained) {
    ASSERT_EQ(before.size(), after.size());
    uint32_t had = 0;
    uint32_t others_moved = 0;
    for (size_t k = 0; k < before.size(); ++k) {
        ASSERT_NE(after[k], lb::kNoReal);
        EXPECT_NE(after[k], drained) << "key " << k << " still sent to the drained real";
        if (before[k] == drained) {
            ++had;
        } else if (after[k] != before[k]) {
            ++others_moved;
        }
    }
    EXPECT_GT(had, 0u);
    EXPECT_EQ(others_moved, 0u) << "keys of other reals moved when one real was drained";
}

TEST_F(Factory, HealthWeightZeroKeepsTheMaglevLayout) {
    config::Config c = base_config();
    build(c);
    const std::vector<uint32_t> before = picks(web(), kKeys);
    const uint32_t drained = id_of(web(), "10.0.0.12");

    RealSources sources = resolved();
    sources.health = [](size_t vs, size_t rs) {
        RealHealth h;
        if (vs == 0 && rs == 1) {
            h.weight = 0;  // inhibit_on_failure / MISC_CHECK dynamic 0
        }
        return h;
    };
    const lb::Snapshot& s = build(c, sources);
    const uint32_t slot = slot_of(web(), "10.0.0.12");
    EXPECT_EQ(s.weight(web(), slot), 0u);
    EXPECT_EQ(factory_.last_specs()[0].reals[1].last_weight, 2u);
    EXPECT_EQ(s.real_status(web(), drained), lb::RealStatus::Draining);
    expect_only_drained_keys_moved(before, picks(web(), kKeys), drained);
}

TEST_F(Factory, ConfigDrainByReloadKeepsTheMaglevLayout) {
    // The operator's drain: weight 0 in the file, then a reload (CONFIG.md: 0 = drain).
    config::Config c = base_config();
    build(c);
    const std::vector<uint32_t> before = picks(web(), kKeys);
    const uint32_t drained = id_of(web(), "10.0.0.12");

    config::Config drain = c;
    drain.virtual_servers[0].real_servers[1].weight = 0;
    build(drain);
    EXPECT_EQ(current_->weight(web(), slot_of(web(), "10.0.0.12")), 0u);
    EXPECT_EQ(factory_.last_specs()[0].reals[1].last_weight, 2u);
    EXPECT_EQ(current_->real_status(web(), drained), lb::RealStatus::Draining);
    expect_only_drained_keys_moved(before, picks(web(), kKeys), drained);

    // It stays drained, with the same layout, across further reloads.
    config::Config more = drain;
    more.virtual_servers[1].real_servers.push_back(real("10.0.0.23", 1, 53));
    build(more);
    EXPECT_EQ(factory_.last_specs()[0].reals[1].last_weight, 2u);
    expect_only_drained_keys_moved(before, picks(web(), kKeys), drained);

    // Undrained: every key is back where it was.
    build(c);
    EXPECT_EQ(picks(web(), kKeys), before);
}

TEST_F(Factory, DownRealKeepsTheMaglevLayout) {
    config::Config c = base_config();
    build(c);
    const std::vector<uint32_t> before = picks(web(), kKeys);
    RealSources sources = resolved();
    sources.health = [](size_t vs, size_t rs) { return health_up(!(vs == 0 && rs == 0)); };
    build(c, sources);
    expect_only_drained_keys_moved(before, picks(web(), kKeys), id_of(web(), "10.0.0.11"));
}

TEST_F(Factory, DrainedKeysAreSpreadOverTheOtherReals) {
    config::Config c = base_config();
    build(c);
    const std::vector<uint32_t> before = picks(web(), kKeys);
    const uint32_t drained = id_of(web(), "10.0.0.12");
    config::Config drain = c;
    drain.virtual_servers[0].real_servers[1].weight = 0;
    build(drain);
    const std::vector<uint32_t> after = picks(web(), kKeys);
    std::set<uint32_t> takers;
    for (size_t k = 0; k < after.size(); ++k) {
        if (before[k] == drained) {
            takers.insert(after[k]);
        }
    }
    EXPECT_EQ(takers.size(), 2u);
}

TEST_F(Factory, RemovedServiceFreesItsIdsForLaterButNotForNow) {
    config::Config c = base_config();
    build(c);
    const uint32_t dns_id = current_->service(dns()).service_id;
    config::Config no_dns = c;
    no_dns.virtual_servers.pop_back();
    build(no_dns);
    EXPECT_EQ(current_->service_count(), 1u);
    EXPECT_EQ(current_->service_index(dns_id), lb::kNoService);
    EXPECT_EQ(factory_.ids().services(), 1u);
    EXPECT_EQ(factory_.ids().reals(), 3u);

    config::Config smtp = no_dns;
    config::VirtualServer vs = c.virtual_servers[1];
    vs.port = 25;
    vs.protocol = Protocol::Tcp;
    smtp.virtual_servers.push_back(vs);
    build(smtp);
    const uint32_t svc = current_->find_service(ip("10.0.0.100"), 25, kTcp);
    ASSERT_NE(svc, lb::kNoService);
    EXPECT_NE(current_->service(svc).service_id, dns_id);
}

TEST_F(Factory, ReAddedServiceStartsWithANewGeneration) {
    // A removed then re-added service must not look unchanged to per-core scheduler state.
    // Per-core state is indexed by service id: the re-added service gets a fresh id.
    config::Config c = base_config();
    build(c);
    const uint32_t old_id = current_->service(dns()).service_id;
    config::Config no_dns = c;
    no_dns.virtual_servers.pop_back();
    build(no_dns);
    build(c);
    EXPECT_NE(current_->service(dns()).service_id, old_id);
    EXPECT_NE(generation(dns()), 0u);
    EXPECT_EQ(current_->service(dns()).real_count, 2u);
}

TEST_F(Factory, FailedBuildReportsAndKeepsNothingHalfDone) {
    // A weight above the snapshot's limit (the loader rejects it too): the build fails with a
    // message, and the next good build works from the same ids.
    config::Config c = base_config();
    build(c);
    const uint32_t r11 = id_of(web(), "10.0.0.11");
    config::Config bad = c;
    bad.virtual_servers[0].real_servers[1].weight = lb::kMaxWeight + 1;
    auto r = factory_.build(bad, kRoutes, resolved(), current_.get());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("weight"), std::string::npos) << r.error().message;
    build(c);
    EXPECT_EQ(id_of(web(), "10.0.0.11"), r11);
}

TEST_F(Factory, Ipv6ServiceAndReals) {
    config::Config c = base_config();
    config::VirtualServer v6;
    v6.address = ip("2001:db8::100");
    v6.port = 80;
    v6.protocol = Protocol::Tcp;
    v6.persistence_granularity = 128;
    config::RealServer r = real("2001:db8::11");
    r.mac = mac("02:00:00:00:06:11");
    v6.real_servers = {r};
    c.virtual_servers.push_back(v6);
    const lb::Snapshot& s = build(c);
    const uint32_t svc = s.find_service(ip("2001:db8::100"), 80, kTcp);
    ASSERT_NE(svc, lb::kNoService);
    EXPECT_EQ(s.service(svc).family, net::Family::V6);
    EXPECT_EQ(s.real_addr(svc, 0), ip("2001:db8::11"));
    EXPECT_EQ(s.mac(svc, 0), mac("02:00:00:00:06:11"));
    EXPECT_EQ(s.service(svc).usable_count, 1u);
}

}  // namespace
}  // namespace director::ctl
