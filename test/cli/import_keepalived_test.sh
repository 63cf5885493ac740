#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `directorctl import-keepalived FILE` and `directorctl help` (app/directorctl/main.cc): the
# seed's keepalived.conf converts (exit 0) to YAML that `director -t` accepts, with a note that
# the port's device and address need filling in; keepalived files with constructs the director
# cannot express exit 2, name each one as `FILE:LINE: ...` on stderr, and still write YAML that
# loads; an unreadable file exits 1 and writes nothing.
#
# Usage: import_keepalived_test.sh BUILD_DIR   prints TAP lines `ok NAME` / `not ok NAME - why`
set -uo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 1
top=$(cd "$(dirname "$0")/../.." && pwd)
director=$build/app/director/director
directorctl=$build/app/directorctl/directorctl
tmp=$(mktemp -d /tmp/director-cli-import.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

failures=0
ok() { echo "ok $1"; }
not_ok() {
    echo "not ok $1 - $2"
    failures=$((failures + 1))
}

for exe in "$director" "$directorctl"; do
    if [ ! -x "$exe" ]; then
        not_ok "binaries" "$exe is missing (build it first)"
        exit 1
    fi
done

# import FILE: runs the importer; sets rc, yaml (stdout file) and err (stderr text).
import() {
    yaml="$tmp/$(basename "$1").yaml"
    "$directorctl" import-keepalived "$1" >"$yaml" 2>"$tmp/err"
    rc=$?
    err=$(cat "$tmp/err")
}

# loads FILE: FILE is not empty and `director -t` accepts it; prints the complaint otherwise.
loads() {
    [ -s "$1" ] || { echo "empty output"; return 1; }
    "$director" -f "$1" -t >"$tmp/t.out" 2>&1 || { tr '\n' ' ' <"$tmp/t.out"; return 1; }
}

# ---- the seed ------------------------------------------------------------------------------
seed=$top/config/seed/keepalived.conf
import "$seed"
if [ "$rc" -eq 0 ]; then
    ok "seed: exit 0"
else
    not_ok "seed: exit 0" "exit $rc: $(tr '\n' ' ' <<<"$err")"
fi
if why=$(loads "$yaml"); then
    ok "seed: output accepted by director -t"
else
    not_ok "seed: output accepted by director -t" "$why"
fi
# The note: the port named after keepalived's interface needs its device and address.
if grep -q "port 'enp1s0'" <<<"$err" && grep -q "device" <<<"$err" &&
    grep -q "address" <<<"$err"; then
    ok "seed: stderr says to fill the port's device and address"
else
    not_ok "seed: stderr says to fill the port's device and address" "stderr: $err"
fi
if grep -q "unsupported" <<<"$err"; then
    not_ok "seed: nothing unsupported" "stderr: $err"
else
    ok "seed: nothing unsupported"
fi
# What the seed configures is in the output: VRRP instance, VIP service, both real servers.
missing=""
for want in "name: VI_1" "interface: enp1s0" "virtual_router_id: 62" "priority: 200" \
    "172.17.13.252" "lb_algo: rr" "lb_kind: DR" "persistence_timeout: 50s" "172.17.13.173" \
    "172.17.13.142" "TCP_CHECK" "connect_port: 80" "router_id: LVS_DEVEL"; do
    grep -qF -- "$want" "$yaml" || missing+=" '$want'"
done
if [ -z "$missing" ]; then
    ok "seed: output carries the seed's settings"
else
    not_ok "seed: output carries the seed's settings" "missing$missing"
fi

# ---- a virtual_server without lb_kind (keepalived's default: NAT) ------------------------
cat >"$tmp/nat.conf" <<'EOF'
global_defs {
   router_id LVS_DEVEL
}
vrrp_instance VI_1 {
    state MASTER
    interface enp1s0
    virtual_router_id 62
    priority 200
    advert_int 1
    virtual_ipaddress {
        172.17.13.252
    }
}
virtual_server 172.17.13.252 80 {
    delay_loop 3
    lb_algo rr
    protocol TCP
    real_server 172.17.13.173 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 10
        }
    }
}
EOF
vs_line=$(grep -n '^virtual_server' "$tmp/nat.conf" | cut -d: -f1)
import "$tmp/nat.conf"
if [ "$rc" -eq 2 ]; then
    ok "no lb_kind: exit 2"
else
    not_ok "no lb_kind: exit 2" "exit $rc: $(tr '\n' ' ' <<<"$err")"
fi
if grep -qF "$tmp/nat.conf:$vs_line: " <<<"$err" &&
    grep -F "$tmp/nat.conf:$vs_line: " <<<"$err" | grep -q "lb_kind"; then
    ok "no lb_kind: FILE:LINE: names lb_kind at the virtual_server"
else
    not_ok "no lb_kind: FILE:LINE: names lb_kind at the virtual_server" \
        "expected '$tmp/nat.conf:$vs_line: ...lb_kind...'; stderr: $(tr '\n' ' ' <<<"$err")"
fi
if why=$(loads "$yaml"); then
    ok "no lb_kind: stdout is still YAML that loads"
else
    not_ok "no lb_kind: stdout is still YAML that loads" "$why"
fi

