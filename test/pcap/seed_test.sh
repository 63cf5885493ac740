#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pcap-driven datapath tests (Katran's way, on the real binary): an input pcap is replayed
# through the director on a net_pcap vdev, and the output pcap is checked frame by frame.
# usage: seed_test.sh BUILD_DIR        prints TAP lines: ok NAME / not ok NAME
set -uo pipefail

build=${1:?usage: seed_test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
director="$build/app/director/director"
py=/usr/bin/python3  # Debian's python3 has scapy; another python3 on PATH may not
work=$(mktemp -d /tmp/director-pcap.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

RS1_MAC=02:00:00:00:00:ad  # 172.17.13.173
RS2_MAC=02:00:00:00:00:8e  # 172.17.13.142

# run_director NAME ALGO PERSIST W1 W2 INPUT: replays INPUT, leaves $work/NAME.out.pcap and .log
run_director() {
    local name=$1 algo=$2 persist=$3 w1=$4 w2=$5 input=$6
    local cfg="$work/$name.yaml" out="$work/$name.out.pcap" log="$work/$name.log"
    sed -e "s#@IN@#$input#" -e "s#@OUT@#$out#" -e "s#@CTL@#$work/$name.ctl.pcap#" \
        -e "s#@PREFIX@#dir-pcap-$$-$name#" -e "s#@ALGO@#$algo#" -e "s#@PERSIST@#$persist#" \
        -e "s#@W1@#$w1#" -e "s#@W2@#$w2#" "$here/seed.yaml.in" >"$cfg"
    "$director" -f "$cfg" >"$log" 2>&1 &
    pid=$!
    # The replay is finite: wait until the output stops growing (or the director dies).
    local last=-1 size stable=0
    for _ in $(seq 1 100); do
        sleep 0.2
        kill -0 "$pid" 2>/dev/null || break
        size=$(stat -c %s "$out" 2>/dev/null || echo 0)
        if [ "$size" = "$last" ] && [ "$size" != 0 ]; then
            stable=$((stable + 1))
            [ $stable -ge 5 ] && break
        else
            stable=0
        fi
        last=$size
    done
    kill -TERM "$pid" 2>/dev/null
    local rc=0
    wait "$pid" || rc=$?
    pid=""
    if [ "$rc" -ne 0 ]; then
        echo "not ok $name: director exited $rc"
        sed 's/^/    # /' "$log"
        return 1
    fi
    echo "ok $name: director replayed the pcap and stopped cleanly on SIGTERM"
    return 0
}

counter() {  # counter LOG NAME -> value from the shutdown summary (0 if absent)
    awk -v n="$2" '$0 ~ "director:   "n" " {print $NF; f=1} END {if (!f) print 0}' "$1"
}

expect_counter() {  # expect_counter TESTNAME LOG COUNTER VALUE
    local got
    got=$(counter "$2" "$3")
    if [ "$got" = "$4" ]; then
        echo "ok $1: $3 = $4"
    else
        echo "not ok $1: $3 = $got, expected $4"
    fi
}

# 1. The seed's service: rr, persistence 50 s, two real servers, 20 clients x 3 connections,
#    with noise frames that must all be dropped and counted.
$py "$here/pcaptool.py" gen-seed "$work/seed.pcap" --clients 20 --conns 3 --noise 2>/dev/null
if run_director seed rr 50s 1 1 "$work/seed.pcap"; then
    $py "$here/pcaptool.py" check-seed "$work/seed.pcap" "$work/seed.out.pcap" \
        --reals "$RS1_MAC,$RS2_MAC" --persistent --alternate
    expect_counter seed "$work/seed.log" drop_malformed 3
    expect_counter seed "$work/seed.log" ignored_other_mac 1
    expect_counter seed "$work/seed.log" drop_not_service 3
    expect_counter seed "$work/seed.log" conn_new 60
fi

# 2. rr without persistence: connections (not clients) alternate.
$py "$here/pcaptool.py" gen-seed "$work/rr.pcap" --clients 10 --conns 4 2>/dev/null
if run_director rr rr 0 1 1 "$work/rr.pcap"; then
    $py "$here/pcaptool.py" check-seed "$work/rr.pcap" "$work/rr.out.pcap" --name rr \
        --reals "$RS1_MAC,$RS2_MAC"
fi

# 3. wrr 3:1 shares over 200 connections.
$py "$here/pcaptool.py" gen-seed "$work/wrr.pcap" --clients 50 --conns 4 2>/dev/null
if run_director wrr wrr 0 3 1 "$work/wrr.pcap"; then
    $py "$here/pcaptool.py" check-seed "$work/wrr.pcap" "$work/wrr.out.pcap" --name wrr \
        --reals "$RS1_MAC,$RS2_MAC" --weights 3,1
fi

# 4. weight 0 drains: no new connection reaches the drained real server.
if run_director drain rr 0 1 0 "$work/rr.pcap"; then
    $py "$here/pcaptool.py" check-seed "$work/rr.pcap" "$work/drain.out.pcap" --name drain \
        --reals "$RS1_MAC,$RS2_MAC" --weights 1,0
fi
exit 0
