// SPDX-License-Identifier: BSD-3-Clause
// Per-packet cost of the real datapath: dp::Worker::process_burst (parse, classify, service
// lookup, connection table, scheduler, DR MAC rewrite, tx burst) on prepared mbufs, with a
// net_null port as the tx sink (it frees what it is given, as a NIC's completion would).
//
//   BM_Established/<live>   TCP ACKs of connections in the table, drawn uniformly at random
//                           from the <live> tracked flows (worst case for caches)
//   BM_NewSyn/<live>        SYNs of never-seen flows into a table holding <live> flows: lookup
//                           miss, wlc scheduling, insert
//   BM_Prepare              what the benchmark does outside the timed region per burst
//                           (rte_pktmbuf_alloc_bulk + 60-byte copy + checksum), for reference
//
// Every case keeps the same connection table: 4M slots (1M 64-byte buckets, 64 MiB), so that
// 1M live flows sit at a quarter of capacity and nearly all of them are tracked; only the flows
// that got an entry are replayed (counters `live` and `untracked`, the flows whose SYN found
// its bucket full). Timing is manual: rdtsc around
// process_burst only, so mbuf allocation and filling (BM_Prepare) are excluded, while the
// frames are hot in cache as after a PMD's rx copy. Reported: items_per_second and ns_per_pkt.
//
// EAL: one lcore (-l 1 unless DATAPATH_BENCH_LCORE says otherwise), --in-memory hugepages when
// a forked probe can get them (never under valgrind), else --no-huge -m 1024; force either with
// --huge or --no-huge among the Google Benchmark flags. DATAPATH_BENCH_EAL="..." replaces the
// EAL arguments. --force-max-simd-bitwidth=128 goes to EAL as is: stage 1 then takes 4 frames
// at once instead of 8 on an AVX2 CPU (context `stage1_frames_at_once`).
//
// Instructions per packet: run under callgrind with --no-huge (scripts/bench.sh --callgrind):
//   valgrind --tool=callgrind --collect-atstart=no
//            --toggle-collect='director::dp::Worker::process_burst*'
//            build-bench/test/perf/datapath_bench --no-huge
//            --benchmark_filter=BM_Established/1000000      (one command line)
// Each timed loop zeroes callgrind's counters when it starts and dumps them when it ends
// (callgrind.h client requests; no-ops natively), and prints `callgrind-dump N packets=P` on
// stderr: Ir of the last dump / P is the per-packet cost.
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define DP_BENCH_HAVE_CALLGRIND 1
#else
#define DP_BENCH_HAVE_CALLGRIND 0
#endif

#include "dataplane/exception.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "lb/snapshot.h"
#include "rcu/publisher.h"

