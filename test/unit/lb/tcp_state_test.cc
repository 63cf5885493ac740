// SPDX-License-Identifier: BSD-3-Clause
#include "lb/tcp_state.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace director::lb {
namespace {

using S = ConnState;

constexpr std::array<S, 11> kTcpStates = {S::None,    S::Established, S::SynSent, S::SynRecv,
                                          S::FinWait, S::TimeWait,    S::Close,   S::CloseWait,
                                          S::LastAck, S::Listen,      S::SynAck};

// IPVS INPUT-ONLY table as printed in shared/reference/keepalived.md §3.4, transcribed from
// the text (not from the implementation), columns NONE ES SS SR FW TW CL CW LA LI SA.
S parse(const std::string& cell) {
    static const std::map<std::string, S> kCells = {
        {"SR", S::SynRecv},   {"ES", S::Established}, {"SS", S::SynSent},
        {"FW", S::FinWait},   {"TW", S::TimeWait},    {"CL", S::Close},
        {"CW", S::CloseWait}, {"LA", S::LastAck},     {"LI", S::Listen},
    };
    const auto it = kCells.find(cell);
    if (it == kCells.end()) {
        ADD_FAILURE() << "bad cell " << cell;
        return S::None;
    }
    return it->second;
}

struct Row {
    const char* name;
    uint8_t flags;
    std::array<const char*, 11> cells;
};

const std::array<Row, 4> kInputOnly = {{
    {"SYN", kTcpSyn, {"SR", "ES", "ES", "SR", "SR", "SR", "SR", "SR", "SR", "SR", "SR"}},
    {"FIN", kTcpFin, {"CL", "FW", "SS", "TW", "FW", "TW", "CL", "CW", "LA", "LI", "TW"}},
    {"ACK", kTcpAck, {"ES", "ES", "SS", "ES", "FW", "TW", "CL", "CW", "CL", "LI", "ES"}},
    {"RST", kTcpRst, {"CL", "CL", "CL", "SR", "CL", "CL", "CL", "CL", "LA", "LI", "CL"}},
}};

TEST(TcpState, EveryCellOfTheInputOnlyTable) {
    for (const Row& row : kInputOnly) {
        for (std::size_t c = 0; c < kTcpStates.size(); ++c) {
            EXPECT_EQ(next_state(kTcpStates[c], row.flags), parse(row.cells[c]))
                << row.name << " in " << to_string(kTcpStates[c]);
        }
    }
}

TEST(TcpState, FlagPriorityIsRstSynFinAck) {
    for (S s : kTcpStates) {
        EXPECT_EQ(next_state(s, kTcpRst | kTcpSyn | kTcpFin | kTcpAck), next_state(s, kTcpRst));
        EXPECT_EQ(next_state(s, kTcpSyn | kTcpFin | kTcpAck), next_state(s, kTcpSyn));
        EXPECT_EQ(next_state(s, kTcpSyn | kTcpAck), next_state(s, kTcpSyn));
        EXPECT_EQ(next_state(s, kTcpFin | kTcpAck), next_state(s, kTcpFin));
        EXPECT_EQ(next_state(s, kTcpAck | kTcpPsh), next_state(s, kTcpAck));
    }
}

TEST(TcpState, NoneOfTheFlagsMeansClose) {
    // ip_vs_proto_tcp.c set_tcp_state(): tcp_state_idx() < 0 => IP_VS_TCP_S_CLOSE.
    for (S s : kTcpStates) {
        EXPECT_EQ(next_state(s, 0), S::Close) << to_string(s);
        EXPECT_EQ(next_state(s, kTcpPsh), S::Close) << to_string(s);
        EXPECT_EQ(next_state(s, 0xe0 | kTcpPsh), S::Close) << to_string(s);  // URG ECE CWR
    }
}

TEST(TcpState, UpperFlagBitsAreIgnored) {
    for (S s : kTcpStates) {
        for (unsigned f = 0; f < 32; ++f) {
            for (unsigned hi : {0x20u, 0x40u, 0x80u, 0xe0u}) {
                EXPECT_EQ(next_state(s, static_cast<uint8_t>(f | hi)),
                          next_state(s, static_cast<uint8_t>(f)));
            }
        }
    }
}

TEST(TcpState, UdpNeverChanges) {
    for (unsigned f = 0; f < 256; ++f) {
        EXPECT_EQ(next_state(S::Udp, static_cast<uint8_t>(f)), S::Udp);
    }
}

TEST(TcpState, DrLifecycle) {
    S s = next_state(S::None, kTcpSyn);
    EXPECT_EQ(s, S::SynRecv);
    s = next_state(s, kTcpAck);
    EXPECT_EQ(s, S::Established);
    s = next_state(s, kTcpAck | kTcpPsh);
    EXPECT_EQ(s, S::Established);
    s = next_state(s, kTcpFin | kTcpAck);
    EXPECT_EQ(s, S::FinWait);
    s = next_state(s, kTcpAck);
    EXPECT_EQ(s, S::FinWait);
    s = next_state(s, kTcpRst);
    EXPECT_EQ(s, S::Close);
    // A SYN reusing the entry starts a new handshake.
    EXPECT_EQ(next_state(s, kTcpSyn), S::SynRecv);
    // Sloppy TCP: a first ACK without an entry creates an ESTABLISHED connection.
    EXPECT_EQ(next_state(S::None, kTcpAck), S::Established);
}

TEST(TcpState, ReachableStatesFromNone) {
    std::set<S> seen{S::None};
    std::vector<S> work{S::None};
    while (!work.empty()) {
        const S s = work.back();
        work.pop_back();
        for (unsigned f = 0; f < 256; ++f) {
            const S n = next_state(s, static_cast<uint8_t>(f));
            if (seen.insert(n).second) {
                work.push_back(n);
            }
        }
    }
    // The INPUT-ONLY table never produces SYN_SENT, CLOSE_WAIT, LAST_ACK, LISTEN or SYNACK
    // from a new connection: a DR director sees only these five states.
    EXPECT_EQ(seen, (std::set<S>{S::None, S::SynRecv, S::Established, S::FinWait, S::TimeWait,
                                 S::Close}));
}

TEST(TcpState, DefaultTimeoutsAreIpvs) {
    const ConnTimeouts t;
    EXPECT_EQ(t.for_state(S::None), 2u);
    EXPECT_EQ(t.for_state(S::Established), 900u);
    EXPECT_EQ(t.for_state(S::SynSent), 120u);
    EXPECT_EQ(t.for_state(S::SynRecv), 60u);
    EXPECT_EQ(t.for_state(S::FinWait), 120u);
    EXPECT_EQ(t.for_state(S::TimeWait), 120u);
    EXPECT_EQ(t.for_state(S::Close), 10u);
    EXPECT_EQ(t.for_state(S::CloseWait), 60u);
    EXPECT_EQ(t.for_state(S::LastAck), 30u);
    EXPECT_EQ(t.for_state(S::Listen), 120u);
    EXPECT_EQ(t.for_state(S::SynAck), 120u);
    EXPECT_EQ(t.for_state(S::Udp), 300u);
}

TEST(TcpState, ConfiguredTimeoutsMapToTheirStates) {
    const ConnTimeouts t{.established = 3600, .syn_recv = 5, .fin_wait = 7, .udp = 11};
    EXPECT_EQ(t.for_state(S::Established), 3600u);
    EXPECT_EQ(t.for_state(S::SynRecv), 5u);
    EXPECT_EQ(t.for_state(S::FinWait), 7u);
    EXPECT_EQ(t.for_state(S::Udp), 11u);
    EXPECT_EQ(t.for_state(S::Close), 10u);
}

TEST(TcpState, OnlyEstablishedIsActive) {
    for (S s : kTcpStates) {
        EXPECT_EQ(is_active(s), s == S::Established) << to_string(s);
    }
    EXPECT_FALSE(is_active(S::Udp));
}

TEST(TcpState, EvictionRanksHalfOpenFirstAndNeverEstablished) {
    EXPECT_EQ(evict_rank(S::Established), 0u);
    EXPECT_EQ(evict_rank(S::Udp), 0u);
    EXPECT_EQ(evict_rank(S::SynRecv), 2u);
    EXPECT_EQ(evict_rank(S::SynAck), 2u);
    EXPECT_EQ(evict_rank(S::None), 2u);
    EXPECT_EQ(evict_rank(S::FinWait), 1u);
    EXPECT_EQ(evict_rank(S::TimeWait), 1u);
    EXPECT_EQ(evict_rank(S::Close), 1u);
}

TEST(TcpState, NamesAreIpvsNames) {
    EXPECT_EQ(to_string(S::Established), "ESTABLISHED");
    EXPECT_EQ(to_string(S::SynRecv), "SYN_RECV");
    EXPECT_EQ(to_string(S::FinWait), "FIN_WAIT");
    EXPECT_EQ(to_string(S::Close), "CLOSE");
    EXPECT_EQ(to_string(S::Udp), "UDP");
}

static_assert(next_state(S::None, kTcpSyn) == S::SynRecv, "usable in constant expressions");

}  // namespace
}  // namespace director::lb
