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
. "$top/test/lab/vrrp_lib.sh"
trap vrrp_lab_cleanup EXIT

if ! command -v keepalived >/dev/null; then
    echo "ok keepalived: interop # SKIP keepalived is not installed"
    exit 0
fi
vrrp_lab_up "keepalived" DS2=keepalived || exit 1
ip netns exec lan tcpdump -i br0 -n -U --immediate-mode -w "$work/vrrp.pcap" \
    'ip proto 112' 2>/dev/null &
cap_pid=$!

ka_log() { cat "$state/ds2.log"; }

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
#         The director's first GARP must leave within 5 ms of its first MASTER advert, and a
#         client sending to the VIP every 10 ms must follow it within 100 ms.
ip netns exec lan tcpdump -i br0 -n -U --immediate-mode -w "$work/follow.pcap" \
    "arp or dst host $VIP" 2>/dev/null &
follow_cap=$!
ip netns exec client python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 8
while time.time() < end:
    try:
        s.sendto(b'probe', ('$VIP', 9))
    except OSError:
        pass
    time.sleep(0.01)
" &
prober=$!
sleep 0.5
read -r ka_parent ka_child <<<"$(ka_pids)"
kill -STOP "$ka_parent"; kill -KILL "$ka_child"; kill -KILL "$ka_parent"
ip -n ds2 addr del "$VIP/24" dev eth0 2>/dev/null
wait_log "$state/ds1.log" "Entering MASTER STATE" 6
sleep 0.5
kill "$prober" 2>/dev/null; wait "$prober" 2>/dev/null
kill "$follow_cap" 2>/dev/null; wait "$follow_cap" 2>/dev/null
first_adv=$(adverts | awk -v from="$DS2_MAC" -v to="$DS1_MAC" '
    $2 == from {t0 = $1; t1 = ""} $2 == to && t0 && t1 == "" {t1 = $1} END {print t1}')
if [ -n "$first_adv" ]; then
    # The BACKUP director says nothing about the VIP before its first MASTER advert.
    early=$(tshark -r "$work/follow.pcap" -Y "eth.src == $DS1_MAC && arp.src.proto_ipv4 == $VIP" \
            -T fields -e frame.time_epoch 2>/dev/null | awk -v a="$first_adv" '$1 < a' | wc -l)
    garp=$(tshark -r "$work/follow.pcap" -Y "eth.src == $DS1_MAC && arp.src.proto_ipv4 == $VIP" \
           -T fields -e frame.time_epoch 2>/dev/null |
           awk -v a="$first_adv" '$1 >= a {printf "%.1f", ($1 - a) * 1000; exit}')
    [ "$early" -eq 0 ] || garp="$early ARP frame(s) for the VIP while BACKUP; $garp"
    # The client follows: its first frame to the VIP after that advert that goes to the
    # director, and none after it that goes elsewhere.
    follow=$(tshark -r "$work/follow.pcap" -Y "ip.dst == $VIP && eth.src == 02:99:00:00:00:0a" \
             -T fields -e frame.time_epoch -e eth.dst 2>/dev/null |
             awk -v a="$first_adv" -v d="$DS1_MAC" '$1 >= a && $2 == d && t == "" {t = $1}
                 t != "" && $2 != d {bad = 1}
                 END {if (t != "" && !bad) printf "%.1f", (t - a) * 1000}')
else
    garp=""; follow=""
fi
[ -n "$garp" ] && awk -v g="$garp" 'BEGIN {exit !(g <= 5)}' &&
    echo "ok keepalived: the director's first GARP left ${garp} ms after its first MASTER advert (target <= 5 ms)" ||
    echo "not ok keepalived: first GARP '${garp}' ms after the first MASTER advert (target <= 5 ms)"
[ -n "$follow" ] && awk -v f="$follow" 'BEGIN {exit !(f <= 100)}' &&
    echo "ok keepalived: the client's traffic to the VIP reached the director ${follow} ms after its first advert (target <= 100 ms)" ||
    echo "not ok keepalived: client traffic followed '${follow}' ms after the first MASTER advert (target <= 100 ms)"
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
kill -TERM "$(ka_pids | cut -d" " -f1)" 2>/dev/null  # keepalived stops its VRRP child itself
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
# (tshark 4.0 has no vrrp preferences: an `-o vrrp...` option makes it fail and decode nothing.)
n=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC" 2>/dev/null | wc -l)
bad=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC" -V 2>/dev/null |
      grep -ciE "malformed|incorrect|bad checksum|expert" )
good=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC && vrrp.checksum.status == 1" 2>/dev/null | wc -l)
if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$good" -eq "$n" ]; then
    echo "ok keepalived: $n director adverts decode in tshark with no malformed or checksum warnings"
else
    echo "not ok keepalived: $n director adverts, $good with a good checksum, $bad tshark warnings"
fi
exit 0
