// SPDX-License-Identifier: BSD-3-Clause
// The service snapshot (lib/lb/snapshot.cc): VIP lookup (exact port, port-0 fallback, IPv6,
// misses), the H9 real checks, builder validation, table sharing between snapshots and a
// 1,000 services x 100 reals build.
#include "lb/snapshot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "lb/scheduler.h"

namespace director::lb {
namespace {

net::IpAddress ip(const char* text) { return *net::IpAddress::parse(text); }

RealSpec real(uint32_t id, uint32_t weight = 1, RealState state = RealState::Up, bool mac = true) {
    RealSpec r;
    r.real_id = id;
    r.addr = net::IpAddress::v4(0x0a630000u + (id & 0xffffu));
    r.port = 80;
    r.weight = weight;
    r.state = state;
    r.tx_port = static_cast<uint16_t>(id % 2);
    if (mac) {
        r.mac = net::MacAddress{
            {0x02, 0, 0, 0, static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)}};
    }
    return r;
}

ServiceSpec service(const char* vip, uint16_t port, Protocol proto, uint32_t service_id,
                    std::vector<RealSpec> reals = {}) {
    ServiceSpec s;
    s.vip = ip(vip);
    s.port = port;
    s.proto = proto;
    s.scheduler = SchedulerKind::Rr;
    s.service_id = service_id;
    s.persistence_prefix_len = static_cast<uint8_t>(s.vip.max_prefix());
    s.reals = std::move(reals);
    return s;
}

std::unique_ptr<Snapshot> build_ok(const std::vector<ServiceSpec>& specs,
                                   const Snapshot* previous = nullptr) {
    auto r = SnapshotBuilder::build(specs, previous);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? std::move(r).value() : nullptr;
}

std::string build_error(const std::vector<ServiceSpec>& specs) {
    auto r = SnapshotBuilder::build(specs);
    return r ? std::string("(built)") : r.error().message;
}

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

// ---- lookup --------------------------------------------------------------------------------

TEST(Snapshot, EverySnapshotHasItsOwnSerial) {
    // Even one built where a freed one was: a worker's cache across bursts keys on it.
    std::vector<uint64_t> seen;
    for (int i = 0; i < 3; ++i) {
        auto snap = build_ok({service("10.99.0.252", 80, Protocol::Tcp, 1)});
        ASSERT_TRUE(snap);
        EXPECT_NE(snap->serial(), 0u);
        for (uint64_t s : seen) {
            EXPECT_NE(snap->serial(), s);
        }
        seen.push_back(snap->serial());
    }
    auto empty = build_ok({});
    ASSERT_TRUE(empty);
    EXPECT_GT(empty->serial(), seen.back());
}

TEST(Snapshot, ExactPortBeatsPortZeroService) {
    auto snap = build_ok({service("10.99.0.252", 0, Protocol::Tcp, 1),
                          service("10.99.0.252", 80, Protocol::Tcp, 2)});
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 80, kTcp), 1u);
    EXPECT_EQ(snap->service(1).service_id, 2u);
}

TEST(Snapshot, PortZeroServiceCatchesEveryOtherPort) {
    auto snap = build_ok({service("10.99.0.252", 0, Protocol::Tcp, 1),
                          service("10.99.0.252", 80, Protocol::Tcp, 2)});
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 443, kTcp), 0u);
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 0, kTcp), 0u);
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 443, kUdp), kNoService);  // protocol
    EXPECT_EQ(snap->find_service(ip("10.99.0.253"), 443, kTcp), kNoService);  // other VIP
}

TEST(Snapshot, ProtocolAndFamilyAreDistinctKeys) {
    auto snap = build_ok({service("10.99.0.252", 53, Protocol::Tcp, 1),
                          service("10.99.0.252", 53, Protocol::Udp, 2),
                          service("::ffff:10.99.0.252", 53, Protocol::Udp, 3)});
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 53, kTcp), 0u);
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 53, kUdp), 1u);
    EXPECT_EQ(snap->find_service(ip("::ffff:10.99.0.252"), 53, kUdp), 2u);
    EXPECT_EQ(snap->find_service(ip("::ffff:10.99.0.252"), 53, kTcp), kNoService);
}

