// SPDX-License-Identifier: BSD-3-Clause
#include "net/verdict.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

namespace director::net {
namespace {

TEST(Verdict, ClassesComeFirstThenDropReasons) {
    EXPECT_FALSE(is_drop(Verdict::Ok));
    EXPECT_FALSE(is_drop(Verdict::IcmpError));
    EXPECT_FALSE(is_drop(Verdict::Fragment));
    EXPECT_FALSE(is_drop(Verdict::Arp));
    EXPECT_FALSE(is_drop(Verdict::NotIp));
    EXPECT_TRUE(is_drop(Verdict::TooShort));
    EXPECT_TRUE(is_drop(Verdict::IcmpBadInner));
    EXPECT_EQ(kClassCount, 5u);
    EXPECT_EQ(drop_index(Verdict::TooShort), 0u);
    EXPECT_EQ(drop_index(Verdict::IcmpBadInner), kDropReasonCount - 1);
}

TEST(Verdict, NamesCounterNamesAndHelpAreComplete) {
    std::set<std::string> names;
    std::set<std::string> counters;
    for (std::size_t i = 0; i < kVerdictCount; ++i) {
        const auto v = static_cast<Verdict>(i);
        const std::string name = to_string(v);
        const std::string counter = counter_name(v);
        EXPECT_TRUE(std::isupper(static_cast<unsigned char>(name[0]))) << name;
        for (char c : counter) {
            EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) || c == '_' ||
                        std::isdigit(static_cast<unsigned char>(c)))
                << counter;
        }
        EXPECT_GT(std::string(help_text(v)).size(), 10u) << name;
        names.insert(name);
        counters.insert(counter);
    }
    EXPECT_EQ(names.size(), kVerdictCount);
    EXPECT_EQ(counters.size(), kVerdictCount);
    EXPECT_STREQ(to_string(Verdict::Ipv4BadChecksum), "Ipv4BadChecksum");
    EXPECT_STREQ(counter_name(Verdict::Ipv4BadChecksum), "ipv4_bad_checksum");
}

TEST(Verdict, OutOfRangeValuesAreNamedSafely) {
    const auto bad = static_cast<Verdict>(200);
    EXPECT_STREQ(to_string(bad), "Invalid");
    EXPECT_STREQ(counter_name(bad), "invalid");
    EXPECT_STREQ(help_text(bad), "");
}

// The metrics layer builds its counter block from the same list; this is how it would.
TEST(Verdict, XMacroListBuildsACounterBlock) {
    struct DropCounters {
#define DIRECTOR_NET_FIELD(name, counter, help) uint64_t counter = 0;
        DIRECTOR_NET_DROP_REASONS(DIRECTOR_NET_FIELD)
#undef DIRECTOR_NET_FIELD
    };
    static_assert(sizeof(DropCounters) == kDropReasonCount * sizeof(uint64_t));
    DropCounters c;
    c.ipv6_too_many_ext_headers = 3;
    EXPECT_EQ(c.ipv6_too_many_ext_headers, 3u);
}

}  // namespace
}  // namespace director::net
