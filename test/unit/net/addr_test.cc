// SPDX-License-Identifier: BSD-3-Clause
#include "net/addr.h"

#include <gtest/gtest.h>

namespace director::net {
namespace {

TEST(IpAddress, ParsesIpv4AndFormatsBack) {
    auto a = IpAddress::parse("172.17.13.252");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->v4_host(), 0xac110dfcu);
    EXPECT_EQ(a->to_string(), "172.17.13.252");
}

TEST(IpAddress, ParsesIpv6AndCompressesOnOutput) {
    auto a = IpAddress::parse("2001:0db8:0:0:0:0:0:1");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->to_string(), "2001:db8::1");
}

TEST(IpAddress, RejectsMalformedText) {
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "::g", "abc",
                            "1.2.3.4/24", "01234567890123456789012345678901234567890123456789"}) {
        EXPECT_FALSE(IpAddress::parse(bad)) << bad;
    }
}

TEST(IpAddress, OrdersNumericallyWithinFamily) {
    EXPECT_LT(*IpAddress::parse("10.0.0.9"), *IpAddress::parse("10.0.0.10"));
    EXPECT_LT(*IpAddress::parse("10.255.0.0"), *IpAddress::parse("11.0.0.0"));
    EXPECT_LT(*IpAddress::parse("255.255.255.255"), *IpAddress::parse("::1"));
}

TEST(IpAddress, MaskedClearsHostBits) {
    EXPECT_EQ(IpAddress::parse("10.99.0.77")->masked(24), *IpAddress::parse("10.99.0.0"));
    EXPECT_EQ(IpAddress::parse("10.99.0.77")->masked(20), *IpAddress::parse("10.99.0.0"));
    EXPECT_EQ(IpAddress::parse("10.99.255.77")->masked(17), *IpAddress::parse("10.99.128.0"));
    EXPECT_EQ(IpAddress::parse("2001:db8::ff")->masked(64), *IpAddress::parse("2001:db8::"));
}

TEST(Prefix, ParsesWithAndWithoutLength) {
    auto p = Prefix::parse("10.99.0.120/24");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->length, 24);
    EXPECT_TRUE(p->contains(*IpAddress::parse("10.99.0.1")));
    EXPECT_FALSE(p->contains(*IpAddress::parse("10.98.0.1")));
    EXPECT_EQ(Prefix::parse("fe80::1")->length, 128);
    EXPECT_EQ(Prefix::parse("10.0.0.1")->length, 32);
    EXPECT_FALSE(Prefix::parse("10.0.0.1/33"));
    EXPECT_FALSE(Prefix::parse("10.0.0.1/"));
    EXPECT_FALSE(Prefix::parse("10.0.0.1/2x"));
}

TEST(MacAddress, ParsesBothSeparatorsAndRejectsGarbage) {
    auto m = MacAddress::parse("02:AB:cd:00:01:ff");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->to_string(), "02:ab:cd:00:01:ff");
    EXPECT_TRUE(MacAddress::parse("02-ab-cd-00-01-ff"));
    EXPECT_FALSE(MacAddress::parse("02:ab:cd:00:01"));
    EXPECT_FALSE(MacAddress::parse("02:ab:cd:00:01:fg"));
    EXPECT_FALSE(MacAddress::parse("02:ab:cd:00:01:ff:"));
    EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:12")->is_multicast());
}

TEST(Netmask, ContiguousMasksOnly) {
    EXPECT_EQ(netmask_to_prefix("255.255.255.255"), 32);
    EXPECT_EQ(netmask_to_prefix("255.255.255.0"), 24);
    EXPECT_EQ(netmask_to_prefix("0.0.0.0"), 0);
    EXPECT_FALSE(netmask_to_prefix("255.0.255.0"));
    EXPECT_FALSE(netmask_to_prefix("::"));
}

}  // namespace
}  // namespace director::net