TEST(Snapshot, Ipv6VipIsFoundFromPacketBytes) {
    auto snap = build_ok({service("10.99.0.252", 80, Protocol::Tcp, 1),
                          service("2001:db8::252", 80, Protocol::Tcp, 2),
                          service("2001:db8::252", 0, Protocol::Udp, 3)});
    const net::IpAddress v6 = ip("2001:db8::252");
    EXPECT_EQ(snap->find_service_v6(v6.bytes(), 80, kTcp), 1u);
    EXPECT_EQ(snap->find_service_v6(v6.bytes(), 5353, kUdp), 2u);
    EXPECT_EQ(snap->find_service_v6(v6.bytes(), 81, kTcp), kNoService);
    const uint8_t v4[4] = {10, 99, 0, 252};
    EXPECT_EQ(snap->find_service_v4(v4, 80, kTcp), 0u);
    EXPECT_EQ(snap->vip(1), v6);
    EXPECT_EQ(snap->service(1).family, net::Family::V6);
}

TEST(Snapshot, IsVipKnowsEveryServiceAddressWhateverItsPort) {
    auto snap = build_ok({service("10.99.0.252", 80, Protocol::Tcp, 1),
                          service("10.99.0.252", 53, Protocol::Udp, 2),
                          service("2001:db8::252", 443, Protocol::Tcp, 3)});
    const uint8_t vip4[4] = {10, 99, 0, 252};
    const uint8_t other4[4] = {10, 99, 0, 251};
    EXPECT_TRUE(snap->is_vip(vip4, net::Family::V4));
    EXPECT_FALSE(snap->is_vip(other4, net::Family::V4));
    EXPECT_TRUE(snap->is_vip(ip("2001:db8::252").bytes(), net::Family::V6));
    EXPECT_FALSE(snap->is_vip(ip("2001:db8::253").bytes(), net::Family::V6));
    auto empty = build_ok({});
    EXPECT_FALSE(empty->is_vip(vip4, net::Family::V4));
}

TEST(Snapshot, MissesReturnNoService) {
    auto empty = build_ok({});
    EXPECT_EQ(empty->service_count(), 0u);
    EXPECT_EQ(empty->find_service(ip("10.0.0.1"), 80, kTcp), kNoService);
    EXPECT_EQ(empty->service_index(0), kNoService);
    EXPECT_EQ(empty->real_status(0, 0), RealStatus::Absent);

    auto snap = build_ok({service("10.99.0.252", 80, Protocol::Tcp, 1)});
    EXPECT_EQ(snap->find_service(ip("10.99.0.252"), 8080, kTcp), kNoService);
    EXPECT_EQ(snap->find_service(ip("10.99.0.25"), 80, kTcp), kNoService);
}

TEST(Snapshot, ServiceIndexFollowsStableIds) {
    auto snap = build_ok(
        {service("10.0.0.1", 80, Protocol::Tcp, 42), service("10.0.0.2", 80, Protocol::Tcp, 7)});
    EXPECT_EQ(snap->service_index(42), 0u);
    EXPECT_EQ(snap->service_index(7), 1u);
    EXPECT_EQ(snap->service_index(8), kNoService);
    EXPECT_EQ(snap->service_index(1u << 30), kNoService);
}

// ---- reals ---------------------------------------------------------------------------------

TEST(Snapshot, RealArraysKeepListOrder) {
    auto snap = build_ok({service("10.0.0.1", 80, Protocol::Tcp, 1,
                                  {real(5, 3), real(9, 0), real(2, 7, RealState::Down, false)})});
    EXPECT_EQ(std::vector<uint32_t>(snap->real_ids(0).begin(), snap->real_ids(0).end()),
              (std::vector<uint32_t>{5, 9, 2}));
    EXPECT_EQ(std::vector<uint32_t>(snap->weights(0).begin(), snap->weights(0).end()),
              (std::vector<uint32_t>{3, 0, 7}));
    EXPECT_EQ(snap->real_state(0, 2), RealState::Down);
    EXPECT_TRUE(snap->mac_known(0, 0));
    EXPECT_FALSE(snap->mac_known(0, 2));
    EXPECT_EQ(snap->mac(0, 0), (net::MacAddress{{0x02, 0, 0, 0, 0, 5}}));
    EXPECT_EQ(snap->tx_port(0, 1), 1u);
    EXPECT_EQ(snap->real_addr(0, 1), net::IpAddress::v4(0x0a630009u));
    const ServiceInfo& info = snap->service(0);
    EXPECT_EQ(info.real_count, 3u);
    EXPECT_EQ(info.usable_count, 1u);
    EXPECT_EQ(info.forwardable_count, 2u);
}

