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
# RS2 .173, VIP .252, client .10 plus .21-.50 for tests that need many client addresses.
# The directors' veths carry no kernel address: DPDK owns them (net_af_packet).
#
# Environment: SKIP_INSTALL=1 skips install-deps.sh; BUILD=dir picks the build directory;
# DS2=keepalived runs real keepalived (VRRP only, BACKUP, priority 100) in ds2 instead of a
# second director, as a user migrating one director at a time would.
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
        root $dir/html;
        add_header X-Real-Server $rs;
    }
}
NGINX
    ip netns exec "$rs" nginx -c "$dir/nginx.conf" -p "$dir" -g "user root;"
}

start_keepalived() {  # start_keepalived STATE PRIORITY: real keepalived as ds2's VRRP speaker
    local dir=$state/ka
    mkdir -p "$dir"
    cat >"$dir/keepalived.conf" <<KA
global_defs {
    router_id lab_ds2
}
vrrp_instance VI_1 {
    state $1
    interface eth0
    virtual_router_id 62
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
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

start_director() {  # start_director ds1
    local ds=$1 cfg=$state/$1.yaml
    sed -e "s/^  hugepages: .*/  hugepages: $hugepages/" "$top/config/lab/$ds.yaml" >"$cfg"
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
    for i in $(seq 21 50); do
        ip -n client addr add "10.99.0.$i/24" dev eth0
    done
    for rs in rs1 rs2; do
        ip netns exec "$rs" bash "$top/scripts/realserver.sh" start "$VIP" >/dev/null
        start_nginx "$rs"
    done
    start_director ds1
    if [ "${DS2:-director}" = keepalived ]; then
        start_keepalived BACKUP 100
    else
        start_director ds2
    fi
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
