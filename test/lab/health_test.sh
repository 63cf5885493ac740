#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Health checks end to end: the director in ds1 (test/lab/health-ds1.yaml, one virtual server
# per kind of check) checks nginx on rs1/rs2 through its exception TAP, and its verdicts decide
# where the client's requests through the VIP land. Prints TAP lines; the lab is taken down on
# exit, whatever happens.
# usage: health_test.sh BUILD_DIR
set -uo pipefail

build=${1:?usage: health_test.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
VIP=10.99.0.252
state=/run/director-lab
hstate=$state/health
work=$(mktemp -d /tmp/director-health-test.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    BUILD=$build bash "$top/scripts/lab.sh" down >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

if ip netns list | grep -qw lan; then
    echo "not ok health: a lab is already up on this machine (scripts/lab.sh down first)"
    exit 1
fi
# The MISC_CHECK scripts read their exit code from here; it must exist before the director
# starts (lab.sh up creates $state, so write it after, before the first check runs: the first
# probe of a 1 s delay_loop falls within its first second, so create the files right away).
mkdir -p "$hstate" "$state/rs1/html" "$state/rs2/html"
echo 0 >"$hstate/misc-rs1"
echo 0 >"$hstate/misc-rs2"
# HTTP_GET's page exists before the first probe (a non-alpha checker's first failure counts).
echo ok >"$state/rs1/html/health.html"
echo ok >"$state/rs2/html/health.html"
if ! DS2=none DS1_CONFIG="$top/test/lab/health-ds1.yaml" SKIP_INSTALL=1 BUILD=$build \
    bash "$top/scripts/lab.sh" up >"$work/up.log" 2>&1; then
    echo "not ok health: lab.sh up with the health configuration failed"
    sed 's/^/    # /' "$work/up.log"
    exit 1
fi
mkdir -p "$hstate"
echo 0 >"$hstate/misc-rs1"
echo 0 >"$hstate/misc-rs2"
log=$state/ds1.log

# listen NS PORT: a TCP listener the test controls (for TCP_CHECK connect_port); prints its pid
listen() {
    ip netns exec "$1" python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $2)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()
" >/dev/null 2>&1 &
    echo $!
}
# udp_echo NS NAME: answers every datagram on port 5007 with "NAME"
udp_echo() {
    ip netns exec "$1" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5007))
while True:
    d, a = s.recvfrom(2048); s.sendto(b'$2', a)
" >/dev/null 2>&1 &
    echo $!
}
# hits PORT N: N (<= 30) requests from N client addresses to VIP:PORT; prints "rs1 rs2 fail" counts
hits() {
    local port=$1 n=$2 i body r1=0 r2=0 f=0
    for i in $(seq 21 $((20 + n))); do
        body=$(ip netns exec client curl -s -m 2 --interface "10.99.0.$i" "http://$VIP:$port/") ||
            body=FAIL
        case "$body" in rs1) r1=$((r1 + 1)) ;; rs2) r2=$((r2 + 1)) ;; *) f=$((f + 1)) ;; esac
    done
    echo "$r1 $r2 $f"
}
# udp_hits N: N datagrams from N client addresses to VIP:5007; prints "rs1 rs2 fail" counts
udp_hits() {
    ip netns exec client python3 -c "
import socket
c = {'rs1': 0, 'rs2': 0, 'fail': 0}
for i in range(21, 21 + $1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.0)
    s.bind(('10.99.0.%d' % i, 0))
    try:
        s.sendto(b'ping', ('$VIP', 5007)); d, _ = s.recvfrom(64); k = d.decode()
    except OSError:
        k = 'fail'
    c[k if k in c else 'fail'] += 1
    s.close()
print(c['rs1'], c['rs2'], c['fail'])
"
}
# wait_for SECONDS CMD...: polls CMD every 0.2 s; prints the seconds it took, fails on timeout
wait_for() {
    local limit=$1 start now
    shift
    start=$(date +%s.%N)
    while true; do
        if "$@" >/dev/null 2>&1; then
            now=$(date +%s.%N)
            awk -v a="$start" -v b="$now" 'BEGIN {printf "%.1f", b - a}'
            return 0
        fi
        now=$(date +%s.%N)
        awk -v a="$start" -v b="$now" -v l="$limit" 'BEGIN {exit !(b - a > l)}' && return 1
        sleep 0.2
    done
}
check() {  # check NAME CONDITION-TEXT: prints ok/not ok for the last command's status
    local rc=$? name=$1
    shift
    if [ $rc -eq 0 ]; then echo "ok health: $name"; else echo "not ok health: $name ($*)"; fi
}
# Checks logged before an action must not count for it (the first probes of listeners the test
# starts after the director may have failed): every wait looks only at lines after a mark.
mark() { m=$(wc -l <"$log"); }
logged() { tail -n +$((m + 1)) "$log" | grep -qF "$1"; }
m=0