TEST(Snapshot, RealStatusAnswersTheTableHitCheck) {
    auto snap = build_ok({
        service("10.0.0.1", 80, Protocol::Tcp, 1,
                {real(10), real(11, 0), real(12, 1, RealState::Down),
                 real(13, 1, RealState::Up, false)}),
        service("10.0.0.2", 80, Protocol::Tcp, 2, {real(20)}),
    });
    EXPECT_EQ(snap->real_status(0, 10), RealStatus::Usable);
    EXPECT_EQ(snap->real_status(0, 11), RealStatus::Draining);
    EXPECT_EQ(snap->real_status(0, 12), RealStatus::Down);
    EXPECT_EQ(snap->real_status(0, 13), RealStatus::NoMac);
    EXPECT_EQ(snap->real_status(0, 20), RealStatus::Absent);  // member of another service
    EXPECT_EQ(snap->real_status(0, 99), RealStatus::Absent);  // never allocated
    EXPECT_EQ(snap->real_status(0, kMaxReals + 5), RealStatus::Absent);
    EXPECT_TRUE(snap->real_usable(1, 20));
    EXPECT_TRUE(snap->real_present(0, 11));
    EXPECT_FALSE(snap->real_usable(0, 11));
    EXPECT_FALSE(snap->real_present(1, 10));
    EXPECT_EQ(snap->locate_real(20).service_idx, 1u);
    EXPECT_EQ(snap->locate_real(13).slot, 3u);
    EXPECT_EQ(snap->find_real(0, 12), 2u);
    EXPECT_EQ(snap->find_real(1, 12), kNoReal);
}

// The worker's table-hit record says what the slot-indexed accessors say.
TEST(Snapshot, RealHotRecordAgreesWithTheSlotAccessors) {
    std::vector<ServiceSpec> specs = {
        service("10.0.0.1", 80, Protocol::Tcp, 1,
                {real(10), real(11, 0), real(12, 1, RealState::Down),
                 real(13, 1, RealState::Up, false)}),
        service("10.0.0.2", 80, Protocol::Tcp, 2, {real(20), real(3)}),
    };
    specs[1].reals[1].tx_port = 7;
    auto snap = build_ok(specs);
    int checked = 0;
    for (uint32_t svc = 0; svc < snap->service_count(); ++svc) {
        for (uint32_t slot = 0; slot < snap->real_ids(svc).size(); ++slot) {
            const RealHot& h = snap->real_hot(snap->real_id(svc, slot));
            EXPECT_EQ(h.service_idx, svc);
            EXPECT_EQ(h.slot, slot);
            EXPECT_EQ(h.tx_port, snap->tx_port(svc, slot));
            EXPECT_EQ(h.mac, snap->mac(svc, slot));
            EXPECT_EQ((h.flags & detail::kRealForward) != 0, snap->slot_forwardable(svc, slot));
            EXPECT_EQ((h.flags & detail::kRealNew) != 0, snap->slot_usable(svc, slot));
            ++checked;
        }
    }
    EXPECT_EQ(checked, 6);
    EXPECT_EQ(snap->real_hot(3).tx_port, 7u);
    // Ids below the largest but not in the snapshot, and ids beyond it.
    EXPECT_EQ(snap->real_hot(5).service_idx, kNoService);
    EXPECT_EQ(snap->locate_real(5).slot, kNoReal);
    for (const uint32_t beyond : {21u, kMaxReals + 5}) {
        EXPECT_EQ(snap->real_hot(beyond).service_idx, kNoService) << beyond;
        EXPECT_EQ(snap->real_hot(beyond).flags, 0u) << beyond;
    }
}

