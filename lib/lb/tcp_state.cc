// SPDX-License-Identifier: BSD-3-Clause
#include "lb/tcp_state.h"

namespace director::lb {

uint32_t ConnTimeouts::for_state(ConnState s) const noexcept {
    switch (s) {
        case ConnState::None:
            return none;
        case ConnState::Established:
            return established;
        case ConnState::SynSent:
            return syn_sent;
        case ConnState::SynRecv:
            return syn_recv;
        case ConnState::FinWait:
            return fin_wait;
        case ConnState::TimeWait:
            return time_wait;
        case ConnState::Close:
            return close;
        case ConnState::CloseWait:
            return close_wait;
        case ConnState::LastAck:
            return last_ack;
        case ConnState::Listen:
            return listen;
        case ConnState::SynAck:
            return synack;
        case ConnState::Udp:
            return udp;
    }
    return none;
}

std::string_view to_string(ConnState state) noexcept {
    // ip_vs_proto_tcp.c tcp_state_name_table[], plus our UDP pseudo-state.
    switch (state) {
        case ConnState::None:
            return "NONE";
        case ConnState::Established:
            return "ESTABLISHED";
        case ConnState::SynSent:
            return "SYN_SENT";
        case ConnState::SynRecv:
            return "SYN_RECV";
        case ConnState::FinWait:
            return "FIN_WAIT";
        case ConnState::TimeWait:
            return "TIME_WAIT";
        case ConnState::Close:
            return "CLOSE";
        case ConnState::CloseWait:
            return "CLOSE_WAIT";
        case ConnState::LastAck:
            return "LAST_ACK";
        case ConnState::Listen:
            return "LISTEN";
        case ConnState::SynAck:
            return "SYNACK";
        case ConnState::Udp:
            return "UDP";
    }
    return "?";
}

}  // namespace director::lb
