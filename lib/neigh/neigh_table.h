// SPDX-License-Identifier: BSD-3-Clause
// The neighbour table: IP -> MAC for the real servers (and gateway) the workers forward to,
// kept fresh by ARP and neighbour discovery, so that a direct-routing worker can rewrite a
// frame's destination MAC (LVS-DR) without ever resolving anything itself.
//
// Why not the kernel's table: the NIC belongs to DPDK, so no kernel sees these segments'
// ARP traffic. Why not RFC 4861 7.3 verbatim: its state machine is driven by traffic (an entry
// is only probed when a packet needs it). A director must have the MAC *before* the first
// packet and must notice a dead server's MAC proactively, so this table resolves what the
// control plane asks for, keeps refreshing it, and never gives up while it is wanted.
//
// Entries exist only for (port, address) pairs the control plane wants (want / want_static);
// learned bindings for anything else are ignored, so a flood of ARP cannot grow the table.
// States (times are TableConfig fields, defaults in brackets):
//
//   Incomplete  no MAC. Broadcast ARP request / multicast NS: resolve_fast_probes [3] probes
//               retrans_interval [1 s] apart, then one every resolve_slow_interval [5 s],
//               forever (a real server that is down now may boot later).
//   Reachable   MAC known, confirmed by a frame from the neighbour (any ARP from it, an NA,
//               an NS with a source link-layer option) less than refresh_percent [80 %] of
//               reachable_time [60 s] ago. No probes.
//   Stale       refresh due: up to unicast_probes [3] ARP requests / NS unicast to the known
//               MAC, retrans_interval apart (RFC 1122 2.3.2.1 unicast poll, RFC 4861 PROBE).
//               The MAC stays published: it is probably still right.
//   Probe       unicast refresh unanswered: up to broadcast_probes [3] broadcast probes, in
//               case the neighbour moved to another MAC. MAC still published. When the last
//               one is unanswered for retrans_interval, the MAC is withdrawn (workers stop
//               sending to a dead MAC) and the entry goes back to Incomplete in its slow phase.
//   Static      configured MAC (real_servers[].mac): published at once, never probed, never
//               overwritten by learning.
//
// validate() requires refresh + (unicast_probes + broadcast_probes) * retrans_interval <=
// reachable_time, so a MAC is withdrawn at most reachable_time after its neighbour last spoke.
// Any learned binding moves an entry to Reachable (with the new MAC if it changed).
//
// version() counts changes to the published set: a MAC appearing, changing or disappearing.
// The control plane compares it with the version it last published and, when it differs,
// builds a new snapshot from resolved().
//
// Time is data: every call that needs the time takes `now` (STYLE C5), so tests drive the
// table with a fake clock and the control loop can arm its timer from next_deadline().
//
// Caller: the control lcore only. Not thread-safe. Calls may allocate (std::map, results).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "neigh/frames.h"
#include "neigh/ownership.h"
#include "net/addr.h"

// X(field, "help text"): events of the neighbour table, one counter each.
#define DIRECTOR_NEIGH_TABLE_COUNTERS(X)                                                    \
    X(probes_broadcast, "Broadcast ARP requests / multicast NS sent to resolve an address") \
    X(probes_unicast, "Unicast ARP requests / NS sent to refresh a known MAC")              \
    X(resolved, "MACs learned for entries that had none")                                   \
    X(mac_changed, "Entries whose MAC changed (a neighbour replaced or moved)")             \
    X(confirmed, "Entries confirmed with an unchanged MAC")                                 \
    X(expired, "MACs withdrawn after an unanswered refresh: the neighbour looks dead")      \
    X(learn_not_wanted, "Bindings offered for addresses nobody asked to resolve: ignored")  \
    X(learn_static, "Bindings offered for static entries: ignored (configuration wins)")    \
    X(learn_invalid, "Bindings with a multicast or zero MAC: ignored")                      \
    X(requests, "Worker resolution hints that caused a probe")                              \
    X(requests_rate_limited, "Worker resolution hints dropped: entry probed too recently")  \
    X(requests_ignored, "Worker resolution hints for unknown, static or resolved entries")