# ---- keywords with no director counterpart --------------------------------------------------
cat >"$tmp/unsupported.conf" <<'EOF'
global_defs {
   router_id LVS_DEVEL
}
vrrp_instance VI_1 {
    state BACKUP
    interface enp1s0
    virtual_router_id 62
    priority 100
    advert_int 1
    virtual_ipaddress {
        172.17.13.252
    }
}
virtual_server 172.17.13.252 80 {
    delay_loop 3
    lb_algo rr
    lb_kind DR
    lvs_sched_flags whatever
    protocol TCP
    real_server 172.17.13.173 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 10
        }
    }
}
EOF
kw_line=$(grep -n 'lvs_sched_flags' "$tmp/unsupported.conf" | cut -d: -f1)
import "$tmp/unsupported.conf"
if [ "$rc" -eq 2 ]; then
    ok "unsupported keyword: exit 2"
else
    not_ok "unsupported keyword: exit 2" "exit $rc: $(tr '\n' ' ' <<<"$err")"
fi
want="$tmp/unsupported.conf:$kw_line: unsupported keyword 'lvs_sched_flags'"
if grep -qF -- "$want" <<<"$err"; then
    ok "unsupported keyword: FILE:LINE: unsupported keyword 'X' on stderr"
else
    not_ok "unsupported keyword: FILE:LINE: unsupported keyword 'X' on stderr" \
        "expected '$want'; stderr: $(tr '\n' ' ' <<<"$err")"
fi
if why=$(loads "$yaml"); then
    ok "unsupported keyword: stdout is still YAML that loads"
else
    not_ok "unsupported keyword: stdout is still YAML that loads" "$why"
fi
if grep -q "unsupported keyword" "$yaml"; then
    not_ok "unsupported keyword: reports stay off stdout" \
        "stdout: $(grep "unsupported keyword" "$yaml")"
else
    ok "unsupported keyword: reports stay off stdout"
fi

# ---- the importer's fixtures: each converts cleanly and loads ------------------------------
for f in "$top"/test/fixtures/keepalived/*.conf \
    "$top"/test/fixtures/keepalived/includes/keepalived.conf; do
    name="fixture: ${f#"$top"/test/fixtures/keepalived/}"
    import "$f"
    if [ "$rc" -ne 0 ]; then
        not_ok "$name" "exit $rc: $(tr '\n' ' ' <<<"$err")"
    elif ! why=$(loads "$yaml"); then
        not_ok "$name" "output rejected by director -t: $why"
    else
        ok "$name"
    fi
done

# ---- files that cannot be imported -----------------------------------------------------------
import "$tmp/does-not-exist.conf"
if [ "$rc" -ne 1 ]; then
    not_ok "missing file: exit 1" "exit $rc"
elif [ -s "$yaml" ]; then
    not_ok "missing file: exit 1" "wrote to stdout: $(head -3 "$yaml")"
elif [[ $err != *"$tmp/does-not-exist.conf"* ]]; then
    not_ok "missing file: exit 1" "stderr does not name the file: $err"
else
    ok "missing file: exit 1"
fi

printf 'virtual_server 10.0.0.1 80 {\n    lb_kind DR\n' >"$tmp/unbalanced.conf"
import "$tmp/unbalanced.conf"
if [ "$rc" -eq 1 ] && [ ! -s "$yaml" ] && [[ $err == *"$tmp/unbalanced.conf"* ]]; then
    ok "unbalanced braces: exit 1"
else
    not_ok "unbalanced braces: exit 1" "exit $rc; stderr: $(tr '\n' ' ' <<<"$err")"
fi

"$directorctl" import-keepalived >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "usage: directorctl import-keepalived FILE" "$tmp/out"; then
    ok "import-keepalived without FILE: usage, exit 1"
else
    not_ok "import-keepalived without FILE: usage, exit 1" "exit $rc: $(cat "$tmp/out")"
fi

# ---- help ------------------------------------------------------------------------------------
"$directorctl" help >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "import-keepalived" "$tmp/out" && grep -q "help" "$tmp/out"; then
    ok "help: lists the commands"
else
    not_ok "help: lists the commands" "exit $rc: $(cat "$tmp/out" "$tmp/err")"
fi
"$directorctl" help import-keepalived >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "usage: directorctl import-keepalived FILE" "$tmp/out" &&
    grep -q "Exit status" "$tmp/out"; then
    ok "help import-keepalived: details"
else
    not_ok "help import-keepalived: details" "exit $rc: $(cat "$tmp/out")"
fi
"$directorctl" --help >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "usage: directorctl" "$tmp/out"; then
    ok "help: --help"
else
    not_ok "help: --help" "exit $rc: $(cat "$tmp/out")"
fi
"$directorctl" no-such-command >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "unknown command 'no-such-command'" "$tmp/out"; then
    ok "unknown command: exit 1"
else
    not_ok "unknown command: exit 1" "exit $rc: $(cat "$tmp/out")"
fi
"$directorctl" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "usage: directorctl" "$tmp/out"; then
    ok "no command: usage, exit 1"
else
    not_ok "no command: usage, exit 1" "exit $rc: $(cat "$tmp/out")"
fi
"$directorctl" help no-such-command >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then
    ok "help of an unknown command: exit 1"
else
    not_ok "help of an unknown command: exit 1" "exit $rc: $(cat "$tmp/out")"
fi

exit $((failures > 0))