udp1=$(udp_echo rs1 rs1); pids+=("$udp1")
udp2=$(udp_echo rs2 rs2); pids+=("$udp2")
l8082=$(listen rs1 9082); pids+=("$l8082")
# Every check passes once (HTTP_GET needs the page; MISC reads 0; the 8082 listener runs).
echo ok >"$state/rs1/html/health.html"
echo ok >"$state/rs2/html/health.html"

# 0. The director's own traffic goes through its exception TAP: the checks reach the reals.
t=$(wait_for 10 logged "Remote Web server [10.99.0.142]:tcp:8080 succeed on service."); check \
    "HTTP_GET through the exception TAP reached rs1 (${t:-?} s after start)" "no success line in $log"
wait_for 10 logged "Remote Web server [10.99.0.173]:tcp:8080 succeed on service." >/dev/null

# 1. HTTP_GET: rs1's health page answers 404 -> rs1 leaves the pool; back with 200.
read -r a b f < <(hits 8080 20)
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$f" -eq 0 ]; check \
    "HTTP_GET VS: both reals serve while healthy ($a/$b/$f)" "rs1 $a rs2 $b failed $f"
mark
rm "$state/rs1/html/health.html"
# keepalived's bound: connect_timeout + retry x delay_before_retry + delay_loop = 3 s (+ 0.2 s,
# this script's polling).
t=$(wait_for 3.2 logged "Removing service [10.99.0.142]:tcp:8080 from VS [10.99.0.252]:tcp:8080"); check \
    "HTTP_GET status 404 != 200 removed rs1 in ${t:-?} s (bound 3 s: 1 s timeout + 1 x 1 s retry + 1 s loop)" \
    "not removed within the bound"
read -r a b f < <(hits 8080 20)
[ "$a" -eq 0 ] && [ "$b" -eq 20 ]; check "after the removal every request lands on rs2 ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"
mark
echo ok >"$state/rs1/html/health.html"
t=$(wait_for 10 logged "Adding service [10.99.0.142]:tcp:8080 to VS [10.99.0.252]:tcp:8080"); check \
    "HTTP_GET status 200 again: rs1 is back in ${t:-?} s" "no re-add logged"
read -r a b f < <(hits 8080 20)
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$f" -eq 0 ]; check \
    "after recovery both reals serve again ($a/$b/$f)" "rs1 $a rs2 $b failed $f"

# 2. MISC_CHECK: exit 1 is down, exit 0 up, exit 2 + w (misc_dynamic) is up with weight w.
mark
echo 1 >"$hstate/misc-rs1"
t=$(wait_for 10 logged "Removing service [10.99.0.142]:tcp:8081 from VS [10.99.0.252]:tcp:8081"); check \
    "MISC_CHECK exit 1 removed rs1 in ${t:-?} s" "no removal logged"
read -r a b f < <(hits 8081 10)
[ "$a" -eq 0 ] && [ "$b" -eq 10 ]; check "MISC_CHECK down: every request lands on rs2 ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"
mark
echo 5 >"$hstate/misc-rs1"   # up, weight 3
t=$(wait_for 10 logged "Changing weight from 1 to 3 for"); check \
    "MISC_CHECK exit 5 with misc_dynamic set rs1's weight to 3 (${t:-?} s)" "no weight change logged"
