// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark for the control-plane snapshot build (1,000 services x 100 reals: cold, and
// republished with every lookup table shared) and the per-packet snapshot operations a worker
// runs: service lookup, schedule() for each IPVS scheduler, consistent_pick, the H9 real check.
//
// Run: build/test/perf/snapshot_bench [--benchmark_filter=Schedule]. Use a build without
// sanitizers for numbers; the machine's other load shows up directly in the build times.
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "lb/maglev.h"
#include "lb/scheduler.h"
#include "lb/snapshot.h"

namespace director::lb {
namespace {

std::vector<ServiceSpec> make_specs(uint32_t services, uint32_t reals, SchedulerKind kind) {
    std::vector<ServiceSpec> specs;
    specs.reserve(services);
    for (uint32_t s = 0; s < services; ++s) {
        ServiceSpec spec;
        spec.vip = net::IpAddress::v4(0x0a000000u + s);
        spec.port = 80;
        spec.proto = Protocol::Tcp;
        spec.scheduler = kind;
        spec.service_id = s;
        spec.reals.reserve(reals);
        for (uint32_t r = 0; r < reals; ++r) {
            RealSpec real;
            real.real_id = s * reals + r;
            real.addr = net::IpAddress::v4(0xac100000u + real.real_id);
            real.port = 80;
            real.weight = 1 + r % 4;
            real.mac = net::MacAddress{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(r)}};
            spec.reals.push_back(real);
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

void BM_SnapshotBuildCold(benchmark::State& state) {
    const auto specs = make_specs(static_cast<uint32_t>(state.range(0)),
                                  static_cast<uint32_t>(state.range(1)), SchedulerKind::Wlc);
    for (auto _ : state) {
        auto snap = SnapshotBuilder::build(specs);
        benchmark::DoNotOptimize(snap);
    }
}
BENCHMARK(BM_SnapshotBuildCold)->Args({1000, 100})->Unit(benchmark::kMillisecond);

// A republish (health change, MAC learnt): every service's tables are shared with the
// previous snapshot. The target is < 10 ms for 1,000 x 100.
void BM_SnapshotRepublish(benchmark::State& state) {
    auto specs = make_specs(static_cast<uint32_t>(state.range(0)),
                            static_cast<uint32_t>(state.range(1)), SchedulerKind::Wlc);
    auto previous = std::move(SnapshotBuilder::build(specs)).value();
    specs[0].reals[0].state = RealState::Down;
    for (auto _ : state) {
        auto snap = SnapshotBuilder::build(specs, previous.get());
        benchmark::DoNotOptimize(snap);
    }
}
BENCHMARK(BM_SnapshotRepublish)->Args({1000, 100})->Unit(benchmark::kMillisecond);

void BM_MaglevBuild(benchmark::State& state) {
    std::vector<MaglevBackend> backends;
    for (uint32_t i = 0; i < static_cast<uint32_t>(state.range(0)); ++i) {
        backends.push_back(MaglevBackend{maglev_backend_key(net::IpAddress::v4(i), 80), 1});
    }
    std::vector<uint16_t> table(static_cast<size_t>(state.range(1)));
    for (auto _ : state) {
        maglev_build(backends, table);
        benchmark::DoNotOptimize(table.data());
    }
}
BENCHMARK(BM_MaglevBuild)->Args({100, 16381})->Args({1000, 65537})->Unit(benchmark::kMicrosecond);

struct Fixture {
    std::unique_ptr<Snapshot> snap;
    std::vector<SchedInput> inputs;
    std::vector<ConnCounts> counts;
};

Fixture make_fixture(SchedulerKind kind) {
    Fixture f;
    f.snap = std::move(SnapshotBuilder::build(make_specs(1000, 100, kind))).value();
    std::mt19937 rng(1);
    for (int i = 0; i < 4096; ++i) {
        f.inputs.push_back(SchedInput{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
                                      static_cast<uint32_t>(rng())});
    }
    f.counts.resize(1000 * 100);
    for (ConnCounts& c : f.counts) {
        c = ConnCounts{static_cast<uint32_t>(rng() % 50), static_cast<uint32_t>(rng() % 500)};
    }
    return f;
}

void BM_Schedule(benchmark::State& state) {
    const auto kind = static_cast<SchedulerKind>(state.range(0));
    const Fixture f = make_fixture(kind);
    state.SetLabel(std::string(scheduler_name(kind)) + ", 100 reals");
    SchedState st;
    size_t i = 0;
    for (auto _ : state) {
        const SchedInput& in = f.inputs[i++ & 4095];
        benchmark::DoNotOptimize(schedule(*f.snap, 17, in, st, f.counts));
    }
}
BENCHMARK(BM_Schedule)->DenseRange(0, static_cast<int>(SchedulerKind::Mh));

void BM_FindServiceV4(benchmark::State& state) {
    const Fixture f = make_fixture(SchedulerKind::Rr);
    std::vector<std::array<uint8_t, 4>> vips;
    for (uint32_t s = 0; s < 1000; ++s) {
        const uint32_t a = 0x0a000000u + (s * 7919u) % 1000u;
        vips.push_back({static_cast<uint8_t>(a >> 24), static_cast<uint8_t>(a >> 16),
                        static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(a)});
    }
    size_t i = 0;
    for (auto _ : state) {
        const auto& v = vips[i++ % vips.size()];
        // Port 443 misses the exact key and falls back to port 0 (absent): the worst case.
        benchmark::DoNotOptimize(f.snap->find_service_v4(v.data(), (i & 1) ? 80 : 443, 6));
    }
}
BENCHMARK(BM_FindServiceV4);

void BM_ConsistentPick(benchmark::State& state) {
    const Fixture f = make_fixture(SchedulerKind::Mh);
    size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            f.snap->consistent_pick(static_cast<uint32_t>(i % 1000), f.inputs[i & 4095].flow_hash));
        ++i;
    }
}
BENCHMARK(BM_ConsistentPick);

void BM_RealStatus(benchmark::State& state) {
    const Fixture f = make_fixture(SchedulerKind::Rr);
    size_t i = 0;
    for (auto _ : state) {
        const auto real_id = static_cast<uint32_t>((i * 7919u) % 100000u);
        benchmark::DoNotOptimize(f.snap->real_status(real_id / 100, real_id));
        ++i;
    }
}
BENCHMARK(BM_RealStatus);

}  // namespace
}  // namespace director::lb

BENCHMARK_MAIN();
