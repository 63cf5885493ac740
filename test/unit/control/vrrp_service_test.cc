// SPDX-License-Identifier: BSD-3-Clause
// VrrpService on a real (net_ring) port: link state -> FAULT and reloads, checked on the frames
// it transmits (adverts, GARPs) and on whether the ARP responder answers for the VIPs.
// Built from test/unit/vrrp/meson.build, which comes after the EAL fixture (eal_env_dep).
#include "control/vrrp_service.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fixtures/eal_env.h"

namespace director::ctl {
namespace {

using namespace std::chrono_literals;

const auto* const kEal = ::testing::AddGlobalTestEnvironment(new test::EalEnvironment());

const vrrp::TimePoint T0 = vrrp::TimePoint{} + 1000s;

net::IpAddress ip(const char* text) { return *net::IpAddress::parse(text); }

const net::MacAddress kPortMac{{0x02, 0x99, 0, 0, 0, 0x78}};
const net::MacAddress kClientMac{{0x02, 0x99, 0, 0, 0, 0x0a}};

/** What the service sent, decoded just enough to check it. */
struct Sent {
    std::vector<uint8_t> advert_priorities;
    std::vector<std::vector<net::IpAddress>> advert_vips;
    std::vector<net::IpAddress> garps;        // ARP requests with sender == target (VIP)
    std::vector<net::IpAddress> arp_replies;  // sender IP of each ARP reply
};

config::VirtualIp vip(const char* text) {
    config::VirtualIp v;
    v.address = *net::Prefix::parse(text);
    return v;
}

config::VrrpInstance instance(const char* name, uint8_t vrid, std::vector<const char*> vips) {
    config::VrrpInstance vi;
    vi.name = name;
    vi.interface = "eth0";
    vi.state = config::VrrpState::Master;
    vi.virtual_router_id = vrid;
    vi.priority = 200;
    vi.advert_int = 1s;
    for (const char* v : vips) {
        vi.virtual_ipaddress.push_back(vip(v));
    }
    return vi;
}

class VrrpServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(test::EalEnvironment::ready());
        auto port =
            test::RingPort::create(test::unique_name("vrrp"), 1024, test::EalEnvironment::pool());
        ASSERT_TRUE(port) << port.error().message;
        port_ = std::move(*port);
        tx_ = std::make_unique<ControlTx>(test::EalEnvironment::pool(), 0);
        auto n = NeighbourService::create(*tx_);
        ASSERT_TRUE(n);
        neighbours_ = std::move(*n);
        config::Port eth0;
        eth0.name = "eth0";
        eth0.device = "net_ring0";
        eth0.address = *net::Prefix::parse("10.99.0.120/24");
        config_.ports = {eth0};
        config_.vrrp_instances = {instance("VI_1", 62, {"10.99.0.252"})};
    }

    std::vector<NeighPort> ports() const {
        return {NeighPort{port_->port_id(), kPortMac, config_.ports[0].address}};
    }

    /** As the runtime does at start and after a reload: ownership from the configuration. */
    void configure_neighbours() {
        neighbours_->configure(config_, ports(), {}, neigh::TimePoint{} + 1000s);
        for (std::size_t i = 0; i < service_->instances().size(); ++i) {
            neighbours_->set_master(i, service_->instances().state(i).state == vrrp::State::Master);
        }
    }

    void create_and_start() {
        auto s = VrrpService::create(config_, ports(), *tx_, *neighbours_);
        ASSERT_TRUE(s) << s.error().message;
        service_ = std::move(*s);
        configure_neighbours();
        service_->start(T0);
    }

    /** Starts and lets the 200-priority instance time out into MASTER (3.22 s). */
    void become_master() {
        create_and_start();
        service_->poll(T0 + 3300ms);
        ASSERT_EQ(service_->instances().state(0).state, vrrp::State::Master);
        drain();
    }

    /** Asks the ARP responder who has `target`. */
    void arp_request(const char* target) {
        const net::IpAddress t = ip(target);
        std::vector<uint8_t> f(42, 0);
        std::fill(f.begin(), f.begin() + 6, 0xff);
        std::copy(kClientMac.bytes.begin(), kClientMac.bytes.end(), f.begin() + 6);
        f[12] = 0x08;
        f[13] = 0x06;
        const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
        std::copy(std::begin(hdr), std::end(hdr), f.begin() + 14);
        std::copy(kClientMac.bytes.begin(), kClientMac.bytes.end(), f.begin() + 22);
        const uint8_t client[] = {10, 99, 0, 10};
        std::copy(std::begin(client), std::end(client), f.begin() + 28);
        std::copy(t.bytes(), t.bytes() + 4, f.begin() + 38);
        neighbours_->on_frame(port_->port_id(), f, neigh::TimePoint{} + 1000s);
    }

