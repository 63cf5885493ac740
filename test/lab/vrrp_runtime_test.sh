#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# VRRP while the director runs (the lab's two directors): a reload that changes the MASTER's
# instance (priority, one more VIP) applies in place — it stays MASTER, sends no priority-0
# advert and announces the new VIP — and a tracked port whose link goes down puts the MASTER
# in FAULT so the BACKUP takes over; when the link returns, the director preempts back.
# Prints TAP lines; the lab is taken down on exit, whatever happens.
# usage: vrrp_runtime_test.sh BUILD_DIR
set -uo pipefail

build=${1:?usage: vrrp_runtime_test.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
VIP=10.99.0.252
VIP2=10.99.0.253
DS1_MAC=02:99:00:00:00:78
DS2_MAC=02:99:00:00:00:7b
state=/run/director-lab
work=$(mktemp -d /tmp/director-vrrp-test.XXXXXX)
. "$top/test/lab/vrrp_lib.sh"
trap vrrp_lab_cleanup EXIT

vrrp_lab_up "vrrp-runtime" || exit 1
wait_log() {  # wait_log SECONDS FILE MARK TEXT: TEXT appears in FILE after line MARK
    local end=$((SECONDS + $1))
    while [ $SECONDS -le $end ]; do
        tail -n +$(($3 + 1)) "$2" | grep -qF "$4" && return 0
        sleep 0.1
    done
    return 1
}
lines() { wc -l <"$1"; }
arp_of() { ip -n client neigh show "$1" | awk '{print $5}'; }

wait_log 10 "$state/ds1.log" 0 "(VI_1) Entering MASTER STATE" &&
    echo "ok vrrp-runtime: ds1 is MASTER" || echo "not ok vrrp-runtime: ds1 never became MASTER"

# 1. Reload ds1: priority 200 -> 210 and a second VIP. In place: no state change, no
#    priority-0 advert, GARPs for the added VIP, which the client then resolves to ds1.
ip netns exec lan tcpdump -i br0 -n -U -w "$work/reload.pcap" 'ip proto 112 or arp' 2>/dev/null &
cap_pid=$!
sleep 1
sed -e 's/^    priority: 200$/    priority: 210/' \
    -e "s#^    virtual_ipaddress: \[$VIP\]#    virtual_ipaddress: [$VIP, $VIP2]#" \
    "$state/ds1.yaml" >"$work/ds1.yaml"
grep -q "priority: 210" "$work/ds1.yaml" && grep -q "$VIP2" "$work/ds1.yaml" ||
    echo "not ok vrrp-runtime: could not edit the lab configuration"
cp "$work/ds1.yaml" "$state/ds1.yaml"
mark=$(lines "$state/ds1.log")
kill -HUP "$(cat "$state/ds1.pid")"
wait_log 5 "$state/ds1.log" "$mark" "reload applied" &&
    echo "ok vrrp-runtime: reload changing priority and VIPs applied" ||
    echo "not ok vrrp-runtime: reload not applied: $(tail -n +$((mark + 1)) "$state/ds1.log" | tr '\n' ' ')"
sleep 2
kill "$cap_pid"; wait "$cap_pid" 2>/dev/null; cap_pid=""
! tail -n +$((mark + 1)) "$state/ds1.log" | grep -q "Entering" &&
    echo "ok vrrp-runtime: ds1 stayed MASTER across the reload (no state change)" ||
    echo "not ok vrrp-runtime: the reload changed ds1's state: $(tail -n +$((mark + 1)) "$state/ds1.log" | grep Entering | tr '\n' ' ')"
prio=$(tshark -r "$work/reload.pcap" -Y "vrrp && eth.src == $DS1_MAC" -T fields -e vrrp.prio 2>/dev/null |
       sort -u | tr '\n' ' ')
[ "$prio" = "200 210 " ] &&
    echo "ok vrrp-runtime: ds1's adverts went from priority 200 to 210, never 0" ||
    echo "not ok vrrp-runtime: ds1 advertised priorities: $prio"
garp=$(tshark -r "$work/reload.pcap" -Y "arp.src.proto_ipv4 == $VIP2 && arp.dst.proto_ipv4 == $VIP2" \
       -T fields -e eth.src 2>/dev/null | sort -u | tr '\n' ' ')
[ "$garp" = "$DS1_MAC " ] && echo "ok vrrp-runtime: ds1 sent gratuitous ARP for the added VIP" ||
    echo "not ok vrrp-runtime: GARPs for $VIP2 came from: '$garp'"
ip netns exec client ping -c 1 -W 1 "$VIP2" >/dev/null 2>&1
[ "$(arp_of "$VIP2")" = "$DS1_MAC" ] && echo "ok vrrp-runtime: the client resolves the added VIP to ds1" ||
    echo "not ok vrrp-runtime: the added VIP resolves to '$(arp_of "$VIP2")'"

# 2. ds1's port goes down (its interface is tracked): FAULT, ds2 takes over within the
#    master-down interval; the port comes back: BACKUP, then ds1 preempts (priority 210).
mark1=$(lines "$state/ds1.log")
mark2=$(lines "$state/ds2.log")
ip -n ds1 link set eth0 down
wait_log 2 "$state/ds1.log" "$mark1" "Entering FAULT STATE" &&
    echo "ok vrrp-runtime: ds1's link down put VI_1 in FAULT" ||
    echo "not ok vrrp-runtime: no FAULT after ds1's link went down: $(tail -n +$((mark1 + 1)) "$state/ds1.log" | tr '\n' ' ')"
wait_log 6 "$state/ds2.log" "$mark2" "(VI_1) Entering MASTER STATE" &&
    echo "ok vrrp-runtime: ds2 took over while ds1 is in FAULT" ||
    echo "not ok vrrp-runtime: ds2 did not become MASTER"
ip netns exec client curl -s -m 2 -o /dev/null "http://$VIP/"
[ "$(arp_of "$VIP")" = "$DS2_MAC" ] && echo "ok vrrp-runtime: the client's ARP follows ds2" ||
    echo "not ok vrrp-runtime: the VIP resolves to '$(arp_of "$VIP")' with ds1 in FAULT"
mark1=$(lines "$state/ds1.log")
ip -n ds1 link set eth0 up
wait_log 6 "$state/ds1.log" "$mark1" "(VI_1) Entering MASTER STATE" &&
    echo "ok vrrp-runtime: link back: ds1 left FAULT and preempted to MASTER" ||
    echo "not ok vrrp-runtime: after the link came back: $(tail -n +$((mark1 + 1)) "$state/ds1.log" | tr '\n' ' ')"
sleep 1
ip netns exec client curl -s -m 2 -o /dev/null "http://$VIP/" &&
    [ "$(arp_of "$VIP")" = "$DS1_MAC" ] && echo "ok vrrp-runtime: traffic to the VIP follows ds1 back" ||
    echo "not ok vrrp-runtime: after ds1's return the VIP resolves to '$(arp_of "$VIP")'"
exit 0
