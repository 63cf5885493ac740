#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Throughput of the director against dpdk-testpmd --forward-mode=mac, interleaved in one
# invocation (shared/DESIGN.md "Performance method", shared/reference/dpdk-on-test-machines.md
# section 4): same vdevs, same forwarding core, hugepages, 4,096 flows of 64-byte TCP ACKs
# replayed forever from a pcap into a net_null sink.
#
#   scripts/bench.sh [-k ROUNDS] [-d SECONDS] [--micro] [--callgrind] [--keep]
#
#   -k N         rounds (default 3); each round runs testpmd and the director once, the order
#                alternating between rounds so that drift hits both alike
#   -d S         length of each run in seconds after start-up (default 10, at least 6)
#   --micro      also run test/perf/datapath_bench (ns per packet, Worker::process_burst)
#   --callgrind  also count instructions per packet of process_burst under callgrind
#   --keep       keep the work directory (logs, pcap, configs)
#
# Prints, per round, both rates in Mpps with the load average, then the median of each, their
# ratio director/testpmd, and the median of the rounds' own ratios. Exits non-zero when a run
# fails (no rate, wrong port count, a process that would not stop, a director that did not
# forward what it received).
#
# Measurement:
#   testpmd   --stats-period=1, SIGINT S seconds after its first statistics display (under a
#             timeout as a safety net); the rate is the mean of port 1's (the sink's) Tx-pps
#             samples from the third on (the first is 0, the second may include the start),
#             each a rate over its own TSC-timed interval (testpmd displays every 1-2 s)
#   director  once it logs "running", 2 s of warm-up, then SIGUSR1, S-4 seconds, SIGUSR1; each
#             logs one `stats t_us=... tx_packets=...` line; the rate is the tx_packets delta over
#             the t_us delta; then SIGTERM
#
# Environment: BENCH_BUILD (default build-bench), BENCH_WORK (default a fresh /tmp dir),
# BENCH_MESON_ARGS (extra `meson setup` arguments, e.g. -Dcpu=native), BENCH_LCORES (default
# 0-1: control/main lcore 0, forwarding lcore 1).
# shellcheck disable=SC2317  # functions reached through the trap and "run_$prog"
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

rounds=3
duration=10
micro=0
callgrind=0
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        -k) rounds=${2:?-k needs a number}; shift 2 ;;
        -d) duration=${2:?-d needs seconds}; shift 2 ;;
        --micro) micro=1; shift ;;
        --callgrind) callgrind=1; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '3,33p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ && "$duration" =~ ^[0-9]+$ && "$duration" -ge 6 ]]; then
    echo "bench.sh: -k needs a positive integer and -d at least 6 seconds" >&2
    exit 2
fi
warmup=2                        # director: seconds from "running" to the first stats line
window=$((duration - 4))        # director: seconds between the two stats lines

