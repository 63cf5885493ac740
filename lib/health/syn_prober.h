// SPDX-License-Identifier: BSD-3-Clause
// A userspace TCP_CHECK: the three-way-handshake test keepalived's TCP_CHECK makes with
// connect(), done with hand-built frames instead of kernel sockets.
//
// Why: on the director a kernel connect() reaches the real server through the exception TAP,
// and the socket, connect and close cost some 44 us of CPU per probe, 93% of it in the kernel
// (test/perf/health_bench.cc): 44% of a core for 10,000 checks a second against issue 5's 10%.
// This prober builds the SYN itself (Ethernet + IPv4/IPv6 + TCP, checksums, a random ISN and
// an MSS option) and hands it to a FrameSink (the control lcore's DPDK tx queue); the replies
// the workers punt to the control lcore come back through on_frame() before the TAP sees them.
//
// Verdicts, as a kernel connect() gives them (RFC 9293 3.10.7.3, SYN-SENT):
//   - a SYN-ACK whose ACK is ISN + 1: the port is open (Open). The prober answers it with a
//     RST (seq = ISN + 1, the ACK number it acknowledged) so that the real server drops the
//     half-open connection at once, as the kernel path's SO_LINGER-0 close does;
//   - a RST whose ACK is ISN + 1: "connection refused" (Refused);
//   - nothing acceptable within connect_timeout: Timeout. The SYN is retransmitted like the
//     kernel's (initial RTO 1 s, RFC 6298 2.1; doubling, 5.5) while the retransmission still
//     falls before the deadline.
// ICMP errors are not interpreted (the kernel would fail early on some); those probes time out.
//
// Source ports: every probe owns one source port of a range reserved for the prober, default
// 61000-65535. Linux's default ip_local_port_range is 32768-60999, so kernel sockets on the
// exception TAP never pick a port in this range and the kernel never owns one of the 4-tuples
// the prober uses. A host that widens ip_local_port_range must keep it below the prober's range
// (or configure another range here). A port is reused only after every other free port has
// been (FIFO), which keeps a late reply from landing on a newer probe's 4-tuple; a stray reply
// would anyway be rejected by its ACK number (a new random ISN per probe).
//
// Which frames are consumed: only a segment for an outstanding probe (destination = one of our
// addresses and the probe's source port, source = the probe's destination address and port)
// whose ACK number is the probe's ISN + 1. Everything else - other destinations, late or
// duplicate replies to finished probes, segments with a wrong ACK - is left to the caller,
// which hands it to the kernel TAP; the kernel has no socket on those ports and answers a
// stray SYN-ACK with the RST the real server needs.
//
// Costs: a preallocated slot table indexed by source port and a FIFO of free ports; the timer
// heap grows to its high-water mark once and then stays (stale entries are skipped lazily). No
// system call, no allocation per probe once warm. Results are appended to a caller-owned vector
// (reserve it once).
//
// Caller: control lcore only. Not thread-safe. Pure: no EAL, no sockets, time passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "health/checker.h"
#include "net/addr.h"

namespace director::health {

/** Where the prober's frames go: the control lcore's tx queue of a DPDK port, or a fake. */
class FrameSink {
public:
    virtual ~FrameSink() = default;
    /**
     * Transmits one complete Ethernet frame (no FCS) on port_id. The frame is only valid during
     * the call: copy it into an mbuf.
     *
     * Caller: control lcore. Must not call back into the prober.
     *
     * @return false when it could not be queued (the prober counts it; a SYN is retransmitted
     *         on its timer, a lost RST costs the real server one half-open connection)
     */
    virtual bool send(uint16_t port_id, std::span<const uint8_t> frame) = 0;
};

/** One local endpoint: a DPDK port with its MAC and the director's own address(es) on it. */
struct SynEndpoint {
    uint16_t port_id = 0;
    net::MacAddress mac;
    std::optional<net::IpAddress> v4;  ///< source for IPv4 probes (must be IPv4)
    std::optional<net::IpAddress> v6;  ///< source for IPv6 probes (must be IPv6)
};

/** Default source-port range: above Linux's default ip_local_port_range (32768-60999). */
inline constexpr uint16_t kSynFirstPort = 61000;
inline constexpr uint16_t kSynLastPort = 65535;
/** Initial SYN retransmission timeout (RFC 6298 2.1, Linux TCP_TIMEOUT_INIT). */
inline constexpr Duration kSynInitialRto = std::chrono::seconds(1);

struct SynProberConfig {
    std::vector<SynEndpoint> endpoints;
    uint16_t first_port = kSynFirstPort;  ///< reserved source ports, inclusive
    uint16_t last_port = kSynLastPort;
    uint16_t mss_v4 = 1460;  ///< MSS option of IPv4 SYNs (IPv6: mss_v4 - 20)
    uint8_t ttl = 64;        ///< IPv4 TTL / IPv6 hop limit
    Duration initial_rto = kSynInitialRto;
    uint64_t seed = 0;  ///< seeds ISNs and IPv4 ids (tests fix it; the runtime uses entropy)
};

/** How start() went. */
enum class SynStart : uint8_t {
    Started,     ///< SYN sent (or queued for retransmission if the sink refused it)
    NoEndpoint,  ///< no endpoint with this port_id and an address of dst's family
    NoFreePort,  ///< every source port of the range is in use
};

enum class SynVerdict : uint8_t { Open, Refused, Timeout };

/** A finished probe. */
struct SynOutcome {
    uint64_t token = 0;  ///< as given to start()
    SynVerdict verdict = SynVerdict::Timeout;
};

struct SynProberStats {
    uint64_t started = 0;
    uint64_t syn_sent = 0;  ///< first transmissions and retransmissions
    uint64_t retransmits = 0;
    uint64_t open = 0;
    uint64_t refused = 0;
    uint64_t timeouts = 0;
    uint64_t cancelled = 0;
    uint64_t no_free_port = 0;
    uint64_t tx_failed = 0;  ///< FrameSink::send returned false
    uint64_t consumed = 0;   ///< frames on_frame() consumed
    std::size_t in_flight = 0;
};

class SynProber {
public:
    /** A probe's handle (its source port); valid until its outcome is reported or cancel(). */
    using Handle = uint16_t;

