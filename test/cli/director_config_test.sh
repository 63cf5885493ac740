#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `director -f FILE -t` (app/director/main.cc): the shipped configurations are valid (exit 0);
# invalid files exit 1 with one `FILE:LINE:COL: message` line per error on stderr, at the line
# the error is about. Each invalid file below marks that line with a `# <-` comment, and
# differs from the valid base (checked first) by that one mistake.
#
# Usage: director_config_test.sh BUILD_DIR     prints TAP lines `ok NAME` / `not ok NAME - why`
set -uo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 1
top=$(cd "$(dirname "$0")/../.." && pwd)
director=$build/app/director/director
tmp=$(mktemp -d /tmp/director-cli-config.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

failures=0
ok() { echo "ok $1"; }
not_ok() {
    echo "not ok $1 - $2"
    failures=$((failures + 1))
}

if [ ! -x "$director" ]; then
    not_ok "director binary" "$director is missing (build it first)"
    exit 1
fi

# run FILE: runs `director -f FILE -t`; sets rc, out, err.
run() {
    "$director" -f "$1" -t >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# positioned FILE_PREFIX: prints the stderr lines `PREFIX<line>:<col>: ...` (numbers).
positioned() {
    local prefix=$1 l rest
    while IFS= read -r l; do
        if [[ $l == "$prefix"* ]]; then
            rest=${l#"$prefix"}
            [[ $rest =~ ^[0-9]+:[0-9]+:\  ]] && printf '%s\n' "$l"
        fi
    done <<<"$err"
}

# ---- the shipped configurations ------------------------------------------------------------
for f in config/ds1.yaml config/ds2.yaml config/example.yaml config/lab/ds1.yaml \
    config/lab/ds2.yaml; do
    name="valid: $f"
    if [ ! -f "$top/$f" ]; then
        not_ok "$name" "$f does not exist"
        continue
    fi
    run "$top/$f"
    if [ "$rc" -ne 0 ]; then
        not_ok "$name" "exit $rc: $(head -3 <<<"$err" | tr '\n' ' ')"
    elif [[ $out != *"configuration valid"* ]]; then
        not_ok "$name" "exit 0 but stdout does not say 'configuration valid': $out"
    else
        ok "$name"
    fi
done

# ---- invalid files ---------------------------------------------------------------------------
# invalid NAME MESSAGE_PART < YAML: the file must be rejected (exit 1) with exactly one error
# line, `FILE:LINE:COL: ...MESSAGE_PART...`, where LINE is the line marked `# <-`.
invalid() {
    local name=$1 want=$2 f="$tmp/$1.yaml" line lines
    cat >"$f"
    line=$(grep -n '# <-' "$f" | head -1 | cut -d: -f1)
    if [ -z "$line" ]; then
        not_ok "invalid: $name" "test bug: no '# <-' marker"
        return
    fi
    run "$f"
    lines=$(positioned "$f:")
    if [ "$rc" -ne 1 ]; then
        not_ok "invalid: $name" "exit $rc, expected 1; stderr: $(tr '\n' ' ' <<<"$err")"
    elif [[ $out == *"configuration valid"* ]]; then
        not_ok "invalid: $name" "stdout says valid: $out"
    elif [ -z "$lines" ]; then
        not_ok "invalid: $name" "no FILE:LINE:COL: line on stderr: $(tr '\n' ' ' <<<"$err")"
    elif [ "$(wc -l <<<"$lines")" -ne 1 ]; then
        not_ok "invalid: $name" "expected one error, got: $(tr '\n' ' ' <<<"$lines")"
    elif [[ $lines != "$f:$line:"* ]]; then
        not_ok "invalid: $name" "expected line $line, got: $lines"
    elif [[ $lines != *"$want"* ]]; then
        not_ok "invalid: $name" "message lacks '$want': $lines"
    else
        ok "invalid: $name"
    fi
}

# The base every invalid file below is a one-mistake copy of; it must itself be valid, or the
# invalid cases would prove nothing.
base() {
    cat <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF
}
base >"$tmp/base.yaml"
run "$tmp/base.yaml"
if [ "$rc" -eq 0 ]; then
    ok "valid: base of the invalid cases"
else
    not_ok "valid: base of the invalid cases" "exit $rc: $(tr '\n' ' ' <<<"$err")"
fi

invalid vrid-out-of-range "virtual_router_id" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 256                 # <-
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid unknown-key "unknown key 'colour'" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    colour: blue                           # <-
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid unknown-top-level-key "unknown key 'virtual_server'" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_server:                            # <-
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid duplicate-vip-service "already defined" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
  - address: 10.99.0.252                   # <-
    port: 80
    protocol: TCP
    lb_kind: DR
    real_servers:
      - { address: 10.99.0.142, port: 80, weight: 1 }
EOF

invalid bad-duration "is not a duration" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3 parsecs                  # <-
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid interface-names-no-port "no port named 'lan1'" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan1                        # <-
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid port-without-device "missing required key 'device'" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, address: 10.99.0.120/24 }         # <-
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid bad-ip "10.99.0.300" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.300, port: 80, weight: 1 }   # <-
EOF

invalid weight-out-of-range "out of range 0..65535" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - address: 10.99.0.173
        port: 80
        weight: 65536                      # <-
EOF

invalid yaml-syntax-error "YAML syntax error" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1 }, hugepages: false }   # <-
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid dr-port-mismatch "DR cannot change the port" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - address: 10.99.0.173
        port: 8080                         # <-
        weight: 1
