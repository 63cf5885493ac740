#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The seed's deployment in network namespaces on one machine (DESIGN.md "Test lab").
#
#   lab.sh up       install what is missing, build, create the topology, start nginx on the
#                   real servers and a director in ds1 (MASTER) and ds2 (BACKUP)
#   lab.sh down     stop everything it started (by PID) and remove what it created
#   lab.sh status   what runs, and a request through the VIP
#
# Topology: namespaces client, ds1, ds2, rs1, rs2, each with one veth (eth0) into a bridge in
# namespace lan; 10.99.0.0/24 with the seed's last octets: DS1 .120, DS2 .123, RS1 .142,
# RS2 .173, VIP .252, client .10 plus .21-.80 for tests that need many client addresses.
# The directors' veths carry no kernel address and their kernel stack sees none of their frames
# (own_by_dpdk): DPDK owns them (net_af_packet); each director's address is on its exception
# TAP.
#
# Environment: SKIP_INSTALL=1 skips install-deps.sh; BUILD=dir picks the build directory;
# DS2=keepalived runs real keepalived (VRRP only, BACKUP, priority 100) in ds2 instead of a
# second director, as a user migrating one director at a time would; DS2=none runs nothing
# there. DS1_CONFIG=file / DS2_CONFIG=file start the directors from another configuration
# than config/lab/ds1.yaml / ds2.yaml (tests with checks of their own). LAB_VRRP_VERSION=3 and
# LAB_VRRP_UNICAST=1 pick VRRP variants (see "VRRP variants" below).
#
# nginx on the real servers answers on ports 80 and 8080-8083 (each page names its server), so
# that tests can give every kind of health check a virtual server of its own.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
state=/run/director-lab
namespaces=(lan client ds1 ds2 rs1 rs2)
VIP=10.99.0.252
declare -A ADDR=([client]=10.99.0.10 [ds1]=10.99.0.120 [ds2]=10.99.0.123 [rs1]=10.99.0.142
                 [rs2]=10.99.0.173)
declare -A MAC=([client]=02:99:00:00:00:0a [ds1]=02:99:00:00:00:78 [ds2]=02:99:00:00:00:7b
                [rs1]=02:99:00:00:00:8e [rs2]=02:99:00:00:00:ad)

say() { echo "lab: $*"; }

is_up() { ip netns list 2>/dev/null | grep -qw lan; }

stop_pid() {  # stop_pid FILE [SIGNAL]: signal, wait up to 5 s, then SIGKILL
    local file=$1 sig=${2:-TERM} pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

start_nginx() {  # start_nginx rs1
    local rs=$1 dir=$state/$1
    mkdir -p "$dir/html" "$dir/logs" "$dir/tmp"
    printf '%s\n' "$rs" >"$dir/html/index.html"
    cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 80 default_server;
        listen 8080;
        listen 8081;
        listen 8082;
        listen 8083;
        root $dir/html;
        add_header X-Real-Server $rs;
    }
}
NGINX
    ip netns exec "$rs" nginx -c "$dir/nginx.conf" -p "$dir" -g "user root;"
}

# ---- VRRP variants: LAB_VRRP_VERSION=3, LAB_VRRP_UNICAST=1 ---------------------------------
# LAB_VRRP_VERSION=3 runs VRRPv3 with advert_int 0.1 s on both sides: the directors start from
# config/lab/<ds>-v3.yaml (unless DS1_CONFIG / DS2_CONFIG say otherwise), keepalived with
# `vrrp_version 3`. LAB_VRRP_UNICAST=1 makes keepalived advertise by unicast to ds1 (the
# director's side is configured by the test that asks for it).
lab_config() {  # lab_config ds1: the default director configuration
    if [ "${LAB_VRRP_VERSION:-2}" = 3 ]; then
        echo "$top/config/lab/$1-v3.yaml"
    else
        echo "$top/config/lab/$1.yaml"
    fi
}

keepalived_vrrp_keys() {  # the variant-dependent lines of ds2's vrrp_instance
    if [ "${LAB_VRRP_VERSION:-2}" = 3 ]; then
        echo "    advert_int 0.1"
    else
        printf '    advert_int 1\n    authentication {\n        auth_type PASS\n        auth_pass 1111\n    }\n'
    fi
    if [ "${LAB_VRRP_UNICAST:-0}" = 1 ]; then
        printf '    unicast_src_ip %s\n    unicast_peer {\n        %s\n    }\n' "${ADDR[ds2]}" "${ADDR[ds1]}"
    fi
}
# ---- end of VRRP variants -------------------------------------------------------------------

start_keepalived() {  # start_keepalived STATE PRIORITY: real keepalived as ds2's VRRP speaker
    local dir=$state/ka
    mkdir -p "$dir"
    cat >"$dir/keepalived.conf" <<KA
global_defs {
    router_id lab_ds2
    vrrp_version ${LAB_VRRP_VERSION:-2}
}
vrrp_instance VI_1 {
    state $1
    interface eth0
    virtual_router_id 62
    priority $2
$(keepalived_vrrp_keys)
    virtual_ipaddress {
        $VIP/24
    }
}
KA
    # keepalived takes its advert source from the interface: ds2's veth gets its address
    # (no DPDK owns it in this mode).
    ip -n ds2 addr replace "${ADDR[ds2]}/24" dev eth0
    ip netns exec ds2 keepalived --vrrp --dont-fork --log-console --log-detail --no-syslog \
        -f "$dir/keepalived.conf" -p "$dir/keepalived.pid" -r "$dir/vrrp.pid" \
        >"$state/ds2.log" 2>&1 </dev/null &
    echo $! >"$state/ds2.pid"
}

