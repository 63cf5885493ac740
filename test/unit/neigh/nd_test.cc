// SPDX-License-Identifier: BSD-3-Clause
// parse_nd: one row per RFC 4861 7.1.1 / 7.1.2 validity check (each frame broken in exactly
// one way), then the fields of accepted messages, then the reason lists.
#include "neigh/nd.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "nd_frame.h"
#include "neigh/reasons.h"

namespace director::neigh {

inline void PrintTo(NdError e, std::ostream* os) { *os << to_string(e); }
inline void PrintTo(Reason r, std::ostream* os) { *os << to_string(r); }

namespace {

using fixture::kOtherMac;
using fixture::kRsMac;
using fixture::NdFrame;
using fixture::parse;
using fixture::sllao;
using fixture::tllao;

struct Row {
    const char* name;
    std::function<test::Bytes()> frame;
    NdError expected;
};

test::Bytes ns_with(const std::function<void(NdFrame&)>& edit) {
    NdFrame f;
    edit(f);
    return f.build();
}

test::Bytes na_with(const std::function<void(NdFrame&)>& edit) {
    NdFrame f = NdFrame::na_from_rs();
    edit(f);
    return f.build();
}

const Row kRows[] = {
    {"ValidNs", [] { return NdFrame().build(); }, NdError::None},
    {"ValidNa", [] { return NdFrame::na_from_rs().build(); }, NdError::None},
    {"ValidDadProbe",
     [] {
         return ns_with([](NdFrame& f) {
             f.src = "::";
             f.options.clear();
         });
     },
     NdError::None},
    {"UnknownOptionSkipped",
     [] {
         return ns_with([](NdFrame& f) {
             // A nonce option (RFC 3971, type 14, one unit) before the SLLAO.
             test::Bytes nonce{14, 1, 1, 2, 3, 4, 5, 6};
             f.options.insert(f.options.begin(), nonce.begin(), nonce.end());
         });
     },
     NdError::None},
    {"NsWithTargetOptionIgnoresIt",
     [] { return ns_with([](NdFrame& f) { f.options = tllao(kRsMac); }); }, NdError::None},
    {"TaggedNs", [] { return ns_with([](NdFrame& f) { f.vlan = 100; }); }, NdError::None},
    {"Fragmented", [] { return ns_with([](NdFrame& f) { f.fragment = true; }); },
     NdError::NdFragmented},
    {"HopLimit64", [] { return ns_with([](NdFrame& f) { f.hop_limit = 64; }); },
     NdError::NdBadHopLimit},
    {"HopLimit254OnNa", [] { return na_with([](NdFrame& f) { f.hop_limit = 254; }); },
     NdError::NdBadHopLimit},
    {"Code1", [] { return ns_with([](NdFrame& f) { f.code = 1; }); }, NdError::NdBadCode},
    {"ShorterThan24Bytes",
     [] {
         // ICMPv6 header plus 8 bytes: half a target address.
         return test::PacketBuilder()
             .eth(kRsMac, "33:33:ff:00:02:52")
             .ipv6("fd00:99::142", "ff02::1:ff00:252")
             .ttl(255)
             .icmp(kIcmpv6NeighbourSolicitation, 0)
             .payload_size(8)
             .build();
     },
     NdError::NdTooShort},
    {"BadChecksum",
     [] {
         test::Bytes b = NdFrame().build();
         b[14 + 40 + 2] ^= 0x01;
         return b;
     },
     NdError::NdBadChecksum},
    {"MulticastTarget", [] { return ns_with([](NdFrame& f) { f.target = "ff02::1"; }); },
     NdError::NdMulticastTarget},
    {"ZeroLengthOption",
     [] { return ns_with([](NdFrame& f) { f.options = fixture::mac_option(1, kRsMac, 0); }); },
     NdError::NdBadOptionLength},
    {"OptionPastTheEnd",
     [] { return ns_with([](NdFrame& f) { f.options = fixture::mac_option(1, kRsMac, 2); }); },
     NdError::NdBadOptionLength},
    {"TrailingByteAfterOptions", [] { return ns_with([](NdFrame& f) { f.options.push_back(0); }); },
     NdError::NdBadOptionLength},
    {"SixteenByteLinkLayerOption",
     [] {
         return ns_with([](NdFrame& f) {
             f.options = fixture::mac_option(1, kRsMac, 2);
             f.options.resize(16, 0);
         });
     },
     NdError::NdBadLinkLayerOption},
    {"DadProbeWithSourceOption", [] { return ns_with([](NdFrame& f) { f.src = "::"; }); },
     NdError::NdBadDad},
    {"DadProbeToUnicast",
     [] {
         return ns_with([](NdFrame& f) {
             f.src = "::";
             f.dst = "fd00:99::252";
             f.options.clear();
         });
     },
     NdError::NdBadDad},
    {"SolicitedNaToAllNodes",
     [] {
         return na_with([](NdFrame& f) {
             f.dst = "ff02::1";
             f.eth_dst = "33:33:00:00:00:01";
         });
     },
     NdError::NdSolicitedToMulticast},
    {"UnsolicitedNaToAllNodes",
     [] {
         return na_with([](NdFrame& f) {
             f.dst = "ff02::1";
             f.eth_dst = "33:33:00:00:00:01";
             f.na_flags = kNaFlagOverride;
         });
     },
     NdError::None},
};

class NdParse : public ::testing::TestWithParam<Row> {};

TEST_P(NdParse, GivesTheExpectedVerdict) {
    const test::Bytes frame = GetParam().frame();
    EXPECT_EQ(parse(frame), GetParam().expected) << test::hex(frame);
}

INSTANTIATE_TEST_SUITE_P(Rfc4861, NdParse, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) {
                             return std::string(info.param.name);
                         });

TEST(NdParseFields, NsFromTheRealServer) {
    NdPacket nd;
    ASSERT_EQ(parse(ns_with([](NdFrame& f) { f.vlan = 7; }), &nd), NdError::None);
    EXPECT_TRUE(nd.is_ns());
    EXPECT_EQ(nd.src, test::ip("fd00:99::142"));
    EXPECT_EQ(nd.dst, test::ip("ff02::1:ff00:252"));
    EXPECT_EQ(nd.target, test::ip("fd00:99::252"));
    EXPECT_EQ(nd.lladdr, test::mac(kRsMac));
    EXPECT_EQ(nd.eth_src, test::mac(kRsMac));
    EXPECT_EQ(nd.eth_dst, test::mac("33:33:ff:00:02:52"));
    EXPECT_EQ(nd.vlan_id, 7);
    EXPECT_EQ(nd.na_flags, 0);
}

TEST(NdParseFields, NaFlagsAndTargetOption) {
    NdPacket nd;
    ASSERT_EQ(parse(na_with([](NdFrame& f) { f.na_flags = 0xff; }), &nd), NdError::None);
    EXPECT_TRUE(nd.is_na());
    EXPECT_EQ(nd.na_flags, kNaFlagRouter | kNaFlagSolicited | kNaFlagOverride);
    EXPECT_EQ(nd.target, test::ip("fd00:99::142"));
    EXPECT_EQ(nd.lladdr, test::mac(kRsMac));
}

TEST(NdParseFields, NaIgnoresASourceOptionAndKeepsTheFirstTargetOption) {
    NdPacket nd;
    ASSERT_EQ(parse(na_with([](NdFrame& f) { f.options = sllao(kOtherMac); }), &nd), NdError::None);
    EXPECT_FALSE(nd.lladdr);
    ASSERT_EQ(parse(na_with([](NdFrame& f) {
                        const test::Bytes second = tllao(kOtherMac);
                        f.options.insert(f.options.end(), second.begin(), second.end());
                    }),
                    &nd),
              NdError::None);
    EXPECT_EQ(nd.lladdr, test::mac(kRsMac));
}

TEST(NdParseFields, NeedsTheWholeMessageInTheBuffer) {
    const test::Bytes frame = NdFrame().build();
    net::ParsedPacket p;
    ASSERT_EQ(net::parse_frame(frame.data(), static_cast<uint32_t>(frame.size()), p),
              net::Verdict::Ok);
    NdPacket nd;
    EXPECT_EQ(parse_nd(std::span<const uint8_t>(frame.data(), frame.size() - 1), p, nd),
              NdError::NdTooShort);
}

TEST(NdParseFields, IsNdSelectsOnlyNsAndNa) {
    const test::Bytes echo = test::PacketBuilder()
                                 .eth(kRsMac, fixture::kDirectorMac)
                                 .ipv6("fd00:99::142", "fd00:99::120")
                                 .echo_request(1, 1)
                                 .build();
    net::ParsedPacket p;
    ASSERT_EQ(net::parse_frame(echo.data(), static_cast<uint32_t>(echo.size()), p),
              net::Verdict::Ok);
    EXPECT_FALSE(is_nd(p));
}

// ---- Reason lists -----------------------------------------------------------------------------

TEST(Reasons, NamesAreUniqueSnakeCaseAndDocumented) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < kReasonCount; ++i) {
        const auto r = static_cast<Reason>(i);
        const std::string name = counter_name(r);
        EXPECT_TRUE(names.insert(name).second) << name;
        EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"),
                  std::string::npos)
            << name;
        EXPECT_STRNE(help_text(r), "") << name;
        EXPECT_STRNE(to_string(r), "Invalid") << name;
    }
    EXPECT_STREQ(to_string(static_cast<Reason>(kReasonCount)), "Invalid");
    EXPECT_STREQ(counter_name(static_cast<Reason>(kReasonCount)), "invalid");
}

TEST(Reasons, EveryNdErrorMapsToTheReasonOfTheSameName) {
    for (std::size_t i = 1; i <= kNdErrorCount; ++i) {
        const auto e = static_cast<NdError>(i);
        EXPECT_STREQ(to_string(to_reason(e)), to_string(e));
    }
    EXPECT_STREQ(to_string(NdError::None), "None");
}

}  // namespace
}  // namespace director::neigh