EOF

invalid authentication-on-vrrp-v3 "authentication" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    version: 3
    authentication: { type: PASS, pass: "1111" }   # <-
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid unknown-lb-algo "'fastest' is not one of" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: fastest                       # <-
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

invalid bad-mac "not a MAC address" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - address: 10.99.0.173
        port: 80
        mac: "02:99:00:00:00"              # <-
EOF

invalid duplicate-port-name "duplicate port name 'lan0'" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
  - { name: lan0, device: "net_af_packet1,iface=eth1" }   # <-
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 62
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: 3s
    real_servers:
      - { address: 10.99.0.173, port: 80, weight: 1 }
EOF

# ---- several errors: every one reported, in file order -------------------------------------
cat >"$tmp/three.yaml" <<'EOF'
dpdk: { lcores: { control: 0, workers: [1] }, hugepages: false }
ports:
  - { name: lan0, device: "net_af_packet0,iface=eth0", address: 10.99.0.120/24 }
vrrp_instances:
  - name: VI_1
    interface: lan0
    state: MASTER
    virtual_router_id: 0                   # <- 1
    priority: 200
    authentication: { type: PASS, pass: "1111" }
    virtual_ipaddress: [10.99.0.252]
virtual_servers:
  - address: 10.99.0.252
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    delay_loop: soon                       # <- 2
    real_servers:
      - address: 10.99.0.173
        port: 80
        weight: -1                         # <- 3
EOF
run "$tmp/three.yaml"
lines=$(positioned "$tmp/three.yaml:")
got=$(while IFS= read -r l; do l=${l#"$tmp/three.yaml:"}; echo "${l%%:*}"; done <<<"$lines" |
    tr '\n' ' ')
want=$(grep -n '# <- ' "$tmp/three.yaml" | cut -d: -f1 | tr '\n' ' ')
if [ "$rc" -ne 1 ]; then
    not_ok "invalid: three errors, three lines" "exit $rc, expected 1"
elif [ "$got" != "$want" ]; then
    not_ok "invalid: three errors, three lines" "error lines '$got', expected '$want'"
elif [[ $err != *"3 error(s)"* ]]; then
    not_ok "invalid: three errors, three lines" "no '3 error(s)' summary: $(tr '\n' ' ' <<<"$err")"
else
    ok "invalid: three errors, three lines"
fi

# ---- files that cannot be read ---------------------------------------------------------------
run "$tmp/does-not-exist.yaml"
if [ "$rc" -ne 1 ]; then
    not_ok "invalid: missing file" "exit $rc, expected 1"
elif [[ $err != *"$tmp/does-not-exist.yaml"* ]]; then
    not_ok "invalid: missing file" "stderr does not name the file: $err"
else
    ok "invalid: missing file"
fi

: >"$tmp/empty.yaml"
run "$tmp/empty.yaml"
if [ "$rc" -ne 1 ]; then
    not_ok "invalid: empty file" "exit $rc, expected 1 (no ports, no services)"
elif [ -z "$(positioned "$tmp/empty.yaml:")" ] && [[ $err != *"$tmp/empty.yaml"* ]]; then
    not_ok "invalid: empty file" "stderr does not name the file: $err"
else
    ok "invalid: empty file"
fi

# ---- command line ----------------------------------------------------------------------------
if "$director" -h >"$tmp/out" 2>&1 && grep -q -- '--config-test' "$tmp/out"; then
    ok "usage: director -h"
else
    not_ok "usage: director -h" "no usage text or non-zero exit: $(cat "$tmp/out")"
fi
"$director" --no-such-option >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'usage:' "$tmp/out"; then
    ok "usage: unknown option exits 2"
else
    not_ok "usage: unknown option exits 2" "exit $rc: $(cat "$tmp/out")"
fi

exit $((failures > 0))
