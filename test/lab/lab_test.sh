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
    # rs3 is this test's own namespace (lab.sh does not know it).
    if ip netns list 2>/dev/null | grep -qw rs3; then
        [ -f /run/director-lab/rs3/nginx.pid ] && kill -QUIT "$(cat /run/director-lab/rs3/nginx.pid)" 2>/dev/null
        ip netns del rs3 2>/dev/null
    fi
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
# ds1 becomes MASTER after the master-down interval (3.6 s); the tests start from there.
for _ in $(seq 1 60); do
    grep -q "Entering MASTER STATE" /run/director-lab/ds1.log && break
    sleep 0.1
done

# A second `up` leaves the running lab alone (idempotent), and the VIP answers.
if SKIP_INSTALL=1 BUILD=$build bash "$top/scripts/lab.sh" up >"$work/up2.log" 2>&1 &&
    grep -q "already up" "$work/up2.log" &&
    ip netns exec client curl -s -m 3 "http://$VIP/" | grep -qE '^rs[12]$'; then
    echo "ok lab: a second lab.sh up leaves the running lab as it is; curl to the VIP returns a page"
else
    echo "not ok lab: a second lab.sh up disturbed the lab"
    sed 's/^/    # /' "$work/up2.log"
fi

# Capture on the bridge while the first test runs: the packet-level truth of DR, and who
# answers ARP for the VIP (the client forgets the VIP's MAC first, so that it asks).
ip netns exec lan tcpdump -i br0 -n -e -U -w "$work/br0.pcap" 'tcp port 80 or arp' 2>/dev/null &
cap_pid=$!
sleep 1
ip -n client neigh del "$VIP" dev eth0 2>/dev/null

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
    via=$(tshark -r "$work/br0.pcap" -Y "eth.src == 02:99:00:00:00:78 && tcp" -T fields \
          -e eth.dst 2>/dev/null | sort -u | tr '\n' ' ')
    [ "$via" = "02:99:00:00:00:8e 02:99:00:00:00:ad " ] &&
        echo "ok lab: the director sent only towards the real servers" ||
        echo "not ok lab: the director sent to: $via"
    # ARP for the VIP: only the MASTER (ds1) answers or announces it; ds2 (BACKUP) is silent.
    arp=$(tshark -r "$work/br0.pcap" -Y "arp.src.proto_ipv4 == $VIP" \
          -T fields -e eth.src 2>/dev/null | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
    replies=$(tshark -r "$work/br0.pcap" -Y "arp.opcode == 2 && arp.src.proto_ipv4 == $VIP" \
              2>/dev/null | wc -l)
    [ "$replies" -gt 0 ] || arp="no ARP reply for the VIP in the capture; $arp"
    case "$arp" in
        "02:99:00:00:00:78x"*" ") [ "$(wc -w <<<"$arp")" -eq 1 ] &&
            echo "ok lab: only the MASTER (ds1) answered ARP for the VIP ($arp)" ||
            echo "not ok lab: ARP replies for the VIP came from: $arp" ;;
        *) echo "not ok lab: ARP replies for the VIP came from: '$arp' (expected ds1 only)" ;;
    esac
fi

state=/run/director-lab
# 1a. Prometheus: ds1's /metrics (global.metrics_listen 127.0.0.1:9100 in its namespace) is
#     valid exposition text and tells what happened: MASTER, packets forwarded, both reals up.
sleep 1.2   # rendered once a second
if ip netns exec ds1 curl -s -m 2 http://127.0.0.1:9100/metrics >"$work/metrics.txt"; then
    if command -v promtool >/dev/null; then
        promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1 &&
            echo "ok lab: /metrics passes promtool check metrics ($(grep -vc '^#' "$work/metrics.txt") samples)" ||
            { echo "not ok lab: promtool check metrics failed"; sed 's/^/    # /' "$work/promtool.txt" | head; }
    fi
    fwd=$(awk '/^director_worker_forwarded_total/ {s += $2} END {print s + 0}' "$work/metrics.txt")
    grep -q '^director_vrrp_state{instance="VI_1",state="MASTER"} 1$' "$work/metrics.txt" &&
        [ "$fwd" -ge 1000 ] &&
        [ "$(grep -c '^director_real_server_up{.*} 1$' "$work/metrics.txt")" -eq 2 ] &&
        echo "ok lab: /metrics shows ds1 MASTER, $fwd packets forwarded, both real servers up" ||
        { echo "not ok lab: /metrics content unexpected (forwarded $fwd)"; grep -E 'vrrp_state|real_server_up|forwarded' "$work/metrics.txt" | sed 's/^/    # /'; }
