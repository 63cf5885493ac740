// SPDX-License-Identifier: BSD-3-Clause
// The worker under concurrency: Worker::run() on lcore 1 polls a net_ring port while the main
// lcore (this thread) injects frames into the port's rx ring, drains its tx ring, and publishes
// a new snapshot every few hundred microseconds (weights changing, a third real added and
// removed), reclaiming retired snapshots with Publisher::poll_reclaim(). Under AddressSanitizer
// a snapshot freed while the worker still read it is a use-after-free report; without ASan the
// test still checks zero loss, per-connection affinity and bounded reclamation.
#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "unit/dataplane/harness.h"

namespace director::dptest {
namespace {

constexpr uint32_t kFrames = 200'000;
constexpr unsigned kFlowSlots = 64;       // connections open at once
constexpr unsigned kPacketsPerConn = 32;  // SYN, then ACKs
constexpr unsigned kMaxInFlight = 1024;   // < tx ring capacity: the ring can never refuse
// A new snapshot every 300 us, and at least every 512 injected frames however fast the
// machine: >= 390 publications per run.
constexpr auto kPublishEvery = std::chrono::microseconds(300);
constexpr uint32_t kPublishEveryFrames = 512;
constexpr auto kDeadline = std::chrono::seconds(15);
constexpr auto kStall = std::chrono::seconds(2);  // no frame out for this long: give up
constexpr size_t kSeqOffset = 14 + 20 + 4;        // TCP sequence number: the frame's unique id

// Snapshot variant k: RS1 cycles through weights 1 2 0 1 3 1 (0 = drained), RS2 always takes
// new connections, RS3 is present for three publishes and absent for the next three.
std::vector<lb::ServiceSpec> variant(unsigned k, uint16_t port) {
    static constexpr uint32_t kRs1Weights[] = {1, 2, 0, 1, 3, 1};
    lb::RealSpec rs1 = real(kRs1, port, kRs1Weights[k % 6]);
    if (rs1.weight == 0) {
        rs1.last_weight = 1;
    }
    std::vector<lb::RealSpec> reals = {rs1, real(kRs2, port, 1 + k % 2)};
    if ((k / 3) % 2 == 0) {
        reals.push_back(real(kRs3, port, 2));
    }
    lb::ServiceSpec s =
        service(kVip, 80, std::move(reals), 1, lb::Protocol::Tcp, lb::SchedulerKind::Wrr);
    s.generation = k;
    return {s};
}

int run_worker(void* arg) {
    static_cast<dp::Worker*>(arg)->run();
    return 0;
}

TEST_F(DataplaneTest, WorkerOnLcore1LosesNothingWhileSnapshotsChurn) {
    ASSERT_GE(rte_lcore_count(), 2u);
    const unsigned worker_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    ASSERT_LT(worker_lcore, RTE_MAX_LCORE);

    DirectorOptions opt;
    opt.idle_sleep_us = 20;
    opt.conn_capacity = 1u << 16;
    opt.persist_capacity = 1024;
    opt.use_rte_malloc = true;
    opt.ring_size = 2048;
    auto d = Director::create({}, opt);
    ASSERT_TRUE(d);
    const uint16_t port = d->port_id();
    ASSERT_NE(port, 0) << "port 0 is the environment's spare (see eal_env.h)";
    unsigned k = 0;
    ASSERT_TRUE(d->publish(variant(k, port)));

    // Per-flow-slot state and per-frame bookkeeping.
    struct Slot {
        uint16_t sport = 0;
        unsigned sent = 0;  // packets of the current connection
        uint32_t conn = 0;  // its connection number
        Bytes syn;
        Bytes ack;
    };
    std::vector<Slot> slots(kFlowSlots);
    std::vector<uint32_t> conn_of(kFrames);  // frame id -> connection number
    std::vector<int8_t> conn_real;           // connection number -> last real seen (-1 none)
    std::vector<uint8_t> seen(kFrames, 0);
    uint32_t injected = 0;
    uint32_t received = 0;
    uint32_t duplicates = 0;
    uint32_t bad_frames = 0;
    uint32_t real_switches = 0;
    size_t max_pending = 0;
    const net::MacAddress port_mac = test::mac(kPortMac);
    uint16_t next_sport = 1024;

    ASSERT_EQ(rte_eal_remote_launch(run_worker, &d->worker(), worker_lcore), 0);
    // However this test body is left (a failed ASSERT returns early), the worker stops before
    // the director it points into is destroyed.
    struct StopWorker {
        dp::Worker& w;
        ~StopWorker() {
            w.stop();
            rte_eal_mp_wait_lcore();
        }
    } stop_worker{d->worker()};

    const auto start = std::chrono::steady_clock::now();
    auto last_publish = start;
    uint32_t injected_at_publish = 0;
    auto last_progress = start;
    uint32_t last_received = 0;
    bool timed_out = false;
    rte_mempool* pool = test::EalEnvironment::pool();
    while (received < kFrames) {
        const auto now = std::chrono::steady_clock::now();
        if (received != last_received) {
            last_received = received;
            last_progress = now;
        }
        if (now - start > kDeadline || now - last_progress > kStall) {
            timed_out = true;
            break;
        }
        // Inject one burst, keeping at most kMaxInFlight frames inside the director.
        if (injected < kFrames && injected - received + dp::kBurstSize <= kMaxInFlight) {
            rte_mbuf* burst[dp::kBurstSize];
            unsigned n = 0;
            while (n < dp::kBurstSize && injected < kFrames) {
                Slot& s = slots[injected % kFlowSlots];
                if (s.sent == 0) {
                    s.sport = next_sport++;
                    if (next_sport == 0) {
                        next_sport = 1024;
                    }
                    s.syn = syn(kClient, s.sport);
                    s.ack = ack(kClient, s.sport);
                    s.conn = static_cast<uint32_t>(conn_real.size());
                    conn_real.push_back(-1);
                }
                const Bytes& f = s.sent == 0 ? s.syn : s.ack;
                s.sent = (s.sent + 1) % kPacketsPerConn;
                rte_mbuf* m = rte_pktmbuf_alloc(pool);
                ASSERT_NE(m, nullptr)
                    << "pool exhausted with " << injected - received << " frames in flight";
                char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
                ASSERT_NE(p, nullptr);
                std::memcpy(p, f.data(), f.size());
                const uint32_t id = injected;
                const uint32_t id_be = rte_cpu_to_be_32(id);
                std::memcpy(p + kSeqOffset, &id_be, 4);  // TCP checksum is not checked: fine
                // As net_ring delivers it: rte_mbuf::port left at RTE_MBUF_PORT_INVALID.
                conn_of[id] = s.conn;
                burst[n++] = m;
                ++injected;
            }
            const unsigned q =
                rte_ring_enqueue_burst(d->port().rx(), reinterpret_cast<void**>(burst), n, nullptr);
            ASSERT_EQ(q, n) << "rx ring refused frames";
        }
        // Drain what the worker transmitted.
        rte_mbuf* out[64];
        const unsigned got =
            rte_ring_dequeue_burst(d->port().tx(), reinterpret_cast<void**>(out), 64, nullptr);
        for (unsigned i = 0; i < got; ++i) {
            const uint8_t* f = rte_pktmbuf_mtod(out[i], const uint8_t*);
            uint32_t id_be = 0;
            std::memcpy(&id_be, f + kSeqOffset, 4);
            const uint32_t id = rte_be_to_cpu_32(id_be);
            const auto name = real_name(f);
            if (id >= kFrames || !name || std::memcmp(f + 6, port_mac.bytes.data(), 6) != 0) {
                ++bad_frames;
            } else if (seen[id]++ != 0) {
                ++duplicates;
            } else {
                const int8_t r = static_cast<int8_t>((*name)[2] - '0');
                int8_t& last = conn_real[conn_of[id]];
                if (last != -1 && last != r) {
                    ++real_switches;
                }
                last = r;
            }
            rte_pktmbuf_free(out[i]);
        }
        received += got;
        // Churn the snapshot and reclaim retired ones, never blocking.
        if (now - last_publish >= kPublishEvery ||
            injected - injected_at_publish >= kPublishEveryFrames) {
            ASSERT_TRUE(d->publish(variant(++k, port)));
            last_publish = now;
            injected_at_publish = injected;
        }
        d->publisher().poll_reclaim();
        max_pending = std::max(max_pending, d->publisher().pending());
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;

    d->worker().stop();
    rte_eal_mp_wait_lcore();
    // The worker went offline on exit: every retired snapshot can go now.
    d->publisher().poll_reclaim();
    EXPECT_EQ(d->publisher().pending(), 0u);
    const std::vector<Bytes> late = d->drain_tx();
    const std::vector<Punted> punted = d->drain_punted();

    const auto c = d->counters();
    if (timed_out) {
        std::string dump;
        for (const auto& [name, value] : c) {
            dump += value != 0 ? " " + name + "=" + std::to_string(value) : "";
        }
        FAIL() << "deadline: injected " << injected << ", received " << received << "; worker"
               << dump;
    }
    const double secs = std::chrono::duration<double>(elapsed).count();
    std::printf(
        "[ concurrency ] %u frames in %.2f s, %llu snapshots published, max pending %zu, "
        "rescheduled %llu, real switches %u\n",
        received, secs, static_cast<unsigned long long>(d->publisher().published()), max_pending,
        static_cast<unsigned long long>(c.at("conn_rescheduled")), real_switches);

    // Zero loss: every injected frame came out of the tx ring exactly once, rewritten.
    EXPECT_EQ(received, kFrames);
    EXPECT_TRUE(late.empty());
    EXPECT_TRUE(punted.empty());
    EXPECT_EQ(duplicates, 0u);
    EXPECT_EQ(bad_frames, 0u);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(kFrames));
    EXPECT_EQ(c.at("rx_packets"), kFrames);
    EXPECT_EQ(c.at("forwarded"), kFrames);
    EXPECT_EQ(c.at("tx_packets"), kFrames);
    EXPECT_EQ(c.at("tx_dropped"), 0u);
    for (const auto& [name, value] : c) {
        if (name.rfind("drop_", 0) == 0 || name.rfind("bug_", 0) == 0 ||
            name.rfind("exception_", 0) == 0 || name == "ignored_other_mac") {
            EXPECT_EQ(value, 0u) << name;
        }
    }
    // Affinity under churn: a connection changes real exactly when it is rescheduled (its real
    // removed), or, if the table had no room for it, when the consistent hash moves.
    if (c.at("conn_untracked") == 0) {
        EXPECT_EQ(real_switches, c.at("conn_rescheduled"));
    } else {
        EXPECT_LE(real_switches, c.at("conn_rescheduled") + c.at("conn_untracked"));
    }
    EXPECT_GT(c.at("conn_rescheduled"), 0u) << "RS3's removals should have moved connections";
    // Reclamation kept up: many snapshots published, few ever waiting.
    EXPECT_GE(d->publisher().published(), kFrames / kPublishEveryFrames);
    EXPECT_LE(max_pending, 64u);
}

}  // namespace
}  // namespace director::dptest