namespace director::neigh {

/// Microseconds on the monotonic clock: the same types as vrrp::Duration / vrrp::TimePoint
/// (keepalived's timer resolution), so the control loop passes one `now` to both.
using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

inline constexpr std::chrono::seconds kDefaultReachableTime{60};
inline constexpr uint32_t kDefaultRefreshPercent = 80;
/// RFC 4861 10 RETRANS_TIMER.
inline constexpr std::chrono::seconds kDefaultRetransInterval{1};
/// RFC 4861 10 MAX_MULTICAST_SOLICIT.
inline constexpr uint32_t kDefaultResolveFastProbes = 3;
inline constexpr std::chrono::seconds kDefaultResolveSlowInterval{5};
/// RFC 4861 10 MAX_UNICAST_SOLICIT.
inline constexpr uint32_t kDefaultUnicastProbes = 3;
inline constexpr uint32_t kDefaultBroadcastProbes = 3;
inline constexpr std::chrono::seconds kDefaultRequestMinInterval{1};

/** Timers and probe budgets; the file comment says what each does. */
struct TableConfig {
    Duration reachable_time = kDefaultReachableTime;
    uint32_t refresh_percent = kDefaultRefreshPercent;  ///< 1..100 of reachable_time
    Duration retrans_interval = kDefaultRetransInterval;
    uint32_t resolve_fast_probes = kDefaultResolveFastProbes;
    Duration resolve_slow_interval = kDefaultResolveSlowInterval;
    uint32_t unicast_probes = kDefaultUnicastProbes;
    uint32_t broadcast_probes = kDefaultBroadcastProbes;
    Duration request_min_interval = kDefaultRequestMinInterval;

    /** reachable_time * refresh_percent / 100: when a Reachable entry turns Stale. */
    Duration refresh_after() const noexcept { return reachable_time * refresh_percent / 100; }
};

/**
 * Checks a TableConfig: positive intervals, refresh_percent in 1..100, slow interval not
 * shorter than retrans_interval, at least one refresh probe, and the refresh probes fitting
 * inside reachable_time (see the file comment).
 * Caller: any thread.
 * @return success, or an Error naming the first offending field
 */
Result<void> validate(const TableConfig& config);

enum class State : uint8_t { Incomplete, Reachable, Stale, Probe, Static };

/** "Incomplete", "Reachable", ...; "Invalid" outside the enum. */
const char* to_string(State s) noexcept;

/** A probe to send: build it with build_probe(). */
struct Probe {
    uint16_t port = 0;
    net::IpAddress target;
    std::optional<net::MacAddress> unicast_to;  ///< refresh: the cached MAC; else broadcast

    friend bool operator==(const Probe&, const Probe&) = default;
};

/** What on_learn did with a binding. */
enum class LearnResult : uint8_t {
    NotWanted,  ///< no entry for (port, ip): ignored
    Static,     ///< a static entry: ignored
    Invalid,    ///< multicast or zero MAC: ignored
    Confirmed,  ///< same MAC: entry Reachable again
    Resolved,   ///< the entry had no MAC; now it has (version bumped)
    Changed,    ///< the MAC changed (version bumped)
};

/** One published binding (resolved()). */
struct Resolved {
    uint16_t port = 0;
    net::IpAddress ip;
    net::MacAddress mac;

    friend bool operator==(const Resolved&, const Resolved&) = default;
};

struct TableCounters {
#define DIRECTOR_NEIGH_FIELD(name, help) uint64_t name = 0;
    DIRECTOR_NEIGH_TABLE_COUNTERS(DIRECTOR_NEIGH_FIELD)
#undef DIRECTOR_NEIGH_FIELD
};

/** Name, help text and field of each TableCounters member, for the metrics exporter. */
struct TableCounterInfo {
    const char* name;
    const char* help;
    uint64_t TableCounters::*field;
};

inline constexpr TableCounterInfo kTableCounterInfo[] = {
#define DIRECTOR_NEIGH_INFO(name, help) {#name, help, &TableCounters::name},
    DIRECTOR_NEIGH_TABLE_COUNTERS(DIRECTOR_NEIGH_INFO)
#undef DIRECTOR_NEIGH_INFO
};

class NeighbourTable {
public:
    /**
     * Creates an empty table.
     * Caller: control lcore.
     * @return the table, or the validate() error
     */
    static Result<std::unique_ptr<NeighbourTable>> create(const TableConfig& config = {});

    /**
     * Asks for (port, ip) to be resolved and kept fresh. A new entry starts Incomplete with
     * its first probe due at `now`. Wanting an existing dynamic entry does nothing; wanting a
     * static one makes it dynamic, keeping its MAC, in Stale (refresh due now).
     * Caller: control lcore.
     * @return true if an entry was created or made dynamic
     */
    bool want(uint16_t port, const net::IpAddress& ip, TimePoint now);

