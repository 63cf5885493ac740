#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Interoperability with real keepalived (VRRP only) on the lab's segment: the director in ds1,
# keepalived 2.2.7 in ds2, as a user migrating one director at a time would run them. Timings
# come from a capture on the bridge (keepalived-netns.md §4 measures keepalived the same way).
# Prints TAP lines; the lab is taken down on exit.
# usage: keepalived_test.sh BUILD_DIR
set -uo pipefail

build=${1:?usage: keepalived_test.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
VIP=10.99.0.252
DS1_MAC=02:99:00:00:00:78
DS2_MAC=02:99:00:00:00:7b
state=/run/director-lab
work=$(mktemp -d /tmp/director-ka-test.XXXXXX)
cap_pid=""
cleanup() {
    [ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null
    BUILD=$build bash "$top/scripts/lab.sh" down >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v keepalived >/dev/null; then
    echo "ok keepalived: interop # SKIP keepalived is not installed"
    exit 0
fi
if ip netns list | grep -qw lan; then
    echo "not ok keepalived: a lab is already up on this machine (scripts/lab.sh down first)"
    exit 1
fi
if ! DS2=keepalived SKIP_INSTALL=1 BUILD=$build bash "$top/scripts/lab.sh" up >"$work/up.log" 2>&1; then
    echo "not ok keepalived: lab.sh up (DS2=keepalived) failed"
    sed 's/^/    # /' "$work/up.log"
    exit 1
fi
ip netns exec lan tcpdump -i br0 -n -U --immediate-mode -w "$work/vrrp.pcap" \
    'ip proto 112' 2>/dev/null &
cap_pid=$!

adverts() {  # adverts: "epoch src-mac priority" per VRRP advert captured so far
    tshark -r "$work/vrrp.pcap" -Y vrrp -T fields -e frame.time_epoch -e eth.src -e vrrp.prio \
        2>/dev/null
}
# takeover FROM_MAC TO_MAC [PRIO0]: seconds from FROM's last advert (its priority-0 advert with
# PRIO0=1) to TO's first advert after it.
takeover() {
    adverts | awk -v from="$1" -v to="$2" -v prio0="${3:-0}" '
        $2 == from && (!prio0 || $3 == 0) {t0 = $1; t1 = ""; after = 0}
        $2 == to && t0 && !after {t1 = $1; after = 1}
        END {if (t0 && t1) printf "%.3f", t1 - t0; else print "none"}'
}
within() { awk -v v="$1" -v lim="$2" 'BEGIN {exit !(v != "none" && v + 0 <= lim)}'; }
arp_mac() {
    ip netns exec client curl -s -m 2 -o /dev/null "http://$VIP/"
    ip -n client neigh show "$VIP" | awk '{print $5}'
}
ka_log() { cat "$state/ds2.log"; }
wait_log() {  # wait_log FILE PATTERN SECONDS [SEEN]: until PATTERN occurs more than SEEN times
    for _ in $(seq 1 $(($3 * 10))); do
        [ "$(grep -c "$2" "$1" 2>/dev/null)" -gt "${4:-0}" ] && return 0
        sleep 0.1
    done
    return 1
}
count() { grep -c "$2" "$1" 2>/dev/null; }
restart_keepalived() {  # restart_keepalived STATE PRIORITY
    DS2=keepalived BUILD=$build bash "$top/scripts/lab.sh" keepalived "$1" "$2"
}
start_ds1() {  # start_ds1 PRIORITY STATE
    sed -e "s/^    priority: .*/    priority: $1/" -e "s/^    state: .*/    state: $2/" \
        "$state/ds1.yaml" >"$state/ds1-run.yaml"
    ip netns exec ds1 setsid "$build/app/director/director" -f "$state/ds1-run.yaml" \
        >"$state/ds1.log" 2>&1 </dev/null &
    echo $! >"$state/ds1.pid"
}
ka_pids() { echo "$(cat "$state/ka/keepalived.pid" 2>/dev/null) $(cat "$state/ka/vrrp.pid" 2>/dev/null)"; }

# ---- 1. director MASTER (200) vs keepalived BACKUP (100) -----------------------------------
sleep 6
if ! ka_log | grep -q "Entering MASTER STATE" && wait_log "$state/ds1.log" "Entering MASTER STATE" 1; then
    echo "ok keepalived: director MASTER (200), keepalived stays BACKUP (100)"
else
    echo "not ok keepalived: states wrong with the director at 200 and keepalived at 100"
fi
[ "$(arp_mac)" = "$DS1_MAC" ] && echo "ok keepalived: the client's ARP for the VIP resolves to the director" ||
    echo "not ok keepalived: the VIP resolves to '$(arp_mac)'"

# ---- 1b. adverts with a wrong password, an unknown VRID, TTL 254 or a bad checksum are
#          ignored and counted; the director stays MASTER -----------------------------------
stat() {  # stat NAME: the director's counter from a fresh SIGUSR1 stats line
    kill -USR1 "$(cat "$state/ds1.pid")"
    sleep 0.3
    grep "stats t_us=" "$state/ds1.log" | tail -1 | tr ' ' '\n' | awk -F= -v n="$1" '$1 == n {print $2}'
}
masters=$(count "$state/ds1.log" "Entering MASTER STATE")
backups=$(count "$state/ds1.log" "Entering BACKUP STATE")
ip netns exec client /usr/bin/python3 "$(dirname "$0")/bad_adverts.py" eth0 "$VIP" 2>/dev/null
sleep 0.5
for r in bad_password unknown_vrid bad_ttl bad_checksum; do
    v=$(stat "vrrp_reject_$r")
    [ "${v:-0}" -ge 1 ] && echo "ok keepalived: an advert with $r was ignored and counted ($v)" ||
        echo "not ok keepalived: vrrp_reject_$r = '${v}', expected >= 1"
done
[ "$(count "$state/ds1.log" "Entering MASTER STATE")" = "$masters" ] &&
    [ "$(count "$state/ds1.log" "Entering BACKUP STATE")" = "$backups" ] &&
    echo "ok keepalived: the bad adverts did not move the director out of MASTER" ||
    echo "not ok keepalived: the bad adverts changed the director's state"

# ---- 2. director stops cleanly: priority 0, keepalived MASTER after its skew time ----------
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
kill -TERM "$(cat "$state/ds1.pid")"
wait_log "$state/ds2.log" "Entering MASTER STATE" 3 "$ka_masters"
sleep 0.5
t=$(takeover "$DS1_MAC" "$DS2_MAC" 1)
within "$t" 1.0 && echo "ok keepalived: director stopped cleanly: keepalived MASTER ${t} s after the priority-0 advert (skew 0.609 s)" ||
    echo "not ok keepalived: keepalived took over '$t' s after the director's priority-0 advert"

# ---- 3. director restarted with preempt: it takes MASTER back, keepalived BACKUP, ARP follows
ka_before=$(ka_log | grep -c "Entering BACKUP STATE")
start_ds1 200 MASTER
wait_log "$state/ds1.log" "Entering MASTER STATE" 8
sleep 1
ka_after=$(ka_log | grep -c "Entering BACKUP STATE")
if grep -q "Entering MASTER STATE" "$state/ds1.log" && [ "$ka_after" -gt "$ka_before" ]; then
    echo "ok keepalived: the restarted director preempted; keepalived returned to BACKUP"
else
    echo "not ok keepalived: after the director's restart: director MASTER? keepalived BACKUP?"
fi
[ "$(arp_mac)" = "$DS1_MAC" ] && echo "ok keepalived: the client's ARP cache followed the director's GARP" ||
    echo "not ok keepalived: the VIP resolves to '$(arp_mac)' after the preemption"

# ---- 4. director killed (SIGKILL): keepalived MASTER within the master-down interval -------
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
kill -KILL "$(cat "$state/ds1.pid")"
wait "$(cat "$state/ds1.pid")" 2>/dev/null
wait_log "$state/ds2.log" "Entering MASTER STATE" 6 "$ka_masters"
sleep 0.5
t=$(takeover "$DS1_MAC" "$DS2_MAC")
within "$t" 3.70 && echo "ok keepalived: director killed: keepalived MASTER ${t} s after its last advert (master-down 3.609 s)" ||
    echo "not ok keepalived: keepalived took over '$t' s after the director's last advert"

# ---- 5. roles reversed: keepalived MASTER (200), director BACKUP (100) ---------------------
restart_keepalived MASTER 200
wait_log "$state/ds2.log" "Entering MASTER STATE" 8
start_ds1 100 BACKUP
sleep 5
if ! grep -q "Entering MASTER STATE" "$state/ds1.log" && grep -q "Entering BACKUP STATE" "$state/ds1.log"; then
    echo "ok keepalived: keepalived MASTER (200), the director stays BACKUP (100)"
else
    echo "not ok keepalived: the director did not stay BACKUP under keepalived at 200"
fi
[ "$(arp_mac)" = "$DS2_MAC" ] && echo "ok keepalived: the client's ARP for the VIP resolves to keepalived's host" ||
    echo "not ok keepalived: the VIP resolves to '$(arp_mac)' with keepalived MASTER"

# ---- 6. keepalived crashes (a real crash: no priority 0; its VIP removed as a dead host's):
#         the director is MASTER within master-down + 20 ms --------------------------------
read -r ka_parent ka_child <<<"$(ka_pids)"
kill -STOP "$ka_parent"; kill -KILL "$ka_child"; kill -KILL "$ka_parent"
ip -n ds2 addr del "$VIP/24" dev eth0 2>/dev/null
wait_log "$state/ds1.log" "Entering MASTER STATE" 6
sleep 0.5
t=$(takeover "$DS2_MAC" "$DS1_MAC")
within "$t" 3.630 && echo "ok keepalived: keepalived crashed: director MASTER ${t} s after its last advert (target <= 3.609 + 0.020 s)" ||
    echo "not ok keepalived: director took over '$t' s after keepalived's last advert (target <= 3.629 s)"
[ "$(arp_mac)" = "$DS1_MAC" ] && echo "ok keepalived: the client's ARP cache followed the director" ||
    echo "not ok keepalived: the VIP resolves to '$(arp_mac)' after the director took over"

# ---- 7. keepalived back (preempts), then stops cleanly: director MASTER after skew + 20 ms --
restart_keepalived MASTER 200
wait_log "$state/ds2.log" "Entering MASTER STATE" 8
wait_log "$state/ds1.log" "Entering BACKUP STATE" 8 "$(count "$state/ds1.log" "Entering BACKUP STATE")"
sleep 1
masters=$(grep -c "Entering MASTER STATE" "$state/ds1.log")
kill -TERM $(ka_pids) 2>/dev/null
for _ in $(seq 1 30); do
    [ "$(grep -c "Entering MASTER STATE" "$state/ds1.log")" -gt "$masters" ] && break
    sleep 0.1
done
sleep 0.5
t=$(takeover "$DS2_MAC" "$DS1_MAC" 1)
within "$t" 0.630 && echo "ok keepalived: keepalived stopped cleanly: director MASTER ${t} s after the priority-0 advert (target <= 0.609 + 0.020 s)" ||
    echo "not ok keepalived: director took over '$t' s after keepalived's priority-0 advert (target <= 0.629 s)"

# ---- 8. the director's adverts decode in tshark without warnings ---------------------------
kill "$cap_pid" 2>/dev/null
wait "$cap_pid" 2>/dev/null
cap_pid=""
n=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC" 2>/dev/null | wc -l)
bad=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC" -V -o vrrp.v3_checksum_as_v2:FALSE 2>/dev/null |
      grep -ciE "malformed|incorrect|bad checksum|expert" )
if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]; then
    echo "ok keepalived: $n director adverts decode in tshark with no malformed or checksum warnings"
else
    echo "not ok keepalived: $n director adverts, $bad tshark warnings"
fi
exit 0
