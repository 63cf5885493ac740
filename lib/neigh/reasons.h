// SPDX-License-Identifier: BSD-3-Clause
// Why the ARP/ND responder did what it did with a frame: one reason per frame, each with a
// counter name and help text declared once in an X-macro list (STYLE C7, after lib/net's
// verdict.h and VPP's foreach_*_error lists).
//
// Two lists make up the Reason enum, in this order:
//   * DIRECTOR_NEIGH_DECISIONS: answered, ignored, offered to the neighbour table;
//   * DIRECTOR_NEIGH_ND_ERRORS: why parse_nd (nd.h) rejected a neighbour solicitation or
//     advertisement (RFC 4861 7.1.1 / 7.1.2 validity checks). The same list generates NdError,
//     so a parser error converts to its Reason with to_reason() and the names never drift.
//
// The neighbour table's own events (probes sent, MACs resolved or withdrawn) are counted by
// DIRECTOR_NEIGH_TABLE_COUNTERS in neigh_table.h.
//
// Caller: any thread. constexpr or table lookups: noexcept, no allocation.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

// X(EnumName, counter_name, "help text"): what the responder decided about one frame.
#define DIRECTOR_NEIGH_DECISIONS(X)                                                                \
    X(ArpReplyOwn, arp_reply_own, "ARP request for the port's own address: answered (RFC 826)")    \
    X(ArpReplyVip, arp_reply_vip,                                                                  \
      "ARP request for a VIP held here (its VRRP instance is MASTER, or it has none): "            \
      "answered")                                                                                  \
    X(ArpVipNotOwned, arp_vip_not_owned,                                                           \
      "ARP request for a VIP whose VRRP instance is not MASTER here: ignored (the master "         \
      "answers)")                                                                                  \
    X(ArpNotOurs, arp_not_ours,                                                                    \
      "ARP request for an address that is not ours: not answered; sender offered to the "          \
      "neighbour table (RFC 826 merge)")                                                           \
    X(ArpReplyReceived, arp_reply_received,                                                        \
      "ARP reply from a neighbour: sender offered to the neighbour table")                         \
    X(ArpGratuitous, arp_gratuitous,                                                               \
      "Gratuitous ARP (sender IP == target IP, RFC 5227 3): sender offered to the neighbour "      \
      "table")                                                                                     \
    X(ArpConflict, arp_conflict,                                                                   \
      "ARP from another MAC whose sender IP is an address held here (duplicate address or "        \
      "VRRP split brain, RFC 5227 2.4): ignored")                                                  \
    X(ArpLooped, arp_looped, "ARP whose sender MAC is the port's own (our frame looped): ignored") \
    X(ArpBadSender, arp_bad_sender,                                                                \
      "ARP with a multicast or zero sender MAC, or a multicast, broadcast or loopback sender "     \
      "IP: ignored")                                                                               \
    X(ArpMalformed, arp_malformed,                                                                 \
      "ARP the net parser rejected (short, not Ethernet/IPv4, bad opcode; RFC 826)")               \
    X(NsReplyOwn, ns_reply_own,                                                                    \
      "Neighbour solicitation for the port's own address: advertisement sent (RFC 4861 7.2.4)")    \
    X(NsReplyVip, ns_reply_vip,                                                                    \
      "Neighbour solicitation for a VIP held here: advertisement sent (RFC 4861 7.2.4)")           \
    X(NsVipNotOwned, ns_vip_not_owned,                                                             \
      "Neighbour solicitation for a VIP whose VRRP instance is not MASTER here: ignored")          \
    X(NsNotOurs, ns_not_ours,                                                                      \
      "Neighbour solicitation for an address that is not ours: not answered; a source "            \
      "link-layer option is offered to the neighbour table (RFC 4861 7.2.3)")                      \
    X(NaReceived, na_received,                                                                     \
      "Neighbour advertisement: target offered to the neighbour table (RFC 4861 7.2.5)")           \
    X(NdConflict, nd_conflict,                                                                     \
      "NS from, or NA for, an address held here sent by another MAC (duplicate address or "        \
      "VRRP split brain): ignored")                                                                \
    X(NdLooped, nd_looped, "NS/NA sent from the port's own MAC (our frame looped): ignored")       \
    X(NdBadSender, nd_bad_sender,                                                                  \
      "NS/NA from a multicast IPv6 source, or carrying a multicast or zero link-layer "            \
      "address: ignored")                                                                          \
    X(NotOurMac, not_our_mac,                                                                      \
      "Frame unicast to another MAC (promiscuous port): ignored, nothing learned")                 \
    X(NotNeighbour, not_neighbour,                                                                 \
      "Frame is neither ARP nor an ICMPv6 NS/NA: not the responder's to handle")                   \
    X(FrameMalformed, frame_malformed,                                                             \
      "Frame the net parser dropped (lib/net counts the precise reason)")                          \
    X(BugNoRoom, bug_no_room, "Internal: reply buffer too small for the reply; nothing sent")

