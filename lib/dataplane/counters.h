// SPDX-License-Identifier: BSD-3-Clause
// Worker counters: one X-macro list gives each counter its field, its Prometheus name
// (director_worker_<name>_total) and its help text (VPP foreach_*_error, Envoy ALL_*_STATS).
// Every forwarding decision and every drop has a counter, so "where did my packet go?" has an
// answer without a per-packet log.
//
// Caller: the owning worker writes with plain stores (one writer, no RMW); other threads read
// with read_relaxed(). Each worker's block sits on its own cache lines.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/cacheline.h"

namespace director::dp {

#define DIRECTOR_WORKER_COUNTERS(X)                                                        \
    X(rx_packets, "Packets received on worker rx queues")                                 \
    X(rx_bursts, "Non-empty rx bursts")                                                   \
    X(tx_packets, "Packets transmitted by workers")                                       \
    X(tx_dropped, "Dropped: the tx queue did not accept the packet")                      \
    X(forwarded, "Forwarded to a real server (MAC rewritten)")                            \
    X(ignored_other_mac, "Ignored: unicast frame not addressed to the port's MAC")        \
    X(drop_malformed, "Dropped: malformed frame (see director_worker_malformed_total)")   \
    X(drop_not_service, "Dropped: IP traffic that is not for a configured service")       \
    X(drop_fragment, "Dropped: non-first IP fragment of a service flow (no L4 ports)")   \
    X(drop_no_real, "Dropped: the service has no usable real server")                     \
    X(drop_real_no_mac, "Dropped: the chosen real server's MAC is not resolved yet")      \
    X(drop_nodest, "Dropped: connection's real server is gone (expire_nodest_conn off)")  \
    X(drop_tcp_no_conn, "Dropped: TCP without SYN and without a connection (sloppy_tcp off)") \
    X(conn_new, "Connections created")                                                    \
    X(conn_hit, "Packets that matched a connection entry")                                \
    X(conn_untracked, "Forwarded by consistent hash: the connection table bucket was full") \
    X(conn_evicted_half_open, "Half-open connections given up to admit new ones")         \
    X(conn_rescheduled, "Connections moved because their real server went away")          \
    X(conn_sloppy, "TCP flows without SYN scheduled by consistent hash (after failover)") \
    X(conn_expired, "Connection entries expired by the sweep")                            \
    X(persist_hit, "New connections that followed a persistence entry")                   \
    X(persist_new, "Persistence entries created")                                         \
    X(persist_untracked, "Persistent service scheduled by consistent hash: table full")   \
    X(icmp_error_forwarded, "ICMP errors quoting a VIP flow, forwarded to its real server") \
    X(exception_arp, "ARP frames passed to the control lcore")                            \
    X(exception_vrrp, "VRRP adverts passed to the control lcore")                         \
    X(exception_icmp, "ICMP for the director or a VIP passed to the control lcore")       \
    X(exception_host, "Traffic for the director's own address passed to the control lcore") \
    X(exception_ring_full, "Dropped: the exception ring to the control lcore was full")   \
    X(resolve_requests, "MAC resolution requests sent to the control lcore")              \
    X(idle_sleeps, "Idle back-off sleeps (dpdk.idle_sleep_us)")                           \
    X(bug_bad_real, "Internal invariant: a scheduler returned an invalid real")

/** One worker's counters. */
struct alignas(kCacheLine) WorkerCounters {
#define DIRECTOR_X(name, help) uint64_t name = 0;
    DIRECTOR_WORKER_COUNTERS(DIRECTOR_X)
#undef DIRECTOR_X
};

/** Counter metadata in declaration order, for exposition. */
struct CounterInfo {
    const char* name;
    const char* help;
    size_t offset;
};

inline constexpr CounterInfo kWorkerCounterInfo[] = {
#define DIRECTOR_X(name, help) {#name, help, offsetof(WorkerCounters, name)},
    DIRECTOR_WORKER_COUNTERS(DIRECTOR_X)
#undef DIRECTOR_X
};

/**
 * Adds to a counter. Caller: its owning worker only. A relaxed load and store through
 * atomic_ref (not fetch_add: there is one writer) compile to plain movs on x86-64, and make the
 * concurrent read by the metrics thread well-defined.
 */
inline void bump(uint64_t& counter, uint64_t n = 1) noexcept {
    std::atomic_ref<uint64_t> ref(counter);
    ref.store(ref.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/** Reads a counter another thread writes. Caller: any thread. */
inline uint64_t read_relaxed(const uint64_t& counter) noexcept {
    // atomic_ref<const T> is C++26; the load does not write, so the cast is sound.
    return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(counter))
        .load(std::memory_order_relaxed);
}

}  // namespace director::dp
