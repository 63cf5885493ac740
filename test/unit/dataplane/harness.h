// SPDX-License-Identifier: BSD-3-Clause
// Test harness for the worker datapath: a `Director` is one real dp::Worker with everything it
// needs around it (a started net_ring port, an ExceptionChannel, an RCU Publisher holding a
// snapshot built by lb::SnapshotBuilder), driven through the real Worker::process_burst on
// mbufs built from test::PacketBuilder frames. Forwarded frames are read back from the port's
// tx ring, punted frames from the ExceptionChannel; counters are read by name, so fixtures
// read like Katran's: {description, frame, expected action / real, expected counters}.
//
// The lab topology of DESIGN.md: clients and reals on 10.99.0.0/24, VIP .252 (and
// 2001:db8::252), the director's own address .120 (2001:db8::120), reals RS1 .142, RS2 .173,
// RS3 .180 with locally administered MACs 02:00:00:00:01:<id>.
//
// Caller: the test's main thread (EAL main lcore). Worker::run() on another lcore is the
// concurrency test's business; everything else here is single-threaded.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/exception.h"
#include "dataplane/worker.h"
#include "fixtures/eal_env.h"
#include "fixtures/packet_builder.h"
#include "lb/snapshot.h"
#include "rcu/publisher.h"

namespace director::dptest {

using test::Bytes;
using test::PacketBuilder;

inline constexpr uint32_t kNow = 1000;  ///< coarse seconds handed to process_burst

inline constexpr std::string_view kPortMac = "02:00:00:00:00:fe";
inline constexpr std::string_view kClientMac = "02:00:00:00:00:01";
inline constexpr std::string_view kRouterMac = "02:00:00:00:00:02";
inline constexpr std::string_view kOtherMac = "02:00:00:00:00:99";
inline constexpr std::string_view kVip = "10.99.0.252";
inline constexpr std::string_view kVip6 = "2001:db8::252";
inline constexpr std::string_view kOwnV4 = "10.99.0.120";
inline constexpr std::string_view kOwnV6 = "2001:db8::120";
inline constexpr std::string_view kClient = "10.99.0.10";
inline constexpr std::string_view kClient6 = "2001:db8::10";

/** One real of the lab: name, real id, addresses and MAC. */
struct LabReal {
    const char* name;
    uint32_t id;
    const char* v4;
    const char* v6;
    const char* mac;
};
inline constexpr LabReal kRs1{"RS1", 1, "10.99.0.142", "2001:db8::142", "02:00:00:00:01:42"};
inline constexpr LabReal kRs2{"RS2", 2, "10.99.0.173", "2001:db8::173", "02:00:00:00:01:73"};
inline constexpr LabReal kRs3{"RS3", 3, "10.99.0.180", "2001:db8::180", "02:00:00:00:01:80"};

/** A RealSpec for a lab real (IPv4 address unless v6), MAC known, weight 1, tx on tx_port. */
lb::RealSpec real(const LabReal& r, uint16_t tx_port, uint32_t weight = 1, bool v6 = false);

/**
 * A TCP (or UDP) service, rr by default, on the VIP, with the given reals (their port set to
 * the service's, and their real ids shifted by 16 x (service_id - 1) so that the same lab real
 * in several services still has a unique id; MACs stay the lab real's).
 */
lb::ServiceSpec service(std::string_view vip, uint16_t port, std::vector<lb::RealSpec> reals,
                        uint32_t service_id, lb::Protocol proto = lb::Protocol::Tcp,
                        lb::SchedulerKind sched = lb::SchedulerKind::Rr);

// ---- frames ---------------------------------------------------------------------------------

/** client:sport -> dst:dport TCP with `flags`, from the client MAC to the port MAC. */
Bytes tcp(std::string_view client, uint16_t sport, uint8_t flags, std::string_view dst = kVip,
          uint16_t dport = 80);
inline Bytes syn(std::string_view client, uint16_t sport, std::string_view dst = kVip,
                 uint16_t dport = 80) {
    return tcp(client, sport, test::kTcpSyn, dst, dport);
}
inline Bytes ack(std::string_view client, uint16_t sport, std::string_view dst = kVip,
                 uint16_t dport = 80) {
    return tcp(client, sport, test::kTcpAck, dst, dport);
}
/** client:sport -> dst:dport UDP with a small payload. */
Bytes udp(std::string_view client, uint16_t sport, std::string_view dst = kVip,
          uint16_t dport = 53);

// ---- mbufs ----------------------------------------------------------------------------------

/**
 * Copies a frame into an mbuf from the shared pool; with split_at > 0 the frame is spread over
 * two chained segments, the first holding split_at bytes. m->port = port.
 */
rte_mbuf* to_mbuf(const Bytes& frame, uint16_t port, size_t split_at = 0);
/** The bytes of an mbuf chain. */
Bytes from_mbuf(const rte_mbuf* m);

// ---- the director under test ----------------------------------------------------------------

struct DirectorOptions {
    unsigned index = 0;  ///< worker index: RCU reader id and exception ring names
    dp::ForwardingPolicy policy{};
    uint32_t conn_capacity = 4096;
    uint32_t persist_capacity = 1024;
    bool use_rte_malloc = false;
    uint32_t idle_sleep_us = 0;
    unsigned ring_size = 1024;  ///< rx and tx ring of the net_ring port
};

/** A frame the worker handed to the control lcore. */
struct Punted {
    dp::PuntReason reason;
    Bytes frame;
};

/** What one burst produced. */
struct Output {
    std::vector<Bytes> tx;
    std::vector<Punted> punted;
};

class Director {
public:
    /** Builds port, channel, publisher, snapshot and worker; nullptr (with a test failure) on
     * error. */
    static std::unique_ptr<Director> create(const std::vector<lb::ServiceSpec>& services,
                                            DirectorOptions options = {});
    ~Director();