    bool answers(const char* target) {
        drain();
        arp_request(target);
        const Sent s = drain();
        return s.arp_replies.size() == 1 && s.arp_replies[0] == ip(target);
    }

    Sent drain() {
        Sent out;
        void* obj = nullptr;
        while (rte_ring_dequeue(port_->tx(), &obj) == 0) {
            auto* m = static_cast<rte_mbuf*>(obj);
            const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
            const uint32_t len = rte_pktmbuf_data_len(m);
            const uint16_t type = static_cast<uint16_t>(f[12] << 8 | f[13]);
            if (type == 0x0800 && len >= 34 && f[14 + 9] == 112) {
                const uint8_t* v = f + 14 + (f[14] & 0x0f) * 4;
                out.advert_priorities.push_back(v[2]);
                std::vector<net::IpAddress> vips;
                for (uint8_t k = 0; k < v[3]; ++k) {
                    const uint8_t* a = v + 8 + 4 * k;
                    vips.push_back(net::IpAddress::v4(
                        static_cast<uint32_t>(a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3])));
                }
                out.advert_vips.push_back(std::move(vips));
            } else if (type == 0x0806 && len >= 42) {
                const uint8_t* spa = f + 28;
                const auto sender = net::IpAddress::v4(
                    static_cast<uint32_t>(spa[0] << 24 | spa[1] << 16 | spa[2] << 8 | spa[3]));
                const uint16_t op = static_cast<uint16_t>(f[20] << 8 | f[21]);
                if (op == 1 && std::equal(f + 28, f + 32, f + 38)) {
                    out.garps.push_back(sender);
                } else if (op == 2) {
                    out.arp_replies.push_back(sender);
                }
            }
            rte_pktmbuf_free(m);
        }
        return out;
    }

    std::unique_ptr<test::RingPort> port_;
    std::unique_ptr<ControlTx> tx_;
    std::unique_ptr<NeighbourService> neighbours_;
    std::unique_ptr<VrrpService> service_;
    config::Config config_;
};

std::size_t count(const std::vector<net::IpAddress>& v, const char* a) {
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), ip(a)));
}

TEST_F(VrrpServiceTest, MasterWhosePortGoesDownSendsPriorityZeroAndStopsAnswering) {
    become_master();
    ASSERT_TRUE(answers("10.99.0.252"));
    service_->set_port_link(port_->port_id(), false, T0 + 4s);
    const Sent s = drain();
    EXPECT_EQ(s.advert_priorities, (std::vector<uint8_t>{0}));
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Fault);
    EXPECT_FALSE(answers("10.99.0.252"));
    EXPECT_TRUE(answers("10.99.0.120"));  // the port's own address is always answered
    // Polled again while down: nothing more.
    service_->set_port_link(port_->port_id(), false, T0 + 4100ms);
    service_->poll(T0 + 20s);
    EXPECT_TRUE(drain().advert_priorities.empty());
}

TEST_F(VrrpServiceTest, LinkUpAgainReturnsToBackupThenMaster) {
    become_master();
    service_->set_port_link(port_->port_id(), false, T0 + 4s);
    EXPECT_EQ(drain().advert_priorities, (std::vector<uint8_t>{0}));
    service_->set_port_link(port_->port_id(), true, T0 + 5s);
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Backup);
    service_->poll(T0 + 5s + 3300ms);
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Master);
    const Sent s = drain();
    EXPECT_EQ(s.advert_priorities, (std::vector<uint8_t>{200}));
    EXPECT_EQ(count(s.garps, "10.99.0.252"), 5u);  // garp_master_repeat
}

TEST_F(VrrpServiceTest, TrackedPortDownFaultsTheInstance) {
    config::Port wan;
    wan.name = "wan0";
    wan.device = "net_ring1";
    config_.ports.push_back(wan);
    config_.vrrp_instances[0].track_ports = {"wan0"};
    auto wan_port =
        test::RingPort::create(test::unique_name("wan"), 64, test::EalEnvironment::pool());
    ASSERT_TRUE(wan_port);
    std::vector<NeighPort> ps = ports();
    ps.push_back(NeighPort{(*wan_port)->port_id(), kPortMac, std::nullopt});
    auto s = VrrpService::create(config_, ps, *tx_, *neighbours_);
    ASSERT_TRUE(s) << s.error().message;
    service_ = std::move(*s);
    service_->start(T0);
    service_->poll(T0 + 3300ms);
    ASSERT_EQ(service_->instances().state(0).state, vrrp::State::Master);
    drain();
    service_->set_port_link((*wan_port)->port_id(), false, T0 + 4s);
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Fault);
    EXPECT_EQ(drain().advert_priorities, (std::vector<uint8_t>{0}));  // on eth0, still up
}

