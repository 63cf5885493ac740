#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The real-server side of LVS direct routing (the seed's lvs-web.sh, with ip instead of
# ifconfig/route): the VIP on lo as a /32 so the kernel accepts packets for it, and ARP
# suppression so that only the director answers ARP for the VIP.
#
# usage: realserver.sh start|stop VIP [VIP...]     (run inside the real server's namespace)
set -euo pipefail

cmd=${1:-}
shift || true
if [ -z "$cmd" ] || [ $# -eq 0 ]; then
    echo "usage: realserver.sh start|stop VIP [VIP...]" >&2
    exit 2
fi

set_arp() {  # set_arp IGNORE ANNOUNCE
    for dev in lo all; do
        sysctl -q -w "net.ipv4.conf.$dev.arp_ignore=$1" "net.ipv4.conf.$dev.arp_announce=$2"
    done
}

case "$cmd" in
    start)
        ip link set lo up
        for vip in "$@"; do
            # A /32 on lo: accepted locally, never announced (arp_announce=2 picks the
            # outgoing interface's own address as ARP source), never answered (arp_ignore=1
            # answers only for addresses on the receiving interface).
            ip addr replace "$vip/32" dev lo label lo:0
        done
        set_arp 1 2
        echo "RealServer Start OK"
        ;;
    stop)
        for vip in "$@"; do
            ip addr del "$vip/32" dev lo 2>/dev/null || true
        done
        set_arp 0 0
        echo "RealServer Stopped"
        ;;
    *)
        echo "usage: realserver.sh start|stop VIP [VIP...]" >&2
        exit 2
        ;;
esac
