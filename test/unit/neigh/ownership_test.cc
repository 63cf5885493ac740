// SPDX-License-Identifier: BSD-3-Clause
// Ownership: own addresses always held, VIPs only while their VRRP group is MASTER, VIPs
// without a group always, everything per port.
#include "neigh/ownership.h"

#include <gtest/gtest.h>

#include <vector>

#include "fixtures/packet_builder.h"

namespace director::neigh {

inline void PrintTo(Holding h, std::ostream* os) {
    static constexpr const char* kNames[] = {"None", "Own", "Vip", "VipNotMaster"};
    *os << kNames[static_cast<int>(h)];
}

namespace {

using test::ip;

constexpr Ownership::GroupId kGroup = 7;

TEST(Ownership, OwnAddressIsHeldWhateverVrrpSays) {
    Ownership o;
    o.add_own(0, ip("10.99.0.120"));
    EXPECT_EQ(o.lookup(0, ip("10.99.0.120")), Holding::Own);
    o.set_master(kGroup, true);
    o.set_master(kGroup, false);
    EXPECT_EQ(o.lookup(0, ip("10.99.0.120")), Holding::Own);
}

TEST(Ownership, VipIsHeldOnlyWhileItsGroupIsMaster) {
    Ownership o;
    o.add_vip(0, ip("10.99.0.252"), kGroup);
    EXPECT_EQ(o.lookup(0, ip("10.99.0.252")), Holding::VipNotMaster);
    o.set_master(kGroup, true);
    EXPECT_EQ(o.lookup(0, ip("10.99.0.252")), Holding::Vip);
    EXPECT_TRUE(answers(o.lookup(0, ip("10.99.0.252"))));
    o.set_master(kGroup, false);
    EXPECT_EQ(o.lookup(0, ip("10.99.0.252")), Holding::VipNotMaster);
    EXPECT_FALSE(answers(o.lookup(0, ip("10.99.0.252"))));
}

TEST(Ownership, VipWithoutGroupIsAlwaysHeld) {
    Ownership o;
    o.add_vip(0, ip("fd00:99::252"));
    EXPECT_EQ(o.lookup(0, ip("fd00:99::252")), Holding::Vip);
    EXPECT_TRUE(o.is_master(Ownership::kNoGroup));
}

TEST(Ownership, AddressesArePerPort) {
    Ownership o;
    o.add_own(1, ip("10.98.0.1"));
    EXPECT_EQ(o.lookup(0, ip("10.98.0.1")), Holding::None);
    EXPECT_EQ(o.lookup(1, ip("10.98.0.1")), Holding::Own);
    EXPECT_EQ(o.lookup(1, ip("10.98.0.2")), Holding::None);
}

TEST(Ownership, OwnAddressWinsOverVip) {
    Ownership o;
    o.add_vip(0, ip("10.99.0.120"), kGroup);
    o.add_own(0, ip("10.99.0.120"));
    EXPECT_EQ(o.lookup(0, ip("10.99.0.120")), Holding::Own);
}

TEST(Ownership, ReAddingAVipMovesItToTheNewGroup) {
    Ownership o;
    o.set_master(kGroup, true);
    o.add_vip(0, ip("10.99.0.252"), kGroup);
    o.add_vip(0, ip("10.99.0.252"), kGroup + 1);
    EXPECT_EQ(o.lookup(0, ip("10.99.0.252")), Holding::VipNotMaster);
    EXPECT_TRUE(o.vips(kGroup).empty());
}

TEST(Ownership, VipsOfAGroupAreListedInPortAddressOrder) {
    Ownership o;
    o.add_vip(1, ip("10.99.0.251"), kGroup);
    o.add_vip(0, ip("10.99.0.253"), kGroup);
    o.add_vip(0, ip("10.99.0.252"), kGroup);
    o.add_vip(0, ip("10.99.0.254"), kGroup + 1);
    o.add_own(0, ip("10.99.0.120"));
    const std::vector<PortAddress> expected = {
        {0, ip("10.99.0.252")}, {0, ip("10.99.0.253")}, {1, ip("10.99.0.251")}};
    EXPECT_EQ(o.vips(kGroup), expected);
}

TEST(Ownership, RemoveAndClearForget) {
    Ownership o;
    o.add_own(0, ip("10.99.0.120"));
    o.add_vip(0, ip("10.99.0.252"), kGroup);
    o.set_master(kGroup, true);
    EXPECT_TRUE(o.remove(0, ip("10.99.0.120")));
    EXPECT_FALSE(o.remove(0, ip("10.99.0.120")));
    EXPECT_EQ(o.lookup(0, ip("10.99.0.120")), Holding::None);
    o.clear();
    EXPECT_EQ(o.lookup(0, ip("10.99.0.252")), Holding::None);
    EXPECT_FALSE(o.is_master(kGroup));
}

}  // namespace
}  // namespace director::neigh