else
    echo "not ok lab: no answer from ds1's /metrics on 127.0.0.1:9100"
fi

# 1b. Stop nginx on rs1: the seed's TCP_CHECK (connect_timeout 10 s, retry 3, delay_before_retry
#     3 s, delay_loop 3 s) removes it within 10 + 3 x 3 + 3 = 22 s; from then on every request
#     lands on rs2 and none fails, the clients persisted on rs1 included. Started again, rs1
#     takes new clients again.
removed_since() {  # removed_since LINE: rs1's removal logged after line LINE of ds1.log
    tail -n +$(($1 + 1)) "$state/ds1.log" | grep -qF "Removing service [10.99.0.142]:tcp:80 from VS"
}
added_since() {
    tail -n +$(($1 + 1)) "$state/ds1.log" | grep -qF "Adding service [10.99.0.142]:tcp:80 to VS"
}
mark=$(wc -l <"$state/ds1.log")
t0=$(date +%s.%N)
ip netns exec rs1 nginx -c "$state/rs1/nginx.conf" -p "$state/rs1" -s stop 2>/dev/null
removed=""
while awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {exit !(b - a < 23)}'; do
    if removed_since "$mark"; then
        removed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
        break
    fi
    sleep 0.2
done
if [ -n "$removed" ] && awk -v r="$removed" 'BEGIN {exit !(r <= 22.2)}'; then
    echo "ok lab: nginx stopped on rs1: removed after ${removed} s (bound 22 s)"
else
    echo "not ok lab: rs1 was not removed within 22 s of stopping nginx (${removed:-never})"
fi
: >"$work/after_stop"
for i in $(seq 21 40); do
    body=$(ip netns exec client curl -s -m 3 --interface "10.99.0.$i" "http://$VIP/") || body=FAIL
    echo "10.99.0.$i $body" >>"$work/after_stop"
done
others=$(awk '$2 != "rs2"' "$work/after_stop" | wc -l)
[ "$others" -eq 0 ] && echo "ok lab: after the removal all 20 clients (those persisted on rs1 too) reached rs2" ||
    echo "not ok lab: after the removal $others of 20 requests did not reach rs2: $(awk '$2 != "rs2"' "$work/after_stop" | tr '\n' ' ')"
mark=$(wc -l <"$state/ds1.log")
ip netns exec rs1 nginx -c "$state/rs1/nginx.conf" -p "$state/rs1" -g "user root;"
back=""
for _ in $(seq 1 40); do  # delay_loop 3 s: the next probe succeeds within it
    added_since "$mark" && back=yes && break
    sleep 0.2
done
[ -n "$back" ] && echo "ok lab: nginx started again: rs1 is back in the pool within one delay_loop" ||
    echo "not ok lab: rs1 did not come back within 8 s of starting nginx"
: >"$work/new_clients"
for i in $(seq 41 50); do
    body=$(ip netns exec client curl -s -m 3 --interface "10.99.0.$i" "http://$VIP/") || body=FAIL
    echo "10.99.0.$i $body" >>"$work/new_clients"
done
n1=$(awk '$2 == "rs1"' "$work/new_clients" | wc -l)
nf=$(awk '$2 == "FAIL"' "$work/new_clients" | wc -l)
[ "$n1" -gt 0 ] && [ "$nf" -eq 0 ] && echo "ok lab: rs1 takes new clients again ($n1 of 10)" ||
    echo "not ok lab: new clients after rs1's return: $(cut -d' ' -f2 "$work/new_clients" | sort | uniq -c | tr '\n' ' ')"

# 1c. Reload the MASTER adding a third real server (rs3, a namespace this test adds) while a
#     200 MB download runs through the VIP at a limited rate: the download completes intact
#     and new clients reach rs3.
ip netns add rs3
ip -n rs3 link set lo up
ip link add rs3-br netns lan type veth peer name eth0 netns rs3
ip -n lan link set rs3-br master br0 up
ip -n rs3 link set eth0 address 02:99:00:00:00:b4
ip -n rs3 link set eth0 up
ip -n rs3 addr add 10.99.0.180/24 dev eth0
ip netns exec rs3 ethtool -K eth0 tx off >/dev/null
ip netns exec rs3 bash "$top/scripts/realserver.sh" start "$VIP" >/dev/null
mkdir -p "$state/rs3/html" "$state/rs3/logs" "$state/rs3/tmp"
echo rs3 >"$state/rs3/html/index.html"
sed -e "s#$state/rs1#$state/rs3#g" -e 's/X-Real-Server rs1/X-Real-Server rs3/' \
    "$state/rs1/nginx.conf" >"$state/rs3/nginx.conf"
