# SPDX-License-Identifier: BSD-3-Clause
# Shared by the VRRP lab tests (keepalived_test.sh, keepalived_v3_test.sh,
# vrrp_runtime_test.sh): bringing the lab up and down, reading VRRP adverts from the bridge
# capture, timing takeovers, and starting / stopping the two speakers. Sourced, not run;
# expects $work (the capture is $work/vrrp.pcap), $state, $build, $top, $VIP and, for
# unicast, $DS1 / $DS2 to be set.

cap_pid=""
# The EXIT trap of every VRRP lab test: the capture (by PID), the lab, the work directory.
vrrp_lab_cleanup() {
    [ -n "$cap_pid" ] && kill "$cap_pid" 2>/dev/null
    BUILD=$build bash "$top/scripts/lab.sh" down >/dev/null 2>&1
    rm -rf "$work"
}
# vrrp_lab_up NAME [VAR=VALUE...]: scripts/lab.sh up with those variables, unless a lab is
# already up; on failure prints the TAP line for NAME (and lab.sh's log) and returns 1.
vrrp_lab_up() {
    local name=$1
    shift
    if ip netns list | grep -qw lan; then
        echo "not ok $name: a lab is already up on this machine (scripts/lab.sh down first)"
        return 1
    fi
    if ! env "$@" SKIP_INSTALL=1 BUILD="$build" bash "$top/scripts/lab.sh" up \
        >"$work/up.log" 2>&1; then
        echo "not ok $name: lab.sh up${*:+ ($*)} failed"
        sed 's/^/    # /' "$work/up.log"
        return 1
    fi
}

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
        END {if (t0 && t1) printf "%.4f", t1 - t0; else print "none"}'
}
# ka_clean_stop_takeover LABEL: after keepalived (MASTER) was sent SIGTERM at epoch $stop_mark,
# the director's takeover. keepalived normally sends priority 0 and the director must follow
# within skew + 20 ms ($SKEW_LIMIT). Now and then keepalived's VRRP child dies without sending
# it (SIGTERM reaches parent and child together); then there is no priority 0 to react to and
# the director must take over within master-down + 20 ms ($DOWN_LIMIT) of keepalived's last
# advert, and the line says that this is what happened.
ka_clean_stop_takeover() {
    local label=$1 sent t
    sent=$(adverts | awk -v m="$DS2_MAC" -v s="$stop_mark" '$2 == m && $3 == 0 && $1 >= s' | wc -l)
    if [ "$sent" -gt 0 ]; then
        t=$(takeover "$DS2_MAC" "$DS1_MAC" 1)
        within "$t" "$SKEW_LIMIT" && echo "ok $label: keepalived stopped cleanly: director MASTER $(ms "$t") after the priority-0 advert (skew $SKEW_TEXT + 20)" ||
            echo "not ok $label: director took over $(ms "$t") after keepalived's priority-0 advert (target <= skew $SKEW_TEXT + 20 ms)"
    else
        t=$(takeover "$DS2_MAC" "$DS1_MAC")
        within "$t" "$DOWN_LIMIT" && echo "ok $label: keepalived stopped without sending priority 0; director MASTER $(ms "$t") after its last advert (master-down $DOWN_TEXT + 20)" ||
            echo "not ok $label: keepalived sent no priority 0 and the director took over $(ms "$t") after its last advert (target <= master-down $DOWN_TEXT + 20 ms)"
    fi
}
within() { awk -v v="$1" -v lim="$2" 'BEGIN {exit !(v != "none" && v + 0 <= lim)}'; }
ms() { awk -v v="$1" 'BEGIN {if (v == "none") print "none"; else printf "%.1f ms", v * 1000}'; }
arp_mac() {  # the client's neighbour entry for the VIP, after one request through it
    ip netns exec client curl -s -m 2 -o /dev/null "http://$VIP/"
    ip -n client neigh show "$VIP" | awk '{print $5}'
}
wait_log() {  # wait_log FILE PATTERN SECONDS [SEEN]: until PATTERN occurs more than SEEN times
    for _ in $(seq 1 $(($3 * 20))); do
        [ "$(grep -c "$2" "$1" 2>/dev/null)" -gt "${4:-0}" ] && return 0
        sleep 0.05
    done
    return 1
}
count() { grep -c "$2" "$1" 2>/dev/null; }
restart_keepalived() {  # restart_keepalived STATE PRIORITY
    DS2=keepalived BUILD=$build bash "$top/scripts/lab.sh" keepalived "$1" "$2"
}
ka_pids() { echo "$(cat "$state/ka/keepalived.pid" 2>/dev/null) $(cat "$state/ka/vrrp.pid" 2>/dev/null)"; }
start_ds1() {  # start_ds1 PRIORITY STATE [UNICAST]: the director in ds1 from the lab's file
    sed -e "s/^    priority: .*/    priority: $1/" -e "s/^    state: .*/    state: $2/" \
        "$state/ds1.yaml" >"$state/ds1-run.yaml"
    if [ "${3:-0}" = 1 ]; then
        sed -i -e "/^    virtual_ipaddress: /a\\    unicast_src_ip: $DS1\\n    unicast_peers: [$DS2]" \
            "$state/ds1-run.yaml"
    fi
    ip netns exec ds1 setsid "$build/app/director/director" -f "$state/ds1-run.yaml" \
        >"$state/ds1.log" 2>&1 </dev/null &
    echo $! >"$state/ds1.pid"
    disown  # no "Killed" job notice when a test kills it
}