TEST(Snapshot, WrrParametersFollowIpvsInit) {
    auto snap =
        build_ok({service("10.0.0.1", 80, Protocol::Tcp, 1,
                          {real(1, 6), real(2, 4), real(3, 0), real(4, 9, RealState::Down)}),
                  service("10.0.0.2", 80, Protocol::Tcp, 2, {real(5, 0)})});
    EXPECT_EQ(snap->service(0).wrr_di, 2);  // gcd(6, 4); weight 0 and down ignored
    EXPECT_EQ(snap->service(0).wrr_mw, 5);  // 6 - (2 - 1)
    EXPECT_EQ(snap->service(1).wrr_mw, 0);  // nothing usable
    EXPECT_EQ(snap->service(1).wrr_di, 1);
}

// ---- per-service fields --------------------------------------------------------------------

TEST(Snapshot, CarriesSchedulerAndPersistence) {
    ServiceSpec s = service("10.99.0.252", 80, Protocol::Tcp, 3, {real(1)});
    s.scheduler = SchedulerKind::Wlc;
    s.persistence_timeout_s = 50;
    s.persistence_prefix_len = 24;
    s.generation = 17;
    auto snap = build_ok({s});
    const ServiceInfo& info = snap->service(0);
    EXPECT_EQ(info.scheduler, SchedulerKind::Wlc);
    EXPECT_EQ(info.persistence_timeout_s, 50u);
    EXPECT_EQ(info.persistence_prefix_len, 24u);
    EXPECT_EQ(info.generation, 17u);
    EXPECT_EQ(info.port, 80u);
    EXPECT_EQ(info.proto, Protocol::Tcp);
}

TEST(Snapshot, DefaultPersistenceGranularityIsTheVipsFullWidth) {
    ServiceSpec v4 = service("10.0.0.1", 80, Protocol::Tcp, 1);
    ServiceSpec v6 = service("2001:db8::1", 80, Protocol::Tcp, 2);
    v4.persistence_prefix_len = kFullPrefix;
    v6.persistence_prefix_len = kFullPrefix;
    EXPECT_EQ(ServiceSpec{}.persistence_prefix_len, kFullPrefix);
    auto snap = build_ok({v4, v6});
    EXPECT_EQ(snap->service(0).persistence_prefix_len, 32u);
    EXPECT_EQ(snap->service(1).persistence_prefix_len, 128u);
}

TEST(Snapshot, SchedKeyChangesWithGenerationAndUsableSetOnly) {
    ServiceSpec s = service("10.0.0.1", 80, Protocol::Tcp, 1, {real(1), real(2)});
    auto a = build_ok({s});
    auto same = build_ok({s});
    s.reals[1].mac = net::MacAddress{{0x02, 9, 9, 9, 9, 9}};  // a MAC change is not a reset
    auto new_mac = build_ok({s});
    s.generation = 2;
    auto gen = build_ok({s});
    s.reals[1].state = RealState::Down;
    auto down = build_ok({s});
    EXPECT_NE(a->service(0).sched_key, 0u);
    EXPECT_EQ(a->service(0).sched_key, same->service(0).sched_key);
    EXPECT_EQ(a->service(0).sched_key, new_mac->service(0).sched_key);
    EXPECT_NE(a->service(0).sched_key, gen->service(0).sched_key);
    EXPECT_NE(gen->service(0).sched_key, down->service(0).sched_key);
}

TEST(Snapshot, MaglevSizeIsAutomaticOrExplicit) {
    std::vector<RealSpec> two = {real(1), real(2)};
    std::vector<RealSpec> many;
    for (uint32_t i = 0; i < 100; ++i) {
        many.push_back(real(100 + i));
    }
    ServiceSpec pinned = service("10.0.0.3", 80, Protocol::Tcp, 3, {real(3)});
    pinned.maglev_size = kMaglevDefaultSize;
    auto snap = build_ok({service("10.0.0.1", 80, Protocol::Tcp, 1, two),
                          service("10.0.0.2", 80, Protocol::Tcp, 2, many), pinned});
    EXPECT_EQ(snap->service(0).maglev_size, 251u);
    EXPECT_EQ(snap->service(1).maglev_size, 16381u);
    EXPECT_EQ(snap->service(2).maglev_size, kMaglevDefaultSize);
    EXPECT_EQ(snap->maglev_table(1).size(), 16381u);
    for (const uint16_t e : snap->maglev_table(1)) {
        ASSERT_LT(e, 100u);
    }
}

