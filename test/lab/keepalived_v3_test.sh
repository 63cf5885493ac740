#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# VRRPv3 interoperability with real keepalived 2.2.7 at advert_int 0.1 s (issue 4: "VRRPv3 with
# advert_int 0.1 against keepalived v3"), multicast and then unicast (unicast_peer on both
# sides). The director runs in ds1 (config/lab/ds1-v3.yaml), keepalived in ds2
# (scripts/lab.sh LAB_VRRP_VERSION=3). Every time comes from a capture on the bridge, measured
# as keepalived-netns.md §4 does: from the last advert of the old MASTER (its priority-0 advert
# after a clean stop) to the first advert of the new one. Targets, priority 100 taking over at
# 0.1 s: Skew_Time 60.9 ms, Master_Down_Interval 360.9 ms, each + 20 ms.
# Prints TAP lines; the lab is taken down on exit.
# usage: keepalived_v3_test.sh BUILD_DIR
set -uo pipefail

build=${1:?usage: keepalived_v3_test.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
VIP=10.99.0.252
DS1=10.99.0.120
DS2=10.99.0.123
DS1_MAC=02:99:00:00:00:78
DS2_MAC=02:99:00:00:00:7b
SKEW_LIMIT=0.081  # (256 - 100) * 0.1 s / 256 = 60.9 ms, + 20 ms
DOWN_LIMIT=0.381  # 3 * 0.1 s + 60.9 ms = 360.9 ms, + 20 ms
SKEW_TEXT="60.9 ms"
DOWN_TEXT="360.9 ms"
state=/run/director-lab
work=$(mktemp -d /tmp/director-ka3-test.XXXXXX)
export LAB_VRRP_VERSION=3
. "$top/test/lab/vrrp_lib.sh"
trap vrrp_lab_cleanup EXIT

if ! command -v keepalived >/dev/null; then
    echo "ok keepalived v3: interop # SKIP keepalived is not installed"
    exit 0
fi
vrrp_lab_up "keepalived v3" DS2=keepalived || exit 1
ip netns exec lan tcpdump -i br0 -n -U --immediate-mode -w "$work/vrrp.pcap" \
    'ip proto 112' 2>/dev/null &
cap_pid=$!

last_state() {  # last_state LOG: MASTER / BACKUP / FAULT from the last "Entering ..." line
    grep -o "Entering [A-Z]* STATE" "$1" | tail -1 | awk '{print $2}'
}
stop_ds1() {  # stop_ds1 SIGNAL
    local pid
    pid=$(cat "$state/ds1.pid")
    kill "-$1" "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
}
crash_keepalived() {  # a real crash: no priority 0 (keepalived-netns.md §5 pitfall 2); the
    local parent child  # VIP removed as a dead host's would be
    read -r parent child <<<"$(ka_pids)"
    kill -STOP "$parent"; kill -KILL "$child"; kill -KILL "$parent"
    ip -n ds2 addr del "$VIP/24" dev eth0 2>/dev/null
}
ka_complaints() {  # what keepalived logs when it drops our adverts
    grep -ciE "invalid|wrong VRRP version|mismatch|too short|too long|checksum" "$state/ds2.log"
}
# check_adverts FILTER WHAT: the director's adverts matching FILTER decode in tshark as VRRPv3
# with a good checksum and no warnings. tshark 4.0 checks a v3-over-IPv4 checksum with the IPv4
# pseudo-header (keepalived's default; it has no preference to change that).
check_adverts() {
    local n bad good
    n=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC && $1" 2>/dev/null | wc -l)
    bad=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC && $1" -V 2>/dev/null |
          grep -ciE "malformed|incorrect|bad checksum|expert")
    good=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC && $1 && vrrp.version == 3 && vrrp.checksum.status == 1" \
           2>/dev/null | wc -l)
    if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$good" -eq "$n" ]; then
        echo "ok keepalived v3: $n director $2 adverts decode in tshark as VRRPv3, checksum good, no warnings"
    else
        echo "not ok keepalived v3: $n director $2 adverts, $good with a good v3 checksum, $bad tshark warnings"
    fi
}

# ---- 1. director MASTER (200) vs keepalived BACKUP (100), v3 at 0.1 s -----------------------
# At 0.1 s keepalived's 361 ms wait is shorter than the director's start, so keepalived may be
# MASTER first; the director (200, preempt) then takes over 322 ms after it starts listening.
wait_log "$state/ds1.log" "Entering MASTER STATE" 8
sleep 1
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
sleep 3
if [ "$(last_state "$state/ds1.log")" = MASTER ] && [ "$(last_state "$state/ds2.log")" = BACKUP ] &&
    [ "$(count "$state/ds2.log" "Entering MASTER STATE")" = "$ka_masters" ]; then
    echo "ok keepalived v3: director MASTER (200), keepalived stays BACKUP (100) at advert_int 0.1 s"
else
    echo "not ok keepalived v3: director $(last_state "$state/ds1.log"), keepalived $(last_state "$state/ds2.log") (expected MASTER, BACKUP)"