sleep 1.5
read -r a b f < <(hits 8081 28)
# wrr 3:1 over 28 new connections: 21/7 (IPVS's sequence; allow the start to be off by two).
[ "$a" -ge 19 ] && [ "$a" -le 23 ] && [ "$f" -eq 0 ]; check \
    "wrr follows the dynamic weight 3:1 ($a/$b/$f of 28)" "rs1 $a rs2 $b failed $f"
echo 0 >"$hstate/misc-rs1"

# 3. inhibit_on_failure: rs1's check fails -> weight 0 (kept, not removed): new requests go
#    to rs2; it comes back with its weight when the check passes.
mark
kill "$l8082"
t=$(wait_for 10 logged "Disabling service [10.99.0.142]:tcp:8082 of VS [10.99.0.252]:tcp:8082"); check \
    "inhibit_on_failure: failed rs1 disabled (weight 0), not removed, in ${t:-?} s" "no disable logged"
! logged "Removing service [10.99.0.142]:tcp:8082"; check "inhibit_on_failure never removed rs1" \
    "a removal was logged"
read -r a b f < <(hits 8082 20)
[ "$a" -eq 0 ] && [ "$b" -eq 20 ]; check "inhibited rs1 gets no new requests ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"
mark
l8082=$(listen rs1 9082); pids+=("$l8082")
t=$(wait_for 10 logged "Enabling service [10.99.0.142]:tcp:8082 of VS [10.99.0.252]:tcp:8082"); check \
    "inhibited rs1 enabled again in ${t:-?} s" "no enable logged"
read -r a b f < <(hits 8082 20)
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$f" -eq 0 ]; check "re-enabled rs1 serves again ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"

# 4. sorry_server: rs1 (alpha, no listener on its check port) is down from the start, so the
#    sorry server rs2 serves VS 8083; once rs1 passes, the sorry server leaves.
read -r a b f < <(hits 8083 10)
[ "$a" -eq 0 ] && [ "$b" -eq 10 ]; check "no real server up: the sorry server takes all traffic ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"
mark
l8083=$(listen rs1 9083); pids+=("$l8083")
t=$(wait_for 10 logged "Removing sorry server [10.99.0.173]:tcp:8083 from VS [10.99.0.252]:tcp:8083"); check \
    "rs1 up: the sorry server left the pool in ${t:-?} s" "no sorry-server removal logged"
read -r a b f < <(hits 8083 10)
[ "$a" -eq 10 ] && [ "$b" -eq 0 ]; check "with quorum back every request lands on rs1 ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"

# 5. UDP_CHECK: rs1's echo service stops (ICMP port unreachable) -> removed; back when it
#    answers again.
read -r a b f < <(udp_hits 20)
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$f" -eq 0 ]; check \
    "UDP VS: both echo services answer through the VIP ($a/$b/$f)" "rs1 $a rs2 $b failed $f"
mark
kill "$udp1"
t=$(wait_for 10 logged "Removing service [10.99.0.142]:udp:5007 from VS [10.99.0.252]:udp:5007"); check \
    "UDP_CHECK: port unreachable removed rs1 in ${t:-?} s" "no removal logged"
read -r a b f < <(udp_hits 20)
[ "$a" -eq 0 ] && [ "$b" -eq 20 ]; check "UDP after the removal: every datagram lands on rs2 ($a/$b/$f)" \
    "rs1 $a rs2 $b failed $f"
mark
udp1=$(udp_echo rs1 rs1); pids+=("$udp1")
t=$(wait_for 10 logged "Adding service [10.99.0.142]:udp:5007 to VS [10.99.0.252]:udp:5007"); check \
    "UDP_CHECK: rs1 back in ${t:-?} s" "no re-add logged"

# The director ran the whole time without a worker drop for lack of a MAC (ARP through the
# TAP and the responder kept both tables warm).
kill -USR1 "$(cat "$state/ds1.pid")"
sleep 0.3
grep -o 'health_probes_started=[0-9]*' "$log" | tail -1 | grep -qv '=0$'; check \
    "the stats line counts health probes" "no probes counted"
exit 0
