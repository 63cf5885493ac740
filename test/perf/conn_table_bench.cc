// SPDX-License-Identifier: BSD-3-Clause
// Per-packet cost of the worker's connection-table path: for each packet of a burst, look up
// its flow, read the real, apply the TCP flags (update_state), with bucket prefetches issued
// ahead as the pipeline does (STYLE H2/H3). Flows are live in a 1M-slot table; packets pick
// flows uniformly at random, the worst case for caches.
//
//   BM_EstablishedPackets/<live flows>/<prefetch>   prefetch: -1 = whole burst first (stage 1
//                                                    of the pipeline), 0 = none, k = k ahead
//   BM_NewFlows/<live flows>                         lookup miss + insert (SYN flood path)
//
// Reports ns_per_pkt and tracked (fraction of offered flows that got an entry). Instructions
// per packet: run under `valgrind --tool=callgrind --toggle-collect='*process_burst*'` and
// divide Ir by the packets counter.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "lb/conn_table.h"

namespace director::lb {
namespace {

constexpr uint32_t kTableCapacity = 1u << 20;
constexpr uint32_t kBurst = 32;
constexpr uint32_t kStreamLength = 1u << 20;  // packets per pass over the stream
constexpr uint32_t kService = 1;
constexpr uint32_t kNow = 1000;

uint32_t fmix32(uint32_t h) {  // murmur3 finaliser: stands in for the 5-tuple CRC
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

struct Fixture {
    std::unique_ptr<ConnTable> table;
    std::vector<uint32_t> stream;  // flow hash of each packet
    double tracked = 0;
};

/** A 1M-slot table holding `live` random established flows, and a random packet stream. */
Fixture make_fixture(uint32_t live) {
    Fixture f;
    f.table = ConnTable::create({.capacity = kTableCapacity, .max_reals = 4096}).value();
    std::vector<uint32_t> flows;
    flows.reserve(live);
    for (uint32_t i = 1; i <= live; ++i) {
        const uint32_t h = fmix32(i);
        if (f.table->insert(h, kService, i % 64, ConnState::Established, kNow).slot != kNoSlot) {
            flows.push_back(h);
        }
    }
    f.tracked = static_cast<double>(flows.size()) / live;
    f.stream.resize(kStreamLength);
    uint32_t x = 12345;
    for (uint32_t& h : f.stream) {
        x = x * 1664525u + 1013904223u;  // LCG over the tracked flows
        h = flows[(static_cast<uint64_t>(x) * flows.size()) >> 32];
    }
    return f;
}

/** One burst of established-flow packets: prefetch stage, then lookup + update per packet. */
[[gnu::noinline]] uint64_t process_burst(ConnTable& t, const uint32_t* hashes, int ahead,
                                         uint32_t now) {
    uint64_t sum = 0;
    if (ahead < 0) {
        for (uint32_t i = 0; i < kBurst; ++i) {
            t.prefetch(hashes[i]);
        }
    } else {
        for (int i = 0; i < ahead; ++i) {
            t.prefetch(hashes[i]);
        }
    }
    for (uint32_t i = 0; i < kBurst; ++i) {
        if (ahead > 0 && i + ahead < kBurst) {
            t.prefetch(hashes[i + ahead]);
        }
        const uint32_t slot = t.lookup(hashes[i], kService, now);
        if (slot != kNoSlot) [[likely]] {
            sum += t.real_id(slot);
            (void)t.update_state(slot, kTcpAck, now);
        }
    }
    return sum;
}

void BM_EstablishedPackets(benchmark::State& state) {
    Fixture f = make_fixture(static_cast<uint32_t>(state.range(0)));
    const int ahead = static_cast<int>(state.range(1));
    uint64_t packets = 0;
    uint32_t pos = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(process_burst(*f.table, &f.stream[pos], ahead, kNow));
        pos = (pos + kBurst) & (kStreamLength - 1);
        packets += kBurst;
    }
    // kIsRate | kInvert turns the value into seconds per unit; scale the unit to 1e-9 packet.
    state.counters["ns_per_pkt"] =
        benchmark::Counter(static_cast<double>(packets) * 1e-9,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["packets"] = static_cast<double>(packets);
    state.counters["tracked"] = f.tracked;
    state.SetItemsProcessed(static_cast<int64_t>(packets));
}

// The pipeline's order: the bucket of every packet in the burst is prefetched in stage 1.
BENCHMARK(BM_EstablishedPackets)
    ->ArgNames({"flows", "prefetch"})
    ->Args({1000, -1})
    ->Args({100000, -1})
    ->Args({1000000, -1})
    ->Args({1000000, 0})
    ->Args({1000000, 4})
    ->Args({1000000, 8});

/** New flows (SYN flood): lookup miss, then insert; the table is kept full of half-open. */
[[gnu::noinline]] uint64_t process_new_burst(ConnTable& t, uint32_t first, uint32_t now) {
    uint64_t tracked = 0;
    for (uint32_t i = 0; i < kBurst; ++i) {
        t.prefetch(fmix32(first + i));
    }
    for (uint32_t i = 0; i < kBurst; ++i) {
        const uint32_t h = fmix32(first + i);
        if (t.lookup(h, kService, now) == kNoSlot) {
            tracked += t.insert(h, kService, 1, ConnState::SynRecv, now).slot != kNoSlot;
        }
    }
    return tracked;
}

void BM_NewFlows(benchmark::State& state) {
    Fixture f = make_fixture(static_cast<uint32_t>(state.range(0)));
    uint64_t packets = 0;
    uint32_t next = 0x40000000;
    for (auto _ : state) {
        benchmark::DoNotOptimize(process_new_burst(*f.table, next, kNow));
        next += kBurst;
        packets += kBurst;
    }
    // kIsRate | kInvert turns the value into seconds per unit; scale the unit to 1e-9 packet.
    state.counters["ns_per_pkt"] =
        benchmark::Counter(static_cast<double>(packets) * 1e-9,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["packets"] = static_cast<double>(packets);
    state.SetItemsProcessed(static_cast<int64_t>(packets));
}

BENCHMARK(BM_NewFlows)->ArgNames({"flows"})->Arg(100000)->Arg(1000000);

}  // namespace
}  // namespace director::lb

BENCHMARK_MAIN();