    /** Builds a snapshot from `services` (sharing tables with the current one) and publishes it. */
    bool publish(const std::vector<lb::ServiceSpec>& services);

    /** One process_burst call over all frames (mbufs received on this port), then collects. */
    Output send(const std::vector<Bytes>& frames, uint32_t now_s = kNow);

    /**
     * Sends one frame and says where it went: a real's name ("RS1"), "punt:<reason>",
     * "drop", or "tx:<dst mac>" for a MAC that is no lab real.
     */
    std::string route(const Bytes& frame, uint32_t now_s = kNow);

    /** Frames now in the tx ring (removed from it). */
    std::vector<Bytes> drain_tx();
    /** Frames now in the exception channel (removed from it). */
    std::vector<Punted> drain_punted();
    /** Real ids now in the resolve ring (removed from it). */
    std::vector<uint32_t> drain_resolve();

    /** A counter by its X-macro name; fails the test for an unknown name. */
    uint64_t counter(std::string_view name) const;
    /** All counters by name. */
    std::map<std::string, uint64_t> counters() const;
    uint64_t malformed(net::Verdict v) const { return worker_->malformed()[net::drop_index(v)]; }

    uint16_t port_id() const noexcept { return port_->port_id(); }
    test::RingPort& port() noexcept { return *port_; }
    dp::Worker& worker() noexcept { return *worker_; }
    dp::ExceptionChannel& exceptions() noexcept { return *exceptions_; }
    rcu::Publisher<lb::Snapshot>& publisher() noexcept { return *publisher_; }
    const lb::Snapshot& snapshot() const noexcept { return *publisher_->current(); }

private:
    Director() = default;

    // Destroyed in reverse order: the worker before what it points at.
    std::unique_ptr<test::RingPort> port_;
    std::unique_ptr<dp::ExceptionChannel> exceptions_;
    std::unique_ptr<rcu::Publisher<lb::Snapshot>> publisher_;
    std::unique_ptr<dp::Worker> worker_;
};

/** Name of the lab real a MAC belongs to, or nullopt. */
std::optional<std::string> real_name(const uint8_t* mac);

/** Name of a punt reason: "Arp", "Vrrp", "Icmp", "Host". */
std::string punt_name(dp::PuntReason r);

/**
 * Base fixture: EAL must be up, and every mbuf taken from the shared pool during the test must
 * be back when it ends (nothing leaked by a drop path, nothing freed twice).
 */
class DataplaneTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

private:
    unsigned baseline_ = 0;
};

}  // namespace director::dptest