TEST(Snapshot, ServiceWithoutRealsHasEmptyTables) {
    auto snap = build_ok({service("10.0.0.1", 80, Protocol::Tcp, 1)});
    for (const uint16_t e : snap->sh_table(0)) {
        EXPECT_EQ(e, kMaglevEmpty);
    }
    for (const uint16_t e : snap->dh_table(0)) {
        EXPECT_EQ(e, kMaglevEmpty);
    }
    EXPECT_EQ(snap->consistent_pick(0, 5), kNoReal);
}

// ---- table sharing -------------------------------------------------------------------------

TEST(Snapshot, TablesAreSharedWhenBackendsAreUnchanged) {
    ServiceSpec s = service("10.0.0.1", 80, Protocol::Tcp, 1, {real(1), real(2), real(3)});
    auto first = build_ok({s});
    s.reals[2].state = RealState::Down;  // health and MACs do not change the tables
    s.reals[0].mac.reset();
    auto second = build_ok({s}, first.get());
    EXPECT_EQ(second->maglev_table(0).data(), first->maglev_table(0).data());
    s.reals[1].weight = 5;  // a weight does
    auto third = build_ok({s}, second.get());
    EXPECT_NE(third->maglev_table(0).data(), second->maglev_table(0).data());
    // The shared table outlives the snapshot that built it.
    const std::vector<uint16_t> copy(second->maglev_table(0).begin(),
                                     second->maglev_table(0).end());
    first.reset();
    EXPECT_TRUE(std::equal(copy.begin(), copy.end(), second->maglev_table(0).begin()));
}

TEST(Snapshot, QuiescedRealWithLastWeightKeepsTheSharedTable) {
    ServiceSpec s = service("10.0.0.1", 80, Protocol::Tcp, 1, {real(1, 3), real(2, 3)});
    auto first = build_ok({s});
    s.reals[1].weight = 0;
    s.reals[1].last_weight = 3;
    auto drained = build_ok({s}, first.get());
    EXPECT_EQ(drained->maglev_table(0).data(), first->maglev_table(0).data());
    EXPECT_EQ(drained->real_status(0, 2), RealStatus::Draining);
}

TEST(Snapshot, BuilderAddThenBuildMatchesOneShotBuild) {
    SnapshotBuilder b;
    b.add(service("10.0.0.1", 80, Protocol::Tcp, 1, {real(1)}))
        .add(service("10.0.0.2", 80, Protocol::Tcp, 2, {real(2)}));
    auto r = b.build();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->service_count(), 2u);
    EXPECT_EQ((*r)->find_service(ip("10.0.0.2"), 80, kTcp), 1u);
}

// ---- validation ----------------------------------------------------------------------------

