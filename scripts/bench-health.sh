#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Health-check scale benchmark (issue 5): 10,000 real servers checked with TCP_CHECK every 1 s
# against a loopback listener farm; reports the control thread's CPU (% of one core), probes/s,
# succeeded/failed, the kernel floor (the same system calls without the engine), the
# verdict-to-snapshot latency (wall and control-thread CPU) and the snapshot rebuild cost.
#
# Usage: scripts/bench-health.sh [-r RUNS] [-d BUILD_DIR] [--] [health_bench options]
#   -r RUNS       how many times to run (default 3); the RESULT lines of each run are printed,
#                 then the median of each figure
#   -d BUILD_DIR  build directory (default build-hbench: release, benchmarks on)
#   health_bench options (see test/perf/health_bench.cc), e.g.
#       --vs 10 --reals-per-vs 1000   10 x 1000 instead of 100 x 100
#       --algo wlc|mh                 the virtual servers' lb_algo (default rr)
#       --seconds 20 --churn-pct 1    steady-state length, share of reals closed in the churn
#       --max-starts 64               EngineOptions::max_starts_per_poll
#       --no-eal                      without DPDK's EAL (no rcu::Publisher)
#       --raw                         userspace TCP_CHECK (health::SynProber) against an
#                                     in-process fake network instead of kernel sockets and the
#                                     listener farm: prints raw_probe_us (control-thread CPU per
#                                     probe) and raw_pct_at_10k (% of one core at 10,000/s)
# Examples:
#   scripts/bench-health.sh
#   scripts/bench-health.sh -r 1 -- --vs 10 --reals-per-vs 1000 --no-rebuild
#   scripts/bench-health.sh -r 3 -- --raw --no-rebuild
#
# Needs RLIMIT_NOFILE >= ~11,000 (raised by the program when the hard limit allows). CPU time,
# not wall time, is the figure that matters on a shared machine: wall latencies grow with the
# machine's load, CPU times do not. Runs may leave up to a minute of TIME_WAIT sockets behind.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="build-hbench"
RUNS=3
while getopts "r:d:h" opt; do
    case "$opt" in
        r) RUNS="$OPTARG" ;;
        d) BUILD="$OPTARG" ;;
        h) sed -n '3,29p' "$0"; exit 0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ "${1:-}" == "--" ]] && shift

cd "$ROOT"
if [[ ! -d "$BUILD" ]]; then
    meson setup "$BUILD" --buildtype=release -Dbenchmarks=true -Dtests=true
fi
ninja -C "$BUILD" test/perf/health_bench

results=()
for ((i = 1; i <= RUNS; i++)); do
    echo "== run $i of $RUNS"
    out="$("$BUILD/test/perf/health_bench" "$@")"
    echo "$out"
    results+=("$(grep '^RESULT' <<<"$out" | tr '\n' ' ')")
done

echo "== medians over $RUNS run(s)"
printf '%s\n' "${results[@]}" | tr ' ' '\n' | grep '=' | python3 -c '
import sys, statistics, collections
v = collections.OrderedDict()
for line in sys.stdin:
    k, _, x = line.strip().partition("=")
    v.setdefault(k, []).append(float(x))
for k, xs in v.items():
    print(f"{k:28s} median {statistics.median(xs):10.3f}   runs {xs}")
'
