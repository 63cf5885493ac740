// SPDX-License-Identifier: BSD-3-Clause
// The IPVS schedulers (rr wrr lc wlc sed nq sh dh mh) over a Snapshot: which real takes a new
// connection. Semantics follow Linux net/netfilter/ipvs/ip_vs_<name>.c and reference
// keepalived.md §3.2; the deliberate differences are listed here.
//
// Scheduling runs only for a new connection (TCP SYN, a UDP datagram without an entry); a
// per-core table hit or a persistence template bypasses it (ip_vs_core.c). A real is *usable*
// for new work when it is up, its MAC is known and its weight is > 0 (IPVS: weight > 0 and
// not overloaded; a failed real is deleted there, which we model as Down). Weight 0 never
// receives a new connection from any scheduler or from consistent_pick(NewFlow).
//
//  rr   next usable real after the last chosen one, in list order (ip_vs_rr.c).
//  wrr  IPVS's interleaved sequence: cw starts at mw = max - (gcd - 1), each pass takes reals
//       with weight >= cw, cw -= gcd after a pass (ip_vs_wrr.c). A4 B3 C2 => A A B A B C A B C.
//  lc   least overhead = active x 256 + inactive (ip_vs_dest_conn_overhead, ip_vs_lc.c).
//  wlc  least overhead / weight by cross-multiplication; first in list order wins ties.
//  sed  least (active + 1) / weight (ip_vs_sed.c).
//  nq   first real with no active connection, else as sed (ip_vs_nq.c).
//  sh   256 buckets filled round robin, each real taking `weight` consecutive buckets, keyed
//       by hash_32(source address fold) (ip_vs_sh.c; as there, weights are meant to be small:
//       a weight >= 256 takes every bucket). Difference: an unusable bucket owner
//       falls back to Snapshot::consistent_pick on the source (IPVS drops unless sh-fallback),
//       and a Down real keeps its buckets, so healthy clients never move when another fails.
//  dh   the same keyed by the destination address, one bucket per real, weights ignored
//       (ip_vs_dh.c). On a VIP director every packet of a service has the same destination,
//       so dh degenerates to one real per VIP (plus the fallback when it is unusable).
//  mh   Maglev on the source address (ip_vs_mh.c without mh-port): the service's Maglev
//       table through consistent_pick, so every core and director agree; tables are laid out
//       with last_weight so quiescing does not reshuffle, and an unusable owner is replaced by
//       a fixed per-key fallback (IPVS mh-fallback) instead of a drop.
//
// Per-core approximation (lc wlc sed nq): IPVS counts active/inactive connections per dest
// globally; a DPDK worker sees only its own table, so the counts passed in are that worker's.
// With RSS spreading flows evenly over N workers each worker holds about 1/N of every real's
// connections, so the least-loaded choice is right on average but not exact per decision;
// with few connections (or one heavy client pinned to one core by RSS) the per-core view can
// diverge from the global one. Totals for observability are summed by the control plane.
// The counts also lag connections that end silently (an idle entry expiring): they drop when
// the entry is next probed or swept, and the worker sweeps each table about once a second
// (dp::kSweepPassSeconds), where IPVS's per-connection timers are exact.
//
// Per-core state (rr cursor, wrr cw) lives in the worker, in a SchedState per service_id; it
// resets itself the first time it sees a new ServiceInfo::sched_key, which changes with the
// service generation and with the set of usable reals, like ip_vs_wrr_dest_changed on every
// dest update. A zero-initialised SchedState is valid.
//
// Caller: schedule() and the helpers on worker lcores (the owner of the SchedState and the
// counts), or anywhere in tests. noexcept, no allocation, no locks, no virtual calls (one
// switch on the scheduler kind). scheduler_name/parse_scheduler_kind on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "lb/conn_table.h"  // ConnCounts: per-real activeconns / inactconns of one worker
#include "lb/snapshot.h"
#include "net/addr.h"