// X(EnumName, counter_name, "help text"): why parse_nd rejected an NS or NA.
#define DIRECTOR_NEIGH_ND_ERRORS(X)                                                            \
    X(NdFragmented, nd_fragmented, "NS/NA inside an IPv6 fragment (RFC 6980 5): dropped")      \
    X(NdBadHopLimit, nd_bad_hop_limit,                                                         \
      "NS/NA with an IP hop limit other than 255: not from this link (RFC 4861 7.1.1, 7.1.2)") \
    X(NdBadCode, nd_bad_code, "NS/NA with ICMPv6 code other than 0 (RFC 4861 7.1.1, 7.1.2)")   \
    X(NdTooShort, nd_too_short, "NS/NA shorter than 24 bytes (RFC 4861 7.1.1, 7.1.2)")         \
    X(NdBadChecksum, nd_bad_checksum, "NS/NA with a wrong ICMPv6 checksum (RFC 4443 2.3)")     \
    X(NdMulticastTarget, nd_multicast_target,                                                  \
      "NS/NA whose target address is multicast (RFC 4861 7.1.1, 7.1.2)")                       \
    X(NdBadOptionLength, nd_bad_option_length,                                                 \
      "NS/NA option of length 0 or running past the message (RFC 4861 4.6, 7.1.1)")            \
    X(NdBadLinkLayerOption, nd_bad_link_layer_option,                                          \
      "Link-layer address option of other than 8 bytes on Ethernet (RFC 4861 4.6.1, RFC 2464 " \
      "8)")                                                                                    \
    X(NdBadDad, nd_bad_dad,                                                                    \
      "NS from the unspecified address not sent to a solicited-node group, or carrying a "     \
      "source link-layer option (RFC 4861 7.1.1)")                                             \
    X(NdSolicitedToMulticast, nd_solicited_to_multicast,                                       \
      "NA with the Solicited flag sent to a multicast address (RFC 4861 7.1.2)")

namespace director::neigh {

/** One per frame handed to the Responder: what it decided, or why it could not decide. */
enum class Reason : uint8_t {
#define DIRECTOR_NEIGH_ENUM(name, counter, help) name,
    DIRECTOR_NEIGH_DECISIONS(DIRECTOR_NEIGH_ENUM) DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_ENUM)
#undef DIRECTOR_NEIGH_ENUM
};

/** parse_nd's result: None, or the RFC 4861 check the message failed. */
enum class NdError : uint8_t {
    None,
#define DIRECTOR_NEIGH_ENUM(name, counter, help) name,
    DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_ENUM)
#undef DIRECTOR_NEIGH_ENUM
};

#define DIRECTOR_NEIGH_COUNT(name, counter, help) +1
inline constexpr std::size_t kDecisionCount = 0 DIRECTOR_NEIGH_DECISIONS(DIRECTOR_NEIGH_COUNT);
inline constexpr std::size_t kNdErrorCount = 0 DIRECTOR_NEIGH_ND_ERRORS(DIRECTOR_NEIGH_COUNT);
#undef DIRECTOR_NEIGH_COUNT
/** Number of Reason values; they occupy [0, kReasonCount). */
inline constexpr std::size_t kReasonCount = kDecisionCount + kNdErrorCount;

/**
 * The Reason counting a parser error. Only meaningful for e != NdError::None.
 * Caller: any thread. constexpr.
 */
constexpr Reason to_reason(NdError e) noexcept {
    // Both enums list DIRECTOR_NEIGH_ND_ERRORS in the same order; NdError has None before it.
    return static_cast<Reason>(kDecisionCount + static_cast<std::size_t>(e) - 1);
}

/** The enumerator's name, e.g. "ArpReplyVip"; "Invalid" outside the enum. */
const char* to_string(Reason r) noexcept;
/** The snake_case counter name, e.g. "arp_reply_vip"; "invalid" outside the enum. */
const char* counter_name(Reason r) noexcept;
/** One-line help text for the reason's counter; "" outside the enum. */
const char* help_text(Reason r) noexcept;
/** The enumerator's name, e.g. "NdBadHopLimit"; "None" for success. */
const char* to_string(NdError e) noexcept;

/**
 * Per-reason counters of one Responder. One writer (the control lcore, through relaxed
 * atomic_ref stores, a plain mov on x86-64); any thread may read with get() (STYLE H6).
 */
struct ResponderCounters {
    std::array<uint64_t, kReasonCount> by_reason{};

    /** Caller: the owning control lcore only. */
    void bump(Reason r) noexcept {
        std::atomic_ref<uint64_t> ref(by_reason[static_cast<std::size_t>(r)]);
        ref.store(ref.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    /** Caller: any thread (relaxed read of a single-writer counter). */
    uint64_t get(Reason r) const noexcept {
        // atomic_ref<const T> is C++26; the load does not write, so the cast is sound.
        auto& c = const_cast<uint64_t&>(by_reason[static_cast<std::size_t>(r)]);
        return std::atomic_ref<uint64_t>(c).load(std::memory_order_relaxed);
    }
};

}  // namespace director::neigh