fi
c=$(ka_complaints)
[ "$c" -eq 0 ] && echo "ok keepalived v3: keepalived logs no complaint about the director's adverts" ||
    echo "not ok keepalived v3: keepalived complained $c time(s): $(grep -iE "invalid|wrong|mismatch|checksum" "$state/ds2.log" | head -3 | tr '\n' '|')"
[ "$(arp_mac)" = "$DS1_MAC" ] && echo "ok keepalived v3: the client's ARP for the VIP resolves to the director" ||
    echo "not ok keepalived v3: the VIP resolves to '$(arp_mac)'"
gap=$(adverts | awk -v m="$DS1_MAC" '$2 == m && $3 > 0 {if (p) {s += $1 - p; n++} p = $1}
                                     END {if (n) printf "%.4f", s / n; else print "none"}')
awk -v g="$gap" 'BEGIN {exit !(g != "none" && g >= 0.095 && g <= 0.110)}' &&
    echo "ok keepalived v3: the director advertises every $(ms "$gap") (advert_int 100 ms)" ||
    echo "not ok keepalived v3: the director's mean advert interval is $(ms "$gap")"

# ---- 2. director stops cleanly: priority 0, keepalived MASTER after its skew time ------------
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
stop_ds1 TERM
wait_log "$state/ds2.log" "Entering MASTER STATE" 3 "$ka_masters"
sleep 0.5
t=$(takeover "$DS1_MAC" "$DS2_MAC" 1)
within "$t" "$SKEW_LIMIT" && echo "ok keepalived v3: director stopped cleanly: keepalived MASTER $(ms "$t") after the priority-0 advert (skew 60.9 ms + 20)" ||
    echo "not ok keepalived v3: keepalived took over $(ms "$t") after the director's priority-0 advert (target <= 81 ms)"

# ---- 3. director restarted (200, preempt): it takes MASTER back -------------------------------
ka_backups=$(count "$state/ds2.log" "Entering BACKUP STATE")
start_ds1 200 MASTER
wait_log "$state/ds1.log" "Entering MASTER STATE" 8
wait_log "$state/ds2.log" "Entering BACKUP STATE" 3 "$ka_backups"
sleep 0.5
if [ "$(last_state "$state/ds1.log")" = MASTER ] && [ "$(last_state "$state/ds2.log")" = BACKUP ]; then
    echo "ok keepalived v3: the restarted director preempted; keepalived returned to BACKUP"
else
    echo "not ok keepalived v3: after the restart: director $(last_state "$state/ds1.log"), keepalived $(last_state "$state/ds2.log")"
fi
[ "$(arp_mac)" = "$DS1_MAC" ] && echo "ok keepalived v3: the client's ARP cache followed the director's GARP" ||
    echo "not ok keepalived v3: the VIP resolves to '$(arp_mac)' after the preemption"

# ---- 4. director killed (SIGKILL): keepalived MASTER within the master-down interval ---------
sleep 1
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
stop_ds1 KILL
wait_log "$state/ds2.log" "Entering MASTER STATE" 3 "$ka_masters"
sleep 0.5
t=$(takeover "$DS1_MAC" "$DS2_MAC")
within "$t" "$DOWN_LIMIT" && echo "ok keepalived v3: director killed: keepalived MASTER $(ms "$t") after its last advert (master-down 360.9 ms + 20)" ||
    echo "not ok keepalived v3: keepalived took over $(ms "$t") after the director's last advert (target <= 381 ms)"

# ---- 5. roles reversed: keepalived MASTER (200), director BACKUP (100) -----------------------
restart_keepalived MASTER 200
wait_log "$state/ds2.log" "Entering MASTER STATE" 8
start_ds1 100 BACKUP
wait_log "$state/ds1.log" "running:" 10
sleep 3
if ! grep -q "Entering MASTER STATE" "$state/ds1.log" && [ "$(last_state "$state/ds1.log")" = BACKUP ] &&
    [ "$(last_state "$state/ds2.log")" = MASTER ]; then
    echo "ok keepalived v3: keepalived MASTER (200), the director stays BACKUP (100)"
else
    echo "not ok keepalived v3: director $(last_state "$state/ds1.log"), keepalived $(last_state "$state/ds2.log") (expected BACKUP, MASTER)"
fi
rej=$(kill -USR1 "$(cat "$state/ds1.pid")"; sleep 0.3
      grep "stats t_us=" "$state/ds1.log" | tail -1 | tr ' ' '\n' |
      awk -F= '$1 ~ /^vrrp_reject_/ {s += $2} $1 == "vrrp_adverts_received" {r = $2}
               END {printf "%d %d", r, s}')
read -r received rejected <<<"$rej"
[ "${received:-0}" -gt 10 ] && [ "${rejected:-1}" -eq 0 ] &&
    echo "ok keepalived v3: the director accepted keepalived's v3 adverts ($received received, none rejected)" ||
    echo "not ok keepalived v3: the director received '${received}' and rejected '${rejected}' of keepalived's adverts"

# ---- 6. keepalived crashes: the director is MASTER within master-down + 20 ms ------------------
crash_keepalived
wait_log "$state/ds1.log" "Entering MASTER STATE" 3
sleep 0.5
t=$(takeover "$DS2_MAC" "$DS1_MAC")
within "$t" "$DOWN_LIMIT" && echo "ok keepalived v3: keepalived crashed: director MASTER $(ms "$t") after its last advert (master-down 360.9 ms + 20)" ||
    echo "not ok keepalived v3: director took over $(ms "$t") after keepalived's last advert (target <= 381 ms)"
[ "$(arp_mac)" = "$DS1_MAC" ] && echo "ok keepalived v3: the client's ARP cache followed the director" ||
    echo "not ok keepalived v3: the VIP resolves to '$(arp_mac)' after the director took over"

# ---- 7. keepalived back (preempts), then stops cleanly: director MASTER after skew + 20 ms ----
backups=$(count "$state/ds1.log" "Entering BACKUP STATE")
restart_keepalived MASTER 200
wait_log "$state/ds2.log" "Entering MASTER STATE" 8
wait_log "$state/ds1.log" "Entering BACKUP STATE" 8 "$backups"
sleep 1
masters=$(count "$state/ds1.log" "Entering MASTER STATE")
stop_mark=$(date +%s.%N)
kill -TERM "$(ka_pids | cut -d" " -f1)" 2>/dev/null  # keepalived stops its VRRP child itself
wait_log "$state/ds1.log" "Entering MASTER STATE" 3 "$masters"
sleep 0.5
ka_clean_stop_takeover "keepalived v3"

# ---- 8. unicast: director unicast_peers [ds2] vs keepalived unicast_peer { ds1 } ---------------
stop_ds1 TERM
export LAB_VRRP_UNICAST=1
restart_keepalived BACKUP 100
wait_log "$state/ds2.log" "Entering BACKUP STATE" 5
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
start_ds1 200 MASTER 1
wait_log "$state/ds1.log" "Entering MASTER STATE" 8
sleep 1
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
sleep 2
if [ "$(last_state "$state/ds1.log")" = MASTER ] && [ "$(last_state "$state/ds2.log")" = BACKUP ] &&
    [ "$(count "$state/ds2.log" "Entering MASTER STATE")" = "$ka_masters" ]; then
    echo "ok keepalived v3: unicast: director MASTER (200), keepalived stays BACKUP (100)"
else
    echo "not ok keepalived v3: unicast: director $(last_state "$state/ds1.log"), keepalived $(last_state "$state/ds2.log") (expected MASTER, BACKUP)"
fi
ucast=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC && ip.dst == $DS2" 2>/dev/null | wc -l)
mcast=$(tshark -r "$work/vrrp.pcap" -Y "vrrp && eth.src == $DS1_MAC && ip.dst == 224.0.0.18 && frame.time_epoch > $(date +%s) - 2" 2>/dev/null | wc -l)
[ "$ucast" -gt 10 ] && [ "$mcast" -eq 0 ] &&
    echo "ok keepalived v3: unicast: the director's adverts go to $DS2 only ($ucast captured)" ||
    echo "not ok keepalived v3: unicast: $ucast adverts to $DS2, $mcast multicast in the last 2 s"
ka_masters=$(count "$state/ds2.log" "Entering MASTER STATE")
stop_ds1 KILL
wait_log "$state/ds2.log" "Entering MASTER STATE" 3 "$ka_masters"
sleep 0.5
t=$(takeover "$DS1_MAC" "$DS2_MAC")
within "$t" "$DOWN_LIMIT" && echo "ok keepalived v3: unicast: director killed: keepalived MASTER $(ms "$t") after its last advert (master-down 360.9 ms + 20)" ||
    echo "not ok keepalived v3: unicast: keepalived took over $(ms "$t") after the director's last advert (target <= 381 ms)"
start_ds1 100 BACKUP 1
wait_log "$state/ds1.log" "running:" 10
sleep 2
if ! grep -q "Entering MASTER STATE" "$state/ds1.log" && [ "$(last_state "$state/ds1.log")" = BACKUP ]; then
    echo "ok keepalived v3: unicast: keepalived MASTER, the director (100) stays BACKUP on its unicast adverts"
else
    echo "not ok keepalived v3: unicast: the director did not stay BACKUP under keepalived's unicast adverts"
fi
masters=$(count "$state/ds1.log" "Entering MASTER STATE")
stop_mark=$(date +%s.%N)
kill -TERM "$(ka_pids | cut -d" " -f1)" 2>/dev/null  # keepalived stops its VRRP child itself
wait_log "$state/ds1.log" "Entering MASTER STATE" 3 "$masters"
sleep 0.5
ka_clean_stop_takeover "keepalived v3: unicast"

# ---- 9. the director's adverts decode in tshark without warnings ---------------------------------
sleep 0.3
kill "$cap_pid" 2>/dev/null
wait "$cap_pid" 2>/dev/null
cap_pid=""
check_adverts "ip.dst == 224.0.0.18" multicast
check_adverts "ip.dst == $DS2" unicast
exit 0