TEST(SnapshotBuilder, RejectsDuplicateVirtualService) {
    const auto msg = build_error(
        {service("10.0.0.1", 80, Protocol::Tcp, 1), service("10.0.0.1", 80, Protocol::Tcp, 2)});
    EXPECT_NE(msg.find("services[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("duplicate virtual service"), std::string::npos) << msg;
}

TEST(SnapshotBuilder, RejectsDuplicateServiceId) {
    const auto msg = build_error(
        {service("10.0.0.1", 80, Protocol::Tcp, 4), service("10.0.0.2", 80, Protocol::Tcp, 4)});
    EXPECT_NE(msg.find("duplicate service_id 4"), std::string::npos) << msg;
}

TEST(SnapshotBuilder, RejectsARealIdUsedTwiceEvenAcrossServices) {
    const auto msg = build_error({service("10.0.0.1", 80, Protocol::Tcp, 1, {real(3)}),
                                  service("10.0.0.2", 80, Protocol::Tcp, 2, {real(3)})});
    EXPECT_NE(msg.find("services[1] (10.0.0.2:80/tcp).reals[0]: duplicate real_id 3"),
              std::string::npos)
        << msg;
}

TEST(SnapshotBuilder, RejectsOutOfRangeIdsAndWeights) {
    EXPECT_NE(
        build_error({service("10.0.0.1", 80, Protocol::Tcp, kMaxServices)}).find("service_id"),
        std::string::npos);
    EXPECT_NE(
        build_error({service("10.0.0.1", 80, Protocol::Tcp, 1, {real(kMaxReals)})}).find("real_id"),
        std::string::npos);
    EXPECT_NE(build_error({service("10.0.0.1", 80, Protocol::Tcp, 1, {real(1, kMaxWeight + 1)})})
                  .find("weight above"),
              std::string::npos);
}

TEST(SnapshotBuilder, RejectsTooManyReals) {
    std::vector<RealSpec> reals;
    for (uint32_t i = 0; i <= kMaxRealsPerService; ++i) {
        reals.push_back(real(i));
    }
    EXPECT_NE(build_error({service("10.0.0.1", 80, Protocol::Tcp, 1, reals)}).find("at most"),
              std::string::npos);
}

TEST(SnapshotBuilder, RejectsPersistencePrefixLongerThanTheFamily) {
    ServiceSpec s = service("10.0.0.1", 80, Protocol::Tcp, 1);
    s.persistence_prefix_len = 33;
    EXPECT_NE(build_error({s}).find("persistence prefix /33"), std::string::npos);
    ServiceSpec v6 = service("2001:db8::1", 80, Protocol::Tcp, 1);
    v6.persistence_prefix_len = 128;
    EXPECT_EQ(build_error({v6}), "(built)");
}

TEST(SnapshotBuilder, RejectsAMaglevSizeThatIsNotPrimeOrTooSmall) {
    ServiceSpec s = service("10.0.0.1", 80, Protocol::Tcp, 1, {real(1), real(2), real(3)});
    s.maglev_size = 1000;
    EXPECT_NE(build_error({s}).find("maglev table size 1000"), std::string::npos);
    s.maglev_size = 3;
    EXPECT_NE(build_error({s}).find("maglev table size 3"), std::string::npos);
    s.maglev_size = 7;
    EXPECT_EQ(build_error({s}), "(built)");
}

// ---- scale ---------------------------------------------------------------------------------

std::vector<ServiceSpec> many_services(uint32_t services, uint32_t reals_per_service) {
    std::vector<ServiceSpec> specs;
    specs.reserve(services);
    for (uint32_t s = 0; s < services; ++s) {
        ServiceSpec spec;
        spec.vip = net::IpAddress::v4(0x0a000000u + s);
        spec.port = static_cast<uint16_t>(80 + s % 2);
        spec.proto = Protocol::Tcp;
        spec.scheduler = static_cast<SchedulerKind>(s % 9);
        spec.service_id = s;
        spec.reals.reserve(reals_per_service);
        for (uint32_t r = 0; r < reals_per_service; ++r) {
            RealSpec real;
            real.real_id = s * reals_per_service + r;
            real.addr = net::IpAddress::v4(0xac100000u + real.real_id);
            real.port = spec.port;
            real.weight = 1 + r % 4;
            real.mac = net::MacAddress{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(r)}};
            spec.reals.push_back(real);
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

TEST(Snapshot, ThousandServicesOfHundredRealsBuildAndLookUp) {
    const auto specs = many_services(1000, 100);
    const auto t0 = std::chrono::steady_clock::now();
    auto snap = build_ok(specs);
    const auto t1 = std::chrono::steady_clock::now();
    ASSERT_NE(snap, nullptr);
    auto again = build_ok(specs, snap.get());  // republish: every table shared
    const auto t2 = std::chrono::steady_clock::now();
    const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::printf("[          ] 1000x100 build: cold %.1f ms, republish %.1f ms\n", ms(t1 - t0),
                ms(t2 - t1));

    ASSERT_EQ(snap->service_count(), 1000u);
    for (uint32_t s = 0; s < 1000; ++s) {
        const uint32_t svc = snap->find_service(specs[s].vip, specs[s].port, kTcp);
        ASSERT_EQ(svc, s);
        ASSERT_EQ(snap->service(svc).real_count, 100u);
        ASSERT_EQ(snap->real_status(svc, s * 100 + 42), RealStatus::Usable);
        ASSERT_EQ(again->maglev_table(svc).data(), snap->maglev_table(svc).data());
        SchedState st;
        const uint32_t slot = schedule(*snap, svc, SchedInput{s, s, s}, st);
        ASSERT_LT(slot, 100u);
    }
    EXPECT_EQ(snap->real_status(0, 150), RealStatus::Absent);  // real 150 is in service 1
}

}  // namespace
}  // namespace director::lb