    /**
     * Pins (port, ip) to a configured MAC: published at once, never probed, never changed by
     * learning. Replaces a dynamic entry. Bumps version() if the published MAC changed.
     * Caller: control lcore.
     * @return false (and no change) for a multicast or zero MAC
     */
    bool want_static(uint16_t port, const net::IpAddress& ip, const net::MacAddress& mac);

    /**
     * Stops resolving (port, ip) and drops its entry, static or not. Bumps version() if a MAC
     * was published. Caller: control lcore.
     * @return true if there was an entry
     */
    bool forget(uint16_t port, const net::IpAddress& ip);

    /**
     * Offers a binding seen on `port` (Responder's Decision::learn). Only wanted, dynamic
     * entries take it; they become Reachable as of `now`.
     * Caller: control lcore.
     */
    LearnResult on_learn(uint16_t port, const net::IpAddress& ip, const net::MacAddress& mac,
                         TimePoint now);

    /**
     * A worker's hint that it has traffic for (port, ip) and no MAC. Probes an Incomplete
     * entry now unless it was probed less than request_min_interval ago (at most one probe per
     * entry per second by default, however many workers ask). Entries that are not wanted,
     * are static or have a MAC are left alone: hints never create entries.
     * Caller: control lcore (draining the workers' hint rings).
     * @return the probe to send now, or nullopt
     */
    std::optional<Probe> request(uint16_t port, const net::IpAddress& ip, TimePoint now);

    /**
     * Runs every timer due at `now`: starts refreshes, withdraws MACs whose refresh went
     * unanswered, and returns the probes due, in (port, ip) order.
     * Caller: control lcore, whenever next_deadline() has passed (polling more often is fine).
     */
    std::vector<Probe> poll(TimePoint now);

    /** When poll() next has work; nullopt when only static entries (or none) exist. */
    std::optional<TimePoint> next_deadline() const noexcept;

    /**
     * The published MAC of (port, ip): Reachable, Stale, Probe and Static entries have one.
     * Caller: control lcore. noexcept, no allocation.
     */
    std::optional<net::MacAddress> lookup(uint16_t port, const net::IpAddress& ip) const noexcept;

    /** The entry's state, or nullopt if (port, ip) is not wanted. */
    std::optional<State> state(uint16_t port, const net::IpAddress& ip) const noexcept;

    /** Every published binding, in (port, ip) order: the input of a new snapshot. */
    std::vector<Resolved> resolved() const;

    /** Bumped whenever a published MAC appears, changes or disappears. Starts at 0. */
    uint64_t version() const noexcept { return version_; }

    std::size_t size() const noexcept { return entries_.size(); }
    const TableConfig& config() const noexcept { return config_; }
    /** Caller: control lcore (plain counters; copy them out for other threads). */
    const TableCounters& counters() const noexcept { return counters_; }

private:
    struct Entry {
        State state = State::Incomplete;
        net::MacAddress mac;                  // meaningful unless Incomplete
        TimePoint confirmed{};                // last binding learned (Reachable onwards)
        TimePoint next_probe{};               // Incomplete, Stale, Probe: next probe due
        std::optional<TimePoint> last_probe;  // for request() rate limiting and back-off
        uint32_t probes = 0;                  // probes sent in the current state
    };

    explicit NeighbourTable(const TableConfig& config) : config_(config) {}

    Probe send(const PortAddress& key, Entry& e, bool unicast, TimePoint now);
    Duration resolve_interval(const Entry& e) const noexcept;
    void run_timers(const PortAddress& key, Entry& e, TimePoint now, std::vector<Probe>& out);

    TableConfig config_;
    std::map<PortAddress, Entry> entries_;
    TableCounters counters_;
    uint64_t version_ = 0;
};

/**
 * Writes the frame for a probe: an ARP request (build_arp_request) for an IPv4 target, a
 * neighbour solicitation (build_ns) for an IPv6 one, broadcast/multicast or unicast as the
 * probe says.
 * Caller: control lcore. noexcept, no allocation.
 * @param out     kMaxFrameLen bytes
 * @param link    the probe's port MAC and VLAN
 * @param src_ip  our address of the target's family on that port
 * @return the frame length, or 0 (family mismatch, buffer too small)
 */
uint32_t build_probe(std::span<uint8_t> out, const Link& link, const net::IpAddress& src_ip,
                     const Probe& probe) noexcept;

}  // namespace director::neigh
