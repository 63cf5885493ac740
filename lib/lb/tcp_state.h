// SPDX-License-Identifier: BSD-3-Clause
// Connection states and their timeouts, as Linux IPVS keeps them for a director that sees only
// the client-to-server half of each connection (DR and TUN forwarding).
//
// In DR mode the real server answers the client directly, so the director never sees a SYN-ACK
// or the server's FIN. IPVS marks such connections IP_VS_CONN_F_NOOUTPUT and drives them with
// its INPUT-ONLY state table (ip_vs_proto_tcp.c, tcp_states[] rows "INPUT-ONLY"); this header is
// that table, cell for cell (shared/reference/keepalived.md §3.4), plus a pseudo-state for UDP
// and other non-TCP flows (ip_vs_proto_udp.c keeps a single "NORMAL" state with one timeout).
//
// The per-packet step is one table load: next_state() maps the TCP flags to IPVS's flag class
// (RST > SYN > FIN > ACK, none of them => CLOSE; ip_vs_proto_tcp.c tcp_state_idx() and
// set_tcp_state()) and indexes a constexpr transition table.
//
// Caller: any thread; everything here is pure, constexpr-friendly and noexcept. The owning
// worker lcore calls it per packet through ConnTable::update_state().
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace director::lb {

/**
 * A tracked connection's state. The TCP values and their order are IPVS's
 * (include/uapi/linux/ip_vs.h IP_VS_TCP_S_*), so that state dumps read like `ipvsadm -lnc`.
 * Udp is ours: any non-TCP flow (IPVS's single UDP state), unaffected by TCP flags.
 * Values fit in 4 bits; ConnTable packs them next to the real id.
 */
enum class ConnState : uint8_t {
    None = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait = 4,
    TimeWait = 5,
    Close = 6,
    CloseWait = 7,
    LastAck = 8,
    Listen = 9,
    SynAck = 10,
    Udp = 11,
};

/** Number of ConnState values (the size of per-state arrays). */
inline constexpr unsigned kConnStateCount = 12;

/** TCP header flag bits as on the wire (RFC 9293 §3.1), byte 13 of the TCP header. */
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

/**
 * Timeouts per state, in seconds, with IPVS's defaults (ip_vs_proto_tcp.c tcp_timeouts[],
 * ip_vs_proto_udp.c udp_timeouts[]). `ipvsadm --set tcp tcpfin udp` and keepalived's
 * lvs_timeouts change `established`, `fin_wait` and `udp`; director's config also exposes
 * `syn_recv` (tcp_syn). Build with designated initialisers:
 * `ConnTimeouts{.established = 3600, .udp = 60}`.
 */
struct ConnTimeouts {
    uint32_t none = 2;
    uint32_t established = 900;
    uint32_t syn_sent = 120;
    uint32_t syn_recv = 60;
    uint32_t fin_wait = 120;
    uint32_t time_wait = 120;
    uint32_t close = 10;
    uint32_t close_wait = 60;
    uint32_t last_ack = 30;
    uint32_t listen = 120;
    uint32_t synack = 120;
    uint32_t udp = 300;

    /** The timeout for one state. */
    uint32_t for_state(ConnState s) const noexcept;

    friend bool operator==(const ConnTimeouts&, const ConnTimeouts&) = default;
};

namespace detail {

/** IPVS flag classes in priority order; kNoFlag means none of RST/SYN/FIN/ACK. */
enum FlagClass : uint8_t { kSyn = 0, kFin = 1, kAck = 2, kRst = 3, kNoFlag = 4 };

/** Flag class of every combination of the FIN, SYN, RST, PSH and ACK bits (index flags & 0x1f). */
inline constexpr std::array<uint8_t, 32> kFlagClass = [] {
    std::array<uint8_t, 32> t{};
    for (unsigned f = 0; f < t.size(); ++f) {
        // ip_vs_proto_tcp.c tcp_state_idx(): rst, then syn, then fin, then ack.
        t[f] = (f & kTcpRst)   ? kRst
               : (f & kTcpSyn) ? kSyn
               : (f & kTcpFin) ? kFin
               : (f & kTcpAck) ? kAck
                               : kNoFlag;
    }
    return t;
}();

/**
 * kTransition[flag class][state]: IPVS's INPUT-ONLY table (ip_vs_proto_tcp.c tcp_states[],
 * rows TCP_DIR_INPUT_ONLY + 0..3), columns NONE ES SS SR FW TW CL CW LA LI SA, extended with
 * the kNoFlag row (set_tcp_state(): no flag => CLOSE) and the Udp column (never changes).
 * ACK on NONE gives ESTABLISHED as in kernels since sloppy_tcp (3.12); older ones said CLOSE.
 */
inline constexpr std::array<std::array<ConnState, kConnStateCount>, 5> kTransition = [] {
    using S = ConnState;
    // No cell of the INPUT-ONLY table yields NONE or SYNACK.
    constexpr S ES = S::Established, SS = S::SynSent, SR = S::SynRecv, FW = S::FinWait,
                TW = S::TimeWait, CL = S::Close, CW = S::CloseWait, LA = S::LastAck, LI = S::Listen,
                UD = S::Udp;
    return std::array<std::array<S, kConnStateCount>, 5>{{
        //  NONE ES  SS  SR  FW  TW  CL  CW  LA  LI  SA  UDP
        {{SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR, UD}},  // SYN
        {{CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW, UD}},  // FIN
        {{ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES, UD}},  // ACK
        {{CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL, UD}},  // RST
        {{CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, UD}},  // none of them
    }};
}();

}  // namespace detail

/**
 * The state after a client-to-server packet with `tcp_flags`, by IPVS's INPUT-ONLY table.
 * Udp stays Udp whatever the flags (pass 0 for non-TCP). A brand-new connection starts from
 * None, so its first SYN gives SynRecv and, with sloppy TCP, a first ACK gives Established.
 *
 * Caller: any thread. Pure; two table loads.
 *
 * @param state      current state (must be a ConnState value)
 * @param tcp_flags  the TCP header's flag byte; bits other than FIN/SYN/RST/PSH/ACK are ignored
 * @return the new state
 */
constexpr ConnState next_state(ConnState state, uint8_t tcp_flags) noexcept {
    return detail::kTransition[detail::kFlagClass[tcp_flags & 0x1f]][static_cast<uint8_t>(state)];
}

/**
 * Whether a connection in `state` counts as active for the lc/wlc/sed/nq schedulers: only TCP
 * ESTABLISHED does; every other TCP state and every UDP flow is inactive (ip_vs_proto_tcp.c
 * set_tcp_state() moves conns between dest->activeconns and inactconns on that test).
 */
constexpr bool is_active(ConnState state) noexcept { return state == ConnState::Established; }

/**
 * Whether an insert into a full bucket may evict an entry in `state`, in the spirit of IPVS's
 * drop_entry defence (ip_vs_conn.c ip_vs_random_dropentry(), which drops SYN_RECV/SYNACK
 * entries first). Returns 2 for half-open states (evicted first), 1 for closing states, 0 for
 * ESTABLISHED and UDP, which an insert never evicts.
 */
constexpr unsigned evict_rank(ConnState state) noexcept {
    switch (state) {
        case ConnState::None:
        case ConnState::SynSent:
        case ConnState::SynRecv:
        case ConnState::SynAck:
        case ConnState::Listen:
            return 2;
        case ConnState::FinWait:
        case ConnState::TimeWait:
        case ConnState::Close:
        case ConnState::CloseWait:
        case ConnState::LastAck:
            return 1;
        case ConnState::Established:
        case ConnState::Udp:
            return 0;
    }
    return 0;
}

/** IPVS's name for a state ("ESTABLISHED", "SYN_RECV", ..., "UDP"), for dumps and logs. */
std::string_view to_string(ConnState state) noexcept;

}  // namespace director::lb
