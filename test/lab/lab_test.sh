#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end tests on the lab (scripts/lab.sh): real clients, real nginx real servers, the
# director in ds1 forwarding by MAC rewrite. Prints TAP lines; the lab is taken down on exit,
# whatever happens.
# usage: lab_test.sh BUILD_DIR
set -uo pipefail

build=${1:?usage: lab_test.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
VIP=10.99.0.252
work=$(mktemp -d /tmp/director-lab-test.XXXXXX)
cap_pid=""
cleanup() {
    [ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null
    BUILD=$build bash "$top/scripts/lab.sh" down >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

if ip netns list | grep -qw lan; then
    echo "not ok lab: a lab is already up on this machine (scripts/lab.sh down first)"
    exit 1
fi
if ! SKIP_INSTALL=1 BUILD=$build bash "$top/scripts/lab.sh" up >"$work/up.log" 2>&1; then
    echo "not ok lab: lab.sh up failed"
    sed 's/^/    # /' "$work/up.log"
    exit 1
fi
echo "ok lab: lab.sh up brought the seed's topology up"

# Capture on the bridge while the first test runs: the packet-level truth of DR.
ip netns exec lan tcpdump -i br0 -n -e -U -w "$work/br0.pcap" tcp port 80 2>/dev/null &
cap_pid=$!
sleep 1

# 1. 200 requests from 20 client addresses: all succeed, both real servers answer, each
#    client address always reaches the same one (persistence 50 s).
fails=0
for round in $(seq 1 10); do
    for i in $(seq 21 40); do
        body=$(ip netns exec client curl -s -m 3 --interface "10.99.0.$i" "http://$VIP/") ||
            body=FAIL
        [ "$body" = FAIL ] && fails=$((fails + 1))
        echo "10.99.0.$i $body" >>"$work/responses"
    done
done
total=$(wc -l <"$work/responses")
if [ "$fails" -eq 0 ]; then
    echo "ok lab: 200 requests through the VIP, all succeeded"
else
    echo "not ok lab: $fails of $total requests failed, from: $(awk '$2 == "FAIL" {print $1}' \
        "$work/responses" | sort | uniq -c | tr '\n' ' ')"
fi
servers=$(awk '$2 != "FAIL" {print $2}' "$work/responses" | sort -u | tr '\n' ' ')
[ "$servers" = "rs1 rs2 " ] && echo "ok lab: responses came from both real servers" ||
    echo "not ok lab: responses came from: $servers"
split=$(awk '{print $1, $2}' "$work/responses" | sort -u | awk '{print $1}' | uniq -d | wc -l)
[ "$split" -eq 0 ] && echo "ok lab: each client address always reached the same real server" ||
    echo "not ok lab: $split client addresses reached more than one real server"

sleep 1
kill "$cap_pid" 2>/dev/null
wait "$cap_pid" 2>/dev/null
cap_pid=""
# Replies (source port 80) must come from the real servers' MACs straight to the client; the
# director's MAC (02:99:00:00:00:78) only ever sends towards real servers.
if command -v tshark >/dev/null; then
    replies=$(tshark -r "$work/br0.pcap" -Y "tcp.srcport == 80" -T fields -e eth.src 2>/dev/null |
              sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
    [ "$replies" = "02:99:00:00:00:8e 02:99:00:00:00:ad " ] &&
        echo "ok lab: replies went from the real servers straight to the client (DR)" ||
        echo "not ok lab: replies came from MACs: $replies"
    via=$(tshark -r "$work/br0.pcap" -Y "eth.src == 02:99:00:00:00:78" -T fields -e eth.dst \
          2>/dev/null | sort -u | tr '\n' ' ')
    [ "$via" = "02:99:00:00:00:8e 02:99:00:00:00:ad " ] &&
        echo "ok lab: the director sent only towards the real servers" ||
        echo "not ok lab: the director sent to: $via"
fi

# 2. wrk through the VIP for 20 s: no socket errors, no non-2xx.
if command -v wrk >/dev/null; then
    ip netns exec client wrk -t1 -c8 -d20s --timeout 2s "http://$VIP/" >"$work/wrk.txt" 2>&1
    reqs=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    if grep -q "Socket errors" "$work/wrk.txt" || grep -q "Non-2xx" "$work/wrk.txt" ||
        [ -z "$reqs" ] || [ "$reqs" -eq 0 ]; then
        echo "not ok lab: wrk through the VIP: errors"
        sed 's/^/    # /' "$work/wrk.txt"
    else
        echo "ok lab: wrk 20 s through the VIP: $reqs requests, no socket errors, no non-2xx ($(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") req/s)"
    fi
fi
exit 0