# own_by_dpdk ds1: make ds1's veth behave like a NIC bound to DPDK. AF_PACKET reads frames
# before the kernel's stack does, but the stack still gets them: with the director's address on
# the exception TAP, the kernel would answer (weak host model) and so every frame for the
# director would reach its sockets twice, once from the veth and once through the TAP. A
# netfilter ingress hook that drops everything runs after the packet taps (AF_PACKET still
# sees every frame) and before the stack; IPv6 off keeps the kernel from sending on the veth.
own_by_dpdk() {
    ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    ip netns exec "$1" nft -f - <<NFT
table netdev dpdk_owned
delete table netdev dpdk_owned
table netdev dpdk_owned {
    chain eth0 { type filter hook ingress device "eth0" priority 0; policy drop; }
}
NFT
}

start_director() {  # start_director ds1 [CONFIG]
    local ds=$1 cfg=$state/$1.yaml src=${2:-$(lab_config "$1")}
    own_by_dpdk "$ds"
    sed -e "s/^  hugepages: .*/  hugepages: $hugepages/" "$src" >"$cfg"
    ip netns exec "$ds" setsid "$build/app/director/director" -f "$cfg" \
        >"$state/$ds.log" 2>&1 </dev/null &
    echo $! >"$state/$ds.pid"
}

up() {
    if is_up; then
        say "already up"
        status
        return 0
    fi
    if [ "${SKIP_INSTALL:-0}" != 1 ]; then
        bash "$top/scripts/install-deps.sh"
    fi
    if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$top" >/dev/null
    fi
    ninja -C "$build" app/director/director app/directorctl/directorctl >/dev/null
    if [ "$(bash "$top/scripts/hugepages.sh" 512)" = huge ]; then
        hugepages=true
    else
        hugepages=false
    fi
    mkdir -p "$state"
    # Anything that fails from here on leaves a half-built lab: take it down again.
    trap 'say "up failed; cleaning up"; down >/dev/null 2>&1' ERR

    for ns in "${namespaces[@]}"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip -n lan link add br0 type bridge
    ip -n lan link set br0 up
    for ns in client ds1 ds2 rs1 rs2; do
        # Created straight across namespaces: nothing appears in the host's namespace.
        ip link add "$ns-br" netns lan type veth peer name eth0 netns "$ns"
        ip -n lan link set "$ns-br" master br0 up
        ip -n "$ns" link set eth0 address "${MAC[$ns]}"
        ip -n "$ns" link set eth0 up
    done
    for ns in client rs1 rs2; do
        ip -n "$ns" addr add "${ADDR[$ns]}/24" dev eth0
        # A frame read raw off a veth otherwise carries a partial checksum no wire would.
        ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
    done
    for i in $(seq 21 80); do
        ip -n client addr add "10.99.0.$i/24" dev eth0
    done
    for rs in rs1 rs2; do
        ip netns exec "$rs" bash "$top/scripts/realserver.sh" start "$VIP" >/dev/null
        start_nginx "$rs"
    done
    start_director ds1 "${DS1_CONFIG:-}"
    case "${DS2:-director}" in
        keepalived) start_keepalived BACKUP 100 ;;
        none) ;;
        *) start_director ds2 "${DS2_CONFIG:-}" ;;
    esac
    for _ in $(seq 1 50); do
        grep -q "running:" "$state/ds1.log" 2>/dev/null && break
        sleep 0.2
    done
    trap - ERR
    if ! grep -q "running:" "$state/ds1.log"; then
        say "ds1's director did not start:"
        cat "$state/ds1.log"
        down
        return 1
    fi
    say "up (hugepages: $hugepages). Try:"
    echo "    ip netns exec client curl -s http://$VIP/"
    echo "    tail -f $state/ds1.log $state/ds2.log"
    echo "    ip netns exec rs1 nginx -c $state/rs1/nginx.conf -p $state/rs1 -s stop"
    echo "    $top/scripts/lab.sh status | down"
}

down() {
    for ds in ds1 ds2; do
        stop_pid "$state/$ds.pid" TERM
    done
    stop_pid "$state/ka/keepalived.pid" TERM
    for rs in rs1 rs2; do
        stop_pid "$state/$rs/nginx.pid" QUIT
    done
    for ns in "${namespaces[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$state"
    say "down"
}

status() {
    if ! is_up; then
        say "down"
        return 1
    fi
    for f in "$state"/ds1.pid "$state"/ds2.pid "$state"/rs1/nginx.pid "$state"/rs2/nginx.pid; do
        if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
            echo "  running  $(basename "$(dirname "$f")")/$(basename "$f" .pid) pid $(cat "$f")"
        else
            echo "  stopped  $f"
        fi
    done
    echo "  curl http://$VIP/ from client: $(ip netns exec client curl -s -m 2 "http://$VIP/" || echo failed)"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    keepalived)  # keepalived STATE PRIORITY: (re)start ds2's keepalived (DS2=keepalived labs)
        stop_pid "$state/ka/keepalived.pid" TERM
        start_keepalived "${2:?state}" "${3:?priority}"
        ;;
    *) echo "usage: lab.sh up|down|status | keepalived STATE PRIORITY" >&2; exit 2 ;;
esac