namespace director::lb {

/** Per-packet keys the schedulers hash. Build with make_sched_input(). */
struct SchedInput {
    /** IPVS address fold of the client address, host order (sh and mh key). */
    uint32_t src_fold = 0;
    /** IPVS address fold of the destination address, host order (dh key). */
    uint32_t dst_fold = 0;
    /** Any well-mixed hash of the 5-tuple (for the caller's consistent_pick; unused here). */
    uint32_t flow_hash = 0;
};

/** Per-core, per-service scheduler state (one writer: the owning worker). */
struct SchedState {
    uint32_t key = 0;     ///< ServiceInfo::sched_key this state belongs to; 0 = fresh
    int32_t cursor = -1;  ///< rr/wrr: last chosen slot, -1 = list head (IPVS mark->cl)
    int32_t cw = 0;       ///< wrr current weight (IPVS mark->cw)
    uint32_t reserved = 0;
};
static_assert(sizeof(SchedState) == 16 && std::is_trivially_copyable_v<SchedState>);

/**
 * IPVS address fold (ip_vs_sh_hashkey): an IPv4 address as a host-order integer; an IPv6
 * address as the XOR of its four 32-bit words, host order.
 *
 * Caller: any lcore. noexcept.
 *
 * @param addr  the address
 * @return the fold
 */
uint32_t addr_fold(const net::IpAddress& addr) noexcept;

/**
 * addr_fold of an address read from a packet.
 *
 * @param bytes   4 or 16 bytes, network order
 * @param family  V4 or V6
 * @return the fold
 */
uint32_t addr_fold(const uint8_t* bytes, net::Family family) noexcept;

/**
 * Builds the scheduler keys of a packet.
 *
 * @param src        client address
 * @param dst        destination (VIP) address
 * @param flow_hash  5-tuple hash (e.g. the RSS hash), passed through
 * @return the keys
 */
SchedInput make_sched_input(const net::IpAddress& src, const net::IpAddress& dst,
                            uint32_t flow_hash) noexcept;

/**
 * IPVS sh bucket of a source fold: hash_32(fold, 8) = (fold x 0x61C88647) >> 24
 * (ip_vs_sh_hashkey with port 0, offset 0).
 *
 * @param src_fold  addr_fold of the client
 * @return bucket < kShBuckets
 */
constexpr uint32_t sh_bucket(uint32_t src_fold) noexcept { return (src_fold * 0x61C88647u) >> 24; }

/**
 * IPVS dh bucket of a destination fold: (fold x 2654435761) & 255 (ip_vs_dh_hashkey).
 *
 * @param dst_fold  addr_fold of the destination
 * @return bucket < kDhBuckets
 */
constexpr uint32_t dh_bucket(uint32_t dst_fold) noexcept {
    return (dst_fold * 2654435761u) & (kDhBuckets - 1);
}

/**
 * Chooses the real for a new connection of service `svc`.
 *
 * Caller: the worker that owns `state` and `counts`. noexcept, no allocation, no locks.
 *
 * @param snap    the snapshot read for this burst
 * @param svc     service index in `snap`
 * @param in      keys of the packet (sh, dh, mh)
 * @param state   this worker's SchedState for the service's service_id (rr, wrr)
 * @param counts  this worker's connection counts indexed by real_id (ConnTable::counts());
 *                ids at or beyond its size count as idle; empty for the schedulers that
 *                do not read counts
 * @return the chosen slot (index into the service's reals), or kNoReal when no real is
 *         usable (the caller drops and counts)
 */
uint32_t schedule(const Snapshot& snap, uint32_t svc, const SchedInput& in, SchedState& state,
                  std::span<const ConnCounts> counts = {}) noexcept;

/**
 * The ipvsadm/keepalived name of a scheduler ("rr", "wrr", ...).
 *
 * @param kind  scheduler
 * @return its name
 */
std::string_view scheduler_name(SchedulerKind kind) noexcept;

/**
 * Parses an ipvsadm/keepalived scheduler name.
 *
 * @param name  "rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh" or "mh"
 * @return the kind, or nullopt for anything else (lblc, fo, ... are not implemented)
 */
std::optional<SchedulerKind> parse_scheduler_kind(std::string_view name) noexcept;

}  // namespace director::lb