namespace director {
namespace {

constexpr uint16_t kBurst = dp::kBurstSize;
constexpr uint32_t kTableSlots = 4u << 20;  // 1M buckets: 1M live flows at 1/4 load
constexpr uint32_t kFrameLen = 60;          // 64 B on the wire
constexpr uint32_t kVip = 0x0A630064;       // 10.99.0.100
constexpr uint16_t kVport = 80;
constexpr uint32_t kOwnAddr = 0x0A630078;   // 10.99.0.120, the port's own address
constexpr uint32_t kClientBase = 0x0B000000;  // flow i: 11.0.0.0 + i/64, port 10000 + i%64
constexpr uint32_t kFreshBase = 1u << 24;     // new-flow ids start here (never live flows)
constexpr uint32_t kFreshPerSecond = 1024;    // new SYNs per simulated second
constexpr uint32_t kStartTime = 1000;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kAck = 0x10;

struct Eal {
    rte_mempool* pool = nullptr;
    uint16_t port_id = 0;
    net::MacAddress port_mac;
    bool huge = false;
    bool under_valgrind = false;
};
Eal g_eal;

// ---- EAL -----------------------------------------------------------------------------------

/// EAL's --force-max-simd-bitwidth=N, from the command line: 128 keeps stage 1 at 4 frames.
std::string g_simd_arg;

std::vector<std::string> eal_args_base(bool huge) {
    if (const char* env = std::getenv("DATAPATH_BENCH_EAL"); env != nullptr && *env != '\0') {
        std::vector<std::string> a{"datapath_bench"};
        std::istringstream in(env);
        for (std::string w; in >> w;) {
            a.push_back(w);
        }
        return a;
    }
    const char* lcore = std::getenv("DATAPATH_BENCH_LCORE");
    std::vector<std::string> a{"datapath_bench",
                               "-l",
                               lcore != nullptr && *lcore != '\0' ? lcore : "1",
                               "--no-pci",
                               "--no-telemetry",
                               "--log-level=*:warning",
                               "--file-prefix=dpbench" + std::to_string(getpid()),
                               "--vdev=net_null0,no-rx=1"};
    if (huge) {
        a.emplace_back("--in-memory");
    } else {
        a.insert(a.end(), {"--no-huge", "-m", "1024", "--no-shconf"});
    }
    return a;
}

std::vector<std::string> eal_args(bool huge) {
    std::vector<std::string> a = eal_args_base(huge);
    if (!g_simd_arg.empty()) {
        a.push_back(g_simd_arg);
    }
    return a;
}

int init_eal(const std::vector<std::string>& args) {
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& s : copy) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    return rte_eal_init(static_cast<int>(copy.size()), argv.data());
}

/** A forked child tries hugepages (EAL can be initialised once per process). */
bool hugepages_work() {
    const pid_t pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        std::freopen("/dev/null", "w", stderr);
        std::freopen("/dev/null", "w", stdout);
        if (init_eal(eal_args(true)) < 0) {
            _exit(1);
        }
        void* p = rte_malloc("probe", 96u << 20, 64);  // the table is 64 MiB
        _exit(p != nullptr ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool setup_eal(int mode /* -1 auto, 0 no-huge, 1 huge */) {
#if DP_BENCH_HAVE_CALLGRIND
    g_eal.under_valgrind = RUNNING_ON_VALGRIND != 0;
#endif
    g_eal.huge = mode == 1 || (mode < 0 && !g_eal.under_valgrind && hugepages_work());
    const std::vector<std::string> args = eal_args(g_eal.huge);
    if (init_eal(args) < 0) {
        std::fprintf(stderr, "datapath_bench: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        return false;
    }
    std::string joined;
    for (const auto& s : args) {
        joined += " " + s;
    }
    std::fprintf(stderr, "datapath_bench: EAL%s\n", joined.c_str());
    g_eal.pool = rte_pktmbuf_pool_create("bench_mbufs", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                         static_cast<int>(rte_socket_id()));
    if (g_eal.pool == nullptr) {
        std::fprintf(stderr, "datapath_bench: mbuf pool: %s\n", rte_strerror(rte_errno));
        return false;
    }
    auto port = dp::find_port("net_null0");
    if (!port) {
        std::fprintf(stderr, "datapath_bench: %s\n", port.error().message.c_str());
        return false;
    }
    dp::PortSetup setup;
    setup.port_id = *port;
    setup.rx_queues = 1;
    setup.tx_queues = 1;
    setup.tx_offloads = RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;  // drivers-conf/null.yaml
    setup.pool = g_eal.pool;
    auto info = dp::start_port(setup);
    if (!info) {
        std::fprintf(stderr, "datapath_bench: %s\n", info.error().message.c_str());
        return false;
    }
    g_eal.port_id = *port;
    g_eal.port_mac = info->mac;
    return true;
}

// ---- frames --------------------------------------------------------------------------------

/** The 60-byte TCP frame of flow `id` with `flags`, addressed to the port (as net_pcap gives). */
struct FrameTemplate {
    uint8_t bytes[kFrameLen] = {};

    explicit FrameTemplate(uint8_t flags) {
        uint8_t* p = bytes;
        std::memcpy(p, g_eal.port_mac.bytes.data(), 6);
        const uint8_t client_mac[6] = {0x02, 0, 0, 0, 0, 0x0a};
        std::memcpy(p + 6, client_mac, 6);
        p[12] = 0x08;  // IPv4
        p[13] = 0x00;
        uint8_t* ip = p + 14;
        ip[0] = 0x45;
        ip[3] = 40;  // total length: 20 + 20
        ip[6] = 0x40;  // DF
        ip[8] = 64;    // TTL
        ip[9] = 6;     // TCP
        put32(ip + 16, kVip);
        uint8_t* tcp = ip + 20;
        put16(tcp + 2, kVport);
        put32(tcp + 4, 1000);               // seq
        put32(tcp + 8, flags & kAck ? 1 : 0);  // ack
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        put16(tcp + 14, 65535);
    }

    static void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
    static void put32(uint8_t* p, uint32_t v) {
        put16(p, uint16_t(v >> 16));
        put16(p + 2, uint16_t(v));
    }

    /** Copies the template into an mbuf freshly taken from the pool, as flow `id`. */
    void fill(rte_mbuf* m, uint32_t id) const noexcept {
        uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
        std::memcpy(d, bytes, kFrameLen);
        uint8_t* ip = d + 14;
        put32(ip + 12, kClientBase + (id >> 6));
        put16(ip + 20, static_cast<uint16_t>(10000 + (id & 63)));
        auto* hdr = reinterpret_cast<rte_ipv4_hdr*>(ip);
        hdr->hdr_checksum = 0;
        hdr->hdr_checksum = rte_ipv4_cksum(hdr);
        m->data_len = kFrameLen;
        m->pkt_len = kFrameLen;
        m->port = g_eal.port_id;
    }
};

// ---- fixture: one worker with `live` established flows ------------------------------------

struct Fixture {
    std::unique_ptr<rcu::Publisher<lb::Snapshot>> publisher;
    std::unique_ptr<dp::ExceptionChannel> exceptions;
    std::unique_ptr<dp::Worker> worker;
    std::vector<uint32_t> tracked;  // ids of the live flows that got an entry
    uint32_t offered = 0;
    uint32_t now = kStartTime;
    uint32_t fresh_next = kFreshBase;
    uint32_t rng = 12345;
    FrameTemplate syn{kSyn};
    FrameTemplate ack{kAck};

    const lb::Snapshot& snap() const { return *publisher->current(); }

    /** Next id of the random established stream (LCG over the tracked flows). */
    uint32_t next_established() noexcept {
        rng = rng * 1664525u + 1013904223u;
        return tracked[(static_cast<uint64_t>(rng) * tracked.size()) >> 32];
    }
};

lb::ServiceSpec bench_service() {
    lb::ServiceSpec s;
    s.vip = net::IpAddress::v4_bytes(std::array<uint8_t, 4>{10, 99, 0, 100}.data());
    s.port = kVport;
    s.proto = lb::Protocol::Tcp;
    s.scheduler = lb::SchedulerKind::Wlc;  // config/bench/director.yaml.in
    s.service_id = 0;
    for (uint32_t r = 0; r < 4; ++r) {
        lb::RealSpec rs;
        rs.real_id = r;
        const uint8_t a[4] = {192, 0, 2, static_cast<uint8_t>(11 + r)};
        rs.addr = net::IpAddress::v4_bytes(a);
        rs.port = kVport;
        rs.weight = 1;
        net::MacAddress mac;
        const uint8_t m[6] = {0x02, 0, 0, 0, 0x02, static_cast<uint8_t>(0x0b + r)};
        std::memcpy(mac.bytes.data(), m, 6);
        rs.mac = mac;
        rs.tx_port = g_eal.port_id;
        s.reals.push_back(rs);
    }
    return s;
}

/** One packet through process_burst; true when the worker forwarded it. */
bool send_one(Fixture& f, const FrameTemplate& t, uint32_t id) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_eal.pool);
    if (m == nullptr) {
        return false;
    }
    t.fill(m, id);
    const uint64_t before = f.worker->counters().forwarded;
    f.worker->process_burst(f.snap(), &m, 1, f.now);
    return f.worker->counters().forwarded == before + 1;
}

std::unique_ptr<Fixture> make_fixture(uint32_t live, unsigned index, std::string& err) {
    auto f = std::make_unique<Fixture>();
    auto pub = rcu::Publisher<lb::Snapshot>::create(index + 1);
    if (!pub) {
        err = pub.error().message;
        return nullptr;
    }
    f->publisher = std::move(*pub);
    auto snap = lb::SnapshotBuilder().add(bench_service()).build();
    if (!snap) {
        err = snap.error().message;
        return nullptr;
    }
    f->publisher->publish(std::move(*snap));
    auto exc = dp::ExceptionChannel::create(index, SOCKET_ID_ANY);
    if (!exc) {
        err = exc.error().message;
        return nullptr;
    }
    f->exceptions = std::move(*exc);

    dp::PortContext pc;
    pc.port_id = g_eal.port_id;
    pc.tx_queue = 0;
    pc.mac = g_eal.port_mac;
    FrameTemplate::put32(pc.own_v4.data(), kOwnAddr);
    pc.has_own_v4 = true;
    const dp::RxQueue rxq{g_eal.port_id, 0};
    dp::WorkerConfig cfg;
    cfg.index = index;
    cfg.socket = SOCKET_ID_ANY;
    cfg.ports = {&pc, 1};
    cfg.rx_queues = {&rxq, 1};
    cfg.conn_table.capacity = kTableSlots;
    cfg.conn_table.max_reals = lb::kMaxReals;  // as lib/control/runtime.cc
    // Established entries outlive any run; half-open ones expire after 1 simulated second, so
    // BM_NewSyn keeps at most kFreshPerSecond of them alive whatever it runs for.
    cfg.conn_table.timeouts.established = 1u << 29;
    cfg.conn_table.timeouts.syn_recv = 1;
    cfg.use_rte_malloc = true;
    auto w = dp::Worker::create(cfg, *f->publisher, *f->exceptions);
    if (!w) {
        err = w.error().message;
        return nullptr;
    }
    f->worker = std::move(*w);

    // SYN then ACK per flow, one packet at a time: the flow is tracked when its SYN got an
    // entry (conn_untracked did not move). Nothing is half-open between flows, so no SYN
    // evicts another flow's entry.
    f->tracked.reserve(live);
    for (uint32_t id = 0; id < live; ++id) {
        const uint64_t untracked = f->worker->counters().conn_untracked;
        if (!send_one(*f, f->syn, id) || !send_one(*f, f->ack, id)) {
            err = "setup packet of flow " + std::to_string(id) + " was not forwarded";
            return nullptr;
        }
        if (f->worker->counters().conn_untracked == untracked) {
            f->tracked.push_back(id);
        }
    }
    f->offered = live;
    if (f->tracked.empty()) {
        err = "no flow tracked";
        return nullptr;
    }
    return f;
}

/** Fixtures by live-flow count; cleared in main() before rte_eal_cleanup (they hold EAL memory). */
std::map<uint32_t, std::unique_ptr<Fixture>> g_fixtures;
unsigned g_fixture_index = 0;  // worker index: names the exception rings, so never reused

Fixture* fixture(uint32_t live, std::string& err) {
    auto it = g_fixtures.find(live);
    if (it != g_fixtures.end()) {
        return it->second.get();
    }
    // One fixture at a time: the 1M one alone holds 64 MiB of table and 8 MiB of counts.
    g_fixtures.clear();
    auto f = make_fixture(live, g_fixture_index++, err);
    if (!f) {
        return nullptr;
    }
    return g_fixtures.emplace(live, std::move(f)).first->second.get();
}

// ---- timed loops ---------------------------------------------------------------------------

template <class Fill>
void run_bursts(benchmark::State& state, Fixture& f, const char* what, Fill&& fill) {
    rte_mbuf* pkts[kBurst];
    const double tsc_hz = static_cast<double>(rte_get_tsc_hz());
    const uint64_t fwd0 = f.worker->counters().forwarded;
    uint64_t packets = 0;
#if DP_BENCH_HAVE_CALLGRIND
    CALLGRIND_ZERO_STATS;
#endif
    for (auto _ : state) {
        if (rte_pktmbuf_alloc_bulk(g_eal.pool, pkts, kBurst) != 0) {
            state.SkipWithError("mbuf pool exhausted");
            break;
        }
        for (uint16_t i = 0; i < kBurst; ++i) {
            fill(pkts[i]);
        }
        const uint64_t t0 = rte_rdtsc_precise();
        f.worker->process_burst(f.snap(), pkts, kBurst, f.now);
        const uint64_t t1 = rte_rdtsc_precise();
        state.SetIterationTime(static_cast<double>(t1 - t0) / tsc_hz);
        packets += kBurst;
    }
#if DP_BENCH_HAVE_CALLGRIND
    CALLGRIND_DUMP_STATS_AT(what);
    if (g_eal.under_valgrind) {
        std::fprintf(stderr, "callgrind-dump %s packets=%llu\n", what,
                     static_cast<unsigned long long>(packets));
    }
#else
    (void)what;
#endif
    const uint64_t forwarded = f.worker->counters().forwarded - fwd0;
    if (forwarded != packets) {
        state.SkipWithError(("forwarded " + std::to_string(forwarded) + " of " +
                             std::to_string(packets) + " packets")
                                .c_str());
        return;
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    state.counters["ns_per_pkt"] = benchmark::Counter(
        static_cast<double>(packets), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["live"] = static_cast<double>(f.tracked.size());
    state.counters["untracked"] = static_cast<double>(f.offered - f.tracked.size());
}

void BM_Established(benchmark::State& state) {
    std::string err;
    Fixture* f = fixture(static_cast<uint32_t>(state.range(0)), err);
    if (f == nullptr) {
        state.SkipWithError(err.c_str());
        return;
    }
    const uint64_t hits0 = f->worker->counters().conn_hit;
    uint64_t sent = 0;
    run_bursts(state, *f, ("BM_Established/" + std::to_string(state.range(0))).c_str(),
               [&](rte_mbuf* m) {
                   f->ack.fill(m, f->next_established());
                   ++sent;
               });
    if (f->worker->counters().conn_hit - hits0 != sent) {
        state.SkipWithError("an established packet missed the connection table");
    }
}

void BM_NewSyn(benchmark::State& state) {
    std::string err;
    Fixture* f = fixture(static_cast<uint32_t>(state.range(0)), err);
    if (f == nullptr) {
        state.SkipWithError(err.c_str());
        return;
    }
    const uint64_t new0 = f->worker->counters().conn_new;
    uint64_t sent = 0;
    run_bursts(state, *f, ("BM_NewSyn/" + std::to_string(state.range(0))).c_str(),
               [&](rte_mbuf* m) {
                   f->syn.fill(m, f->fresh_next++);
                   if (++sent % kFreshPerSecond == 0) {
                       ++f->now;  // the half-open entries of two simulated seconds ago expire
                   }
               });
    f->now += 2;  // the next run starts with every earlier half-open entry expired
    if (f->worker->counters().conn_new - new0 != sent) {
        state.SkipWithError("a new SYN did not create a connection entry");
    }
}

/** The per-burst work outside the timed region: alloc, fill, and (here) free. */
void BM_Prepare(benchmark::State& state) {
    FrameTemplate ack(kAck);
    rte_mbuf* pkts[kBurst];
    uint32_t id = 0;
    for (auto _ : state) {
        if (rte_pktmbuf_alloc_bulk(g_eal.pool, pkts, kBurst) != 0) {
            state.SkipWithError("mbuf pool exhausted");
            break;
        }
        for (uint16_t i = 0; i < kBurst; ++i) {
            ack.fill(pkts[i], id++ & 0xFFFFF);
        }
        rte_pktmbuf_free_bulk(pkts, kBurst);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBurst);
    state.counters["ns_per_pkt"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * kBurst,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace
}  // namespace director

// The SYN case of a table size runs right after its established case, on the same fixture.
BENCHMARK(director::BM_Prepare);
BENCHMARK(director::BM_Established)->Arg(1000)->UseManualTime();
BENCHMARK(director::BM_NewSyn)->Arg(1000)->UseManualTime();
BENCHMARK(director::BM_Established)->Arg(100000)->UseManualTime();
BENCHMARK(director::BM_NewSyn)->Arg(100000)->UseManualTime();
BENCHMARK(director::BM_Established)->Arg(1000000)->UseManualTime();
BENCHMARK(director::BM_NewSyn)->Arg(1000000)->UseManualTime();

int main(int argc, char** argv) {
    int mode = -1;
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--huge") == 0) {
            mode = 1;
        } else if (std::strcmp(argv[i], "--no-huge") == 0) {
            mode = 0;
        } else if (std::strncmp(argv[i], "--force-max-simd-bitwidth=", 26) == 0) {
            director::g_simd_arg = argv[i];
        } else {
            rest.push_back(argv[i]);
        }
    }
    int n = static_cast<int>(rest.size());
    rest.push_back(nullptr);
    benchmark::Initialize(&n, rest.data());
    if (benchmark::ReportUnrecognizedArguments(n, rest.data())) {
        return 2;
    }
    if (!director::setup_eal(mode)) {
        return 1;
    }
    benchmark::AddCustomContext("eal_memory", director::g_eal.huge ? "hugepages" : "no-huge");
    benchmark::AddCustomContext(
        "stage1_frames_at_once",
        director::dp::lane_stage_for(0) == director::dp::lane_stage_x8 ? "8 (AVX2)" : "4 (SSE4.1)");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    director::g_fixtures.clear();
    rte_eth_dev_stop(director::g_eal.port_id);
    rte_eal_cleanup();
    return 0;
}
