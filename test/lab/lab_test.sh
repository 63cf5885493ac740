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
# 3. VRRP between the two directors: DS1 (priority 200) is MASTER, so the client's ARP for
#    the VIP resolves to DS1's MAC; kill DS1 with SIGKILL and DS2 takes over within the
#    master-down interval (3 x 1 s + skew 0.61 s for priority 100); the outage is measured
#    by a client probing every 50 ms.
state=/run/director-lab
arp_mac() { ip -n client neigh show "$VIP" | awk '{print $5}'; }
ip netns exec client curl -s -m 2 -o /dev/null "http://$VIP/"
[ "$(arp_mac)" = 02:99:00:00:00:78 ] && echo "ok lab: the client's ARP for the VIP resolves to the MASTER (ds1)" ||
    echo "not ok lab: the VIP resolves to '$(arp_mac)', expected ds1's 02:99:00:00:00:78"
grep -q "(VI_1) Entering MASTER STATE" "$state/ds1.log" && ! grep -q "Entering MASTER" "$state/ds2.log" &&
    echo "ok lab: ds1 is MASTER, ds2 stayed BACKUP" ||
    echo "not ok lab: unexpected VRRP states (ds1/ds2 logs)"

probe() {  # probe SECONDS: one request every 50 ms, "epoch ok|fail" per line
    ip netns exec client bash -c "end=\$((\$(date +%s) + $1)); while [ \$(date +%s) -lt \$end ]; do
        if curl -s -m 0.3 -o /dev/null http://$VIP/; then echo \"\$(date +%s.%N) ok\";
        else echo \"\$(date +%s.%N) fail\"; fi; sleep 0.05; done"
}
outage() {  # outage FILE: seconds from the last ok before the first fail to the next ok
    awk '$2 == "fail" && !f {f = 1; start = prev} $2 == "ok" {if (f && !end) end = $1; prev = $1}
         END {if (f && end) printf "%.2f", end - start; else if (!f) print "0"; else print "never"}' "$1"
}
probe 12 >"$work/kill.txt" &
probe_pid=$!
sleep 2
kill -KILL "$(cat "$state/ds1.pid")"
wait "$probe_pid"
out=$(outage "$work/kill.txt")
if [ "$out" != never ] && awk -v o="$out" 'BEGIN {exit !(o > 0 && o < 5.0)}'; then
    echo "ok lab: ds1 killed (SIGKILL): ds2 took over, client outage ${out} s (master-down 3.61 s)"
else
    echo "not ok lab: after killing ds1 the outage was '$out' s"
fi
grep -q "(VI_1) Entering MASTER STATE" "$state/ds2.log" && echo "ok lab: ds2 entered MASTER" ||
    echo "not ok lab: ds2 never entered MASTER"
[ "$(arp_mac)" = 02:99:00:00:00:7b ] && echo "ok lab: the client's ARP cache followed ds2's GARP" ||
    echo "not ok lab: the VIP resolves to '$(arp_mac)' after the failover"

# 4. ds1 comes back with preempt: it takes MASTER back, ds2 returns to BACKUP, and the
#    client's ARP cache follows ds1's GARP.
ip netns exec ds1 setsid "$build/app/director/director" -f "$state/ds1.yaml" \
    >"$state/ds1.log" 2>&1 </dev/null &
echo $! >"$state/ds1.pid"
for _ in $(seq 1 100); do
    grep -q "Entering MASTER STATE" "$state/ds1.log" && break
    sleep 0.1
done
sleep 1
grep -q "Entering MASTER STATE" "$state/ds1.log" && grep -q "Entering BACKUP STATE$" "$state/ds2.log" &&
    echo "ok lab: restarted ds1 preempted (MASTER), ds2 went back to BACKUP" ||
    echo "not ok lab: after restarting ds1 the VRRP states are wrong"
ip netns exec client curl -s -m 2 -o /dev/null "http://$VIP/"
[ "$(arp_mac)" = 02:99:00:00:00:78 ] && echo "ok lab: the client's ARP cache followed ds1 back" ||
    echo "not ok lab: the VIP resolves to '$(arp_mac)' after ds1's return"

# 5. A clean stop (SIGTERM) of the MASTER sends priority 0: the BACKUP takes over after its
#    skew time, not the whole master-down interval.
probe 6 >"$work/stop.txt" &
probe_pid=$!
sleep 1
kill -TERM "$(cat "$state/ds1.pid")"
wait "$probe_pid"
out=$(outage "$work/stop.txt")
if [ "$out" != never ] && awk -v o="$out" 'BEGIN {exit !(o < 1.5)}'; then
    echo "ok lab: ds1 stopped cleanly: ds2 took over, client outage ${out} s (skew 0.61 s)"
else
    echo "not ok lab: after a clean stop of ds1 the outage was '$out' s"
fi
exit 0