ip netns exec rs3 nginx -c "$state/rs3/nginx.conf" -p "$state/rs3" -g "user root;"
head -c 200M /dev/urandom >"$state/big.bin"
want=$(sha256sum <"$state/big.bin" | cut -d' ' -f1)
for rs in rs1 rs2 rs3; do ln -sf "$state/big.bin" "$state/$rs/html/big.bin"; done
ip netns exec client curl -s -m 120 --limit-rate 25M --interface 10.99.0.51 \
    -o "$work/big.bin" "http://$VIP/big.bin" &
dl_pid=$!
sleep 2
cp "$state/ds1.yaml" "$work/ds1.before.yaml"
python3 - "$state/ds1.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
rs = """      - address: 10.99.0.180
        port: 80
        weight: 1
        check: { type: TCP_CHECK, connect_timeout: 10s, retry: 3, delay_before_retry: 3s, connect_port: 80 }
"""
open(path, "w").write(text.rstrip("\n") + "\n" + rs)
PY
mark=$(wc -l <"$state/ds1.log")
kill -HUP "$(cat "$state/ds1.pid")"
for _ in $(seq 1 25); do
    tail -n +$((mark + 1)) "$state/ds1.log" | grep -q "reload applied" && break
    sleep 0.2
done
tail -n +$((mark + 1)) "$state/ds1.log" | grep -q "reload applied" &&
    echo "ok lab: SIGHUP reload adding rs3 applied while the download runs" ||
    echo "not ok lab: reload adding rs3 was not applied: $(tail -n +$((mark + 1)) "$state/ds1.log" | tr '\n' ' ')"
still=$(kill -0 "$dl_pid" 2>/dev/null && echo running || echo finished)
: >"$work/rs3_clients"
sleep 1   # rs3's MAC: the neighbour table resolves it on the new snapshot
for i in $(seq 52 71); do
    body=$(ip netns exec client curl -s -m 3 --interface "10.99.0.$i" "http://$VIP/") || body=FAIL
    echo "10.99.0.$i $body" >>"$work/rs3_clients"
done
wait "$dl_pid"
dl_rc=$?
got=$(sha256sum <"$work/big.bin" 2>/dev/null | cut -d' ' -f1)
if [ "$dl_rc" -eq 0 ] && [ "$got" = "$want" ] && [ "$still" = running ]; then
    echo "ok lab: the 200 MB download across the reload completed intact (sha256 matches)"
else
    echo "not ok lab: download across the reload: curl exit $dl_rc, still running at reload: $still, sha256 $([ "$got" = "$want" ] && echo matches || echo differs)"
fi
n3=$(awk '$2 == "rs3"' "$work/rs3_clients" | wc -l)
nf=$(awk '$2 == "FAIL"' "$work/rs3_clients" | wc -l)
[ "$n3" -gt 0 ] && [ "$nf" -eq 0 ] && echo "ok lab: after the reload new clients reach rs3 ($n3 of 20, none failed)" ||
    echo "not ok lab: new clients after the reload: $(cut -d' ' -f2 "$work/rs3_clients" | sort | uniq -c | tr '\n' ' ')"
# Back to the lab's configuration before rs3 goes: until its check noticed, rs3 would still
# be scheduled.
cp "$work/ds1.before.yaml" "$state/ds1.yaml"
mark=$(wc -l <"$state/ds1.log")
kill -HUP "$(cat "$state/ds1.pid")"
for _ in $(seq 1 25); do
    tail -n +$((mark + 1)) "$state/ds1.log" | grep -q "reload applied" && break
    sleep 0.2
done
ip netns exec rs3 nginx -c "$state/rs3/nginx.conf" -p "$state/rs3" -s stop 2>/dev/null
ip netns del rs3 2>/dev/null
rm -f "$state/big.bin"

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
# lab.sh down removes everything it created: namespaces, processes, its state directory.
pids=$(cat /run/director-lab/*.pid /run/director-lab/*/nginx.pid 2>/dev/null | tr '\n' ' ')
BUILD=$build bash "$top/scripts/lab.sh" down >/dev/null 2>&1
left=""
for ns in lan client ds1 ds2 rs1 rs2; do
    ip netns list | grep -qw "$ns" && left="$left netns:$ns"
done
for pid in $pids; do
    kill -0 "$pid" 2>/dev/null && left="$left pid:$pid"
done
[ -e /run/director-lab ] && left="$left /run/director-lab"
[ -z "$left" ] && echo "ok lab: lab.sh down removed every namespace, process ($(wc -w <<<"$pids")) and file it made" ||
    echo "not ok lab: lab.sh down left:$left"
exit 0