TEST_F(VrrpServiceTest, PortDownAtStartStartsInFault) {
    auto s = VrrpService::create(config_, ports(), *tx_, *neighbours_);
    ASSERT_TRUE(s);
    service_ = std::move(*s);
    service_->set_port_link(port_->port_id(), false, T0);
    service_->start(T0);
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Fault);
    service_->poll(T0 + 10s);
    EXPECT_TRUE(drain().advert_priorities.empty());
}

TEST_F(VrrpServiceTest, ReloadKeepsMasterAndGarpsOnlyTheAddedVip) {
    become_master();
    config_.vrrp_instances[0].virtual_ipaddress.push_back(vip("10.99.0.253"));
    config_.vrrp_instances[0].priority = 210;
    ASSERT_TRUE(service_->reconfigure(config_, ports(), T0 + 3500ms));
    configure_neighbours();
    const Sent s = drain();
    EXPECT_EQ(s.advert_priorities, (std::vector<uint8_t>{210}));  // at once, never 0
    ASSERT_EQ(s.advert_vips.size(), 1u);
    EXPECT_EQ(s.advert_vips[0],
              (std::vector<net::IpAddress>{ip("10.99.0.252"), ip("10.99.0.253")}));
    EXPECT_EQ(count(s.garps, "10.99.0.253"), 5u);
    EXPECT_EQ(count(s.garps, "10.99.0.252"), 0u);
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Master);
    EXPECT_TRUE(answers("10.99.0.252"));
    EXPECT_TRUE(answers("10.99.0.253"));
}

TEST_F(VrrpServiceTest, ReloadThatRemovesAVipStopsAnsweringIt) {
    config_.vrrp_instances[0].virtual_ipaddress.push_back(vip("10.99.0.253"));
    become_master();
    ASSERT_TRUE(answers("10.99.0.253"));
    config_.vrrp_instances[0].virtual_ipaddress.pop_back();
    ASSERT_TRUE(service_->reconfigure(config_, ports(), T0 + 3500ms));
    configure_neighbours();
    EXPECT_FALSE(answers("10.99.0.253"));
    EXPECT_TRUE(answers("10.99.0.252"));
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Master);
}

TEST_F(VrrpServiceTest, ReloadThatRemovesAMasterSendsPriorityZeroAndStartsTheNewOne) {
    become_master();
    config_.vrrp_instances = {instance("VI_2", 63, {"10.99.0.254"})};
    ASSERT_TRUE(service_->reconfigure(config_, ports(), T0 + 3500ms));
    configure_neighbours();
    const Sent s = drain();
    EXPECT_EQ(s.advert_priorities, (std::vector<uint8_t>{0}));
    ASSERT_EQ(service_->instances().size(), 1u);
    EXPECT_EQ(service_->instances().config(0).name, "VI_2");
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Backup);
    EXPECT_FALSE(answers("10.99.0.252"));
    EXPECT_FALSE(answers("10.99.0.254"));  // not MASTER yet
    service_->poll(T0 + 3500ms + 3300ms);
    EXPECT_TRUE(answers("10.99.0.254"));
}

TEST_F(VrrpServiceTest, RejectedReloadChangesNothing) {
    become_master();
    config::Config bad = config_;
    bad.vrrp_instances[0].interface = "nope0";
    bad.vrrp_instances[0].priority = 100;
    auto r = service_->reconfigure(bad, ports(), T0 + 3500ms);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("nope0"), std::string::npos) << r.error().message;
    EXPECT_FALSE(service_->check(bad, ports()));
    EXPECT_TRUE(service_->check(config_, ports()));
    EXPECT_TRUE(drain().advert_priorities.empty());
    EXPECT_EQ(service_->instances().state(0).state, vrrp::State::Master);
    EXPECT_EQ(service_->instances().config(0).priority, 200);
    EXPECT_TRUE(answers("10.99.0.252"));
}

}  // namespace
}  // namespace director::ctl