build=${BENCH_BUILD:-build-bench}
lcores=${BENCH_LCORES:-0-1}
scapy_python=/usr/bin/python3   # Debian's, with python3-scapy (the python3 on PATH may lack it)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- cleanup: every process we start is recorded and killed by PID -----------------------
pids=()
work=""
cleanup() {
    local p
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null
        fi
    done
    sleep 0.5
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
        fi
    done
    if [ -n "$work" ] && [ "$keep" != 1 ]; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'echo "bench.sh: interrupted" >&2; exit 130' INT TERM

# Waits up to $2 seconds for PID $1 to exit; its exit status is then in $wait_rc.
wait_rc=0
wait_for() {
    local pid=$1 limit=$2 i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((limit * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        return 1
    fi
    wait "$pid"
    wait_rc=$?
    return 0
}

# ---- build ----------------------------------------------------------------------------------
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found (package dpdk-dev)"
if ! "$scapy_python" -c 'import scapy' 2>/dev/null; then
    die "$scapy_python with scapy is needed to write the pcap (package python3-scapy)"
fi
if [ ! -f "$build/build.ninja" ]; then
    log "meson setup $build (release)"
    # shellcheck disable=SC2086
    meson setup "$build" --buildtype=release ${BENCH_MESON_ARGS:-} >&2 ||
        die "meson setup failed"
fi
targets=(app/director/director)
if [ "$micro" = 1 ] || [ "$callgrind" = 1 ]; then
    targets+=(test/perf/datapath_bench)
fi
log "ninja -C $build ${targets[*]}"
ninja -C "$build" "${targets[@]}" >&2 || die "build failed"
director="$build/app/director/director"
march=$(grep -o -- '-march=[^ "]*' "$build/compile_commands.json" | sort | uniq -c |
        awk '{printf "%s%s (%s files)", sep, $2, $1; sep=", "}')
log "compiler -march in $build: ${march:-none}"

# ---- traffic and configuration -------------------------------------------------------------
work=${BENCH_WORK:-$(mktemp -d /tmp/director-bench.XXXXXX)}
mkdir -p "$work"
flows="$work/flows4096.pcap"
"$scapy_python" test/perf/gen_flows.py "$flows" --flows 4096 >&2 || die "pcap generation failed"

# The same device strings for both programs. The pcap port gets two (unused) tx_pcap queues
# because the director asks every port for one tx queue per worker plus the control lcore's;
# all traffic leaves on the net_null sink (the real servers are in its prefix).
pcap_vdev="net_pcap0,rx_pcap=$flows,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null"
null_vdev="net_null0,no-rx=1"
hp_free() { awk '/HugePages_Free/ {print $2}' /proc/meminfo; }
hp_before=$(hp_free)
[ "${hp_before:-0}" -ge 64 ] ||
    log "warning: only ${hp_before:-0} free hugepages; the runs may fail or fall short"

# ---- one testpmd run: sets $rate (Mpps) -------------------------------------------------------
# The run_* functions run in this shell (not in $(...)), so that the PIDs they record reach the
# EXIT trap.
rate=""
run_testpmd() {  # run_testpmd ROUND
    local r=$1 out="$work/testpmd.$1.log" prefix="bench-tp-$$-$1" tp
    # timeout is the safety net; the run normally ends with the SIGINT sent below, S seconds
    # after the first statistics display (start-up takes 1-4 s depending on load). stdbuf: a
    # line-buffered log shows the displays as they happen, and testpmd, which re-raises SIGINT,
    # would otherwise lose the displays still in its stdio buffer.
    timeout -s INT -k 5 $((duration + 40)) stdbuf -oL \
        dpdk-testpmd -l "$lcores" --no-pci --in-memory \
        --file-prefix="$prefix" --no-telemetry --log-level='*:warning' \
        --vdev="$pcap_vdev" --vdev="$null_vdev" -- \
        --nb-cores=1 --forward-mode=mac --stats-period=1 --total-num-mbufs=32768 \
        </dev/null >"$out" 2>&1 &
    tp=$!
    pids+=("$tp")
    local i=0
    while ! grep -qs 'Port statistics' "$out" && kill -0 "$tp" 2>/dev/null && [ "$i" -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    sleep "$duration"
    kill -INT "$tp" 2>/dev/null  # timeout passes SIGINT on to testpmd, which stops cleanly
    if ! wait_for "$tp" 15; then
        echo "testpmd round $r did not stop" >&2
        return 1
    fi
    # 0 or 130: testpmd ended through its SIGINT handler; 124: the safety timeout did it.
    if [ "$wait_rc" != 0 ] && [ "$wait_rc" != 130 ] && [ "$wait_rc" != 124 ]; then
        echo "testpmd round $r exited with $wait_rc (log: $out)" >&2
        return 1
    fi
    if ! grep -q "NIC statistics for port 1" "$out"; then
        echo "testpmd round $r: no port 1 (a vdev failed to probe; log: $out)" >&2
        return 1
    fi
    # Port 1's Tx-pps, one sample per second, each a rate over its own TSC-timed interval. The
    # first is always 0 (no previous sample) and the second may include the start.
    rate=$(awk -v skip=2 '
        /NIC statistics for port/ { port = $(NF - 1) }
        /Tx-pps:/ && port == 1 { n++; if (n > skip) { sum += $2; k++ } }
        END { if (k < 2) exit 1; printf "%.3f\n", sum / k / 1e6 }' "$out") || {
        echo "testpmd round $r: no Tx-pps samples for port 1 (log: $out)" >&2
        return 1
    }
}

# ---- one director run: sets $rate (Mpps) ------------------------------------------------------
stat_field() {  # stat_field LINE NAME
    grep -o " $2=[0-9]*" <<<"$1" | head -1 | cut -d= -f2
}
run_director() {  # run_director ROUND
    local r=$1 out="$work/director.$1.log" cfg="$work/director.$1.yaml" d
    # Same lcores as testpmd: control on the first, the worker on the second.
    sed -e "s|@FLOWS@|$flows|" -e "s|@PREFIX@|bench-dir-$$-$r|" \
        -e "s|@CONTROL_LCORE@|${lcores%%[-,]*}|" -e "s|@WORKER_LCORE@|${lcores##*[-,]}|" \
        config/bench/director.yaml.in >"$cfg"
    "$director" -f "$cfg" >"$out" 2>&1 &
    d=$!
    pids+=("$d")
    # Start-up (EAL, mbuf pool, pcap load) takes 1-4 s depending on load: wait for the workers.
    local i=0
    while ! grep -qs 'director: running:' "$out" && kill -0 "$d" 2>/dev/null && [ "$i" -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if ! grep -q 'director: running:' "$out"; then
        echo "director round $r did not start (log: $out)" >&2
        kill -TERM "$d" 2>/dev/null
        wait_for "$d" 10 || kill -KILL "$d" 2>/dev/null
        return 1
    fi
    sleep "$warmup"
    kill -USR1 "$d" 2>/dev/null
    sleep "$window"
    kill -USR1 "$d" 2>/dev/null
    sleep 0.3
    kill -TERM "$d" 2>/dev/null
    if ! wait_for "$d" 15; then
        echo "director round $r did not stop on SIGTERM (log: $out)" >&2
        kill -KILL "$d" 2>/dev/null
        return 1
    fi
    if [ "$wait_rc" != 0 ]; then
        echo "director round $r exited with $wait_rc (log: $out)" >&2
        return 1
    fi
    local a b
    a=$(grep -m1 ' stats t_us=' "$out")
    b=$(grep ' stats t_us=' "$out" | sed -n 2p)
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "director round $r: fewer than two stats lines (log: $out)" >&2
        return 1
    fi
    local t0 t1 x0 x1 rx0 rx1 f0 f1
    t0=$(stat_field "$a" t_us); t1=$(stat_field "$b" t_us)
    x0=$(stat_field "$a" tx_packets); x1=$(stat_field "$b" tx_packets)
    rx0=$(stat_field "$a" rx_packets); rx1=$(stat_field "$b" rx_packets)
    f0=$(stat_field "$a" forwarded); f1=$(stat_field "$b" forwarded)
    # Every frame of the pcap is a packet of the service: anything not forwarded is a failure
    # of the setup (wrong MAC, wrong route), not a rate.
    if [ $((rx1 - rx0)) -le 0 ] || [ $(((f1 - f0) * 1000)) -lt $(((rx1 - rx0) * 999)) ]; then
        echo "director round $r: forwarded $((f1 - f0)) of $((rx1 - rx0)) received (log: $out)" >&2
        return 1
    fi
    # packets per microsecond = Mpps
    rate=$(awk -v dx=$((x1 - x0)) -v dt=$((t1 - t0)) 'BEGIN { if (dt <= 0 || dx <= 0) exit 1;
        printf "%.3f\n", dx / dt }') || {
        echo "director round $r: no packets transmitted (log: $out)" >&2
        return 1
    }
}

median() {
    sort -g | awk '{ v[NR] = $1 }
        END { m = NR / 2
              if (NR % 2) print v[m + 0.5]; else printf "%.3f\n", (v[m] + v[m + 1]) / 2 }'
}

# ---- interleaved rounds ---------------------------------------------------------------------
log "work dir $work; $rounds round(s) of ${duration} s each; lcores $lcores; load $(loadavg)"
tp_rates=()
dir_rates=()
round_ratios=()  # director/testpmd of each round in which both ran
fail=0
printf '%-6s %-9s %10s   %s\n' round program Mpps "load average (start / end)"
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order="testpmd director"; else order="director testpmd"; fi
    tp_rate=""
    dir_rate=""
    for prog in $order; do
        l0=$(loadavg)
        rate=""
        if "run_$prog" "$r"; then
            printf '%-6s %-9s %10s   %s / %s\n' "$r" "$prog" "$rate" "$l0" "$(loadavg)"
            if [ "$prog" = testpmd ]; then
                tp_rates+=("$rate")
                tp_rate=$rate
            else
                dir_rates+=("$rate")
                dir_rate=$rate
            fi
        else
            printf '%-6s %-9s %10s   %s / %s\n' "$r" "$prog" FAILED "$l0" "$(loadavg)"
            fail=1
        fi
    done
    if [ -n "$tp_rate" ] && [ -n "$dir_rate" ]; then
        round_ratios+=("$(awk -v d="$dir_rate" -v t="$tp_rate" 'BEGIN { printf "%.4f", d / t }')")
    fi
done

if [ ${#tp_rates[@]} -gt 0 ] && [ ${#dir_rates[@]} -gt 0 ]; then
    tp_med=$(printf '%s\n' "${tp_rates[@]}" | median)
    dir_med=$(printf '%s\n' "${dir_rates[@]}" | median)
    printf '\nmedian testpmd  %s Mpps (%d runs)\n' "$tp_med" ${#tp_rates[@]}
    printf 'median director %s Mpps (%d runs)\n' "$dir_med" ${#dir_rates[@]}
    awk -v d="$dir_med" -v t="$tp_med" 'BEGIN { printf "ratio director/testpmd %.3f\n", d / t }'
fi
if [ ${#round_ratios[@]} -gt 0 ]; then
    # The two programs of a round run back to back, so their ratio cancels drift that spans
    # rounds (this machine's load changes over minutes); the median of those is the figure
    # least moved by noise, printed beside the ratio of the medians.
    printf 'median of per-round ratios %.3f (%d rounds: %s)\n' \
        "$(printf '%s\n' "${round_ratios[@]}" | median)" ${#round_ratios[@]} "${round_ratios[*]}"
fi
hp_after=$(hp_free)
if [ "$hp_after" != "$hp_before" ]; then
    log "warning: free hugepages $hp_before before, $hp_after after (another process, or a leak)"
fi

# ---- optional: the per-packet microbenchmark --------------------------------------------------
bench_bin="$build/test/perf/datapath_bench"
if [ "$micro" = 1 ]; then
    log "datapath_bench (load $(loadavg))"
    DATAPATH_BENCH_LCORE=${lcores##*[-,]} "$bench_bin" --benchmark_min_time=1 ||
        { echo "datapath_bench failed" >&2; fail=1; }
    log "load after datapath_bench: $(loadavg)"
fi
if [ "$callgrind" = 1 ]; then
    command -v valgrind >/dev/null || die "valgrind not installed"
    for case in BM_Established/1000 BM_Established/1000000 BM_NewSyn/1000000; do
        out="$work/callgrind.$(tr / _ <<<"$case")"
        valgrind --tool=callgrind --collect-atstart=no \
            --toggle-collect='director::dp::Worker::process_burst*' \
            --callgrind-out-file="$out.%p" "$bench_bin" --no-huge \
            --benchmark_filter="^director::${case}/" --benchmark_min_time=0.05 \
            >"$out.log" 2>&1 || {
            echo "callgrind $case failed (log: $out.log)" >&2
            fail=1
            continue
        }
        packets=$(grep -o 'callgrind-dump .* packets=[0-9]*' "$out.log" | tail -1 |
                  sed 's/.*packets=//')
        # The last dump (callgrind.out.PID.N, highest N) is the run Google Benchmark reports.
        last=$(find "$work" -name "$(basename "$out").*.*" |
               awk -F. '{ print $NF, $0 }' | sort -n | tail -1 | cut -d' ' -f2-)
        ir=$(awk '/^totals:/ {print $2}' "$last" 2>/dev/null)
        tx=$(callgrind_annotate --inclusive=yes --threshold=100 "$last" 2>/dev/null |
             awk '/Worker::transmit\(\)/ { gsub(",", "", $1); print $1; exit }')
        if [ -z "$packets" ] || [ -z "$ir" ]; then
            echo "callgrind $case: no dump (log: $out.log)" >&2
            fail=1
            continue
        fi
        awk -v c="$case" -v ir="$ir" -v p="$packets" -v tx="${tx:-0}" 'BEGIN {
            printf "instructions/packet %-24s %6.1f (process_burst incl. tx to net_null),",
                   c, ir / p
            printf " %6.1f without transmit()  [%d packets]\n", (ir - tx) / p, p }'
    done
fi
exit "$fail"