    /**
     * Preallocates the slot table for the whole port range.
     * Caller: control lcore, at start-up. Allocates.
     * @param config  endpoints and tunables; first_port <= last_port (else the range is empty
     *                and every start() returns NoFreePort)
     */
    explicit SynProber(SynProberConfig config);
    ~SynProber();
    SynProber(const SynProber&) = delete;
    SynProber& operator=(const SynProber&) = delete;

    /** True when start(port_id, dst ...) could find a source address (not counting ports). */
    bool can_probe(uint16_t port_id, const net::IpAddress& dst) const noexcept;

    /**
     * Starts one handshake test: takes a free source port and sends a SYN to dst:dst_port.
     *
     * Caller: control lcore. No allocation, no system call (besides the sink's own).
     *
     * @param token            reported back in the outcome
     * @param port_id          endpoint (DPDK port) to send from
     * @param dst, dst_port    the real server (connect_ip / connect_port)
     * @param next_hop_mac     Ethernet destination: the real server's (or the gateway's) MAC
     * @param connect_timeout  Timeout verdict at now + connect_timeout
     * @param now, sink        the time; where the SYN goes
     * @param handle           receives the source port when Started (for cancel())
     * @return Started, or why not (nothing was sent)
     */
    SynStart start(uint64_t token, uint16_t port_id, const net::IpAddress& dst, uint16_t dst_port,
                   const net::MacAddress& next_hop_mac, Duration connect_timeout, TimePoint now,
                   FrameSink& sink, Handle* handle = nullptr) noexcept;

    /**
     * Offers a frame punted to the control lcore (a frame for the director's own address).
     *
     * Caller: control lcore, before the frame goes to the kernel TAP. noexcept, no allocation
     * (out.push_back aside).
     *
     * @param frame  the whole Ethernet frame (an 802.1Q tag is skipped)
     * @param now    unused today; kept so that RTT can be measured without an API change
     * @param sink   where the RST answering a SYN-ACK goes
     * @param out    a finished probe's outcome is appended here
     * @return true when the frame answered an outstanding probe and was consumed (do not pass
     *         it to the TAP); false for everything else (see the file comment)
     */
    bool on_frame(std::span<const uint8_t> frame, TimePoint now, FrameSink& sink,
                  std::vector<SynOutcome>& out) noexcept;

    /**
     * Retransmits the SYNs that are due and times out the probes whose connect_timeout passed.
     * Caller: control lcore, no later than next_deadline().
     */
    void poll(TimePoint now, FrameSink& sink, std::vector<SynOutcome>& out) noexcept;

    /** When poll() next has work; nullopt when no probe is outstanding. */
    std::optional<TimePoint> next_deadline() const noexcept;

    /**
     * Forgets an outstanding probe without an outcome (its owner went away). Replies that come
     * later are not consumed. No-op if the handle's probe is finished or the token differs.
     */
    void cancel(Handle handle, uint64_t token) noexcept;

    const SynProberStats& stats() const noexcept { return stats_; }

    /** Maximum frame the prober builds (Ethernet + IPv6 + TCP with MSS). */
    static constexpr std::size_t kMaxFrame = 14 + 40 + 24;

private:
    struct Slot;
    struct Timer {
        TimePoint at;
        uint32_t gen;
        uint16_t index;
        friend bool operator>(const Timer& a, const Timer& b) noexcept { return a.at > b.at; }
    };

    const SynEndpoint* endpoint(uint16_t port_id, bool v6) const noexcept;
    void send_segment(const Slot& s, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                      uint16_t mss, FrameSink& sink) noexcept;
    void send_syn(const Slot& s, FrameSink& sink) noexcept;
    void send_rst(const Slot& s, uint32_t their_seq, FrameSink& sink) noexcept;
    void finish(uint16_t index, SynVerdict v, std::vector<SynOutcome>& out) noexcept;
    /** Frees a slot (its generation moves on, so late answers for it are ignored). */
    void release(uint16_t index) noexcept;
    void arm(uint16_t index, TimePoint at) noexcept;
    void prune() noexcept;
    uint64_t next_random() noexcept;

    SynProberConfig config_;
    std::vector<Slot> slots_;     ///< [source port - first_port]
    std::vector<uint16_t> free_;  ///< FIFO ring of free slot indexes
    std::size_t free_head_ = 0;
    std::size_t free_count_ = 0;
    std::vector<Timer> heap_;  ///< min-heap on `at`; an entry is live when gen matches
    uint64_t rng_;
    SynProberStats stats_;
};

}  // namespace director::health
