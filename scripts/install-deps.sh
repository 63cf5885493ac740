#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs every Debian 12 package that director's build, tests, lab and benchmarks need.
# Idempotent: only missing packages are installed. Run as root.
#
# usage: install-deps.sh [all|build|runtime]
#   all      (default) build + tests + lab + benchmarks: what the README's commands need
#   build    compiler, meson and -dev packages only (the Dockerfile's build stage)
#   runtime  shared libraries and tools the director needs to run (the Dockerfile's runtime stage)
set -euo pipefail

profile=${1:-all}
build=(
    build-essential g++ pkg-config meson ninja-build git python3
    libdpdk-dev libyaml-cpp-dev libcivetweb-dev libssl-dev libpcap-dev libnuma-dev
    libgtest-dev libgmock-dev libbenchmark-dev
)
# The DPDK libraries the director links, the mempool driver and buses EAL needs, and the
# PMDs of drivers-conf/ (EAL loads every PMD found in its plugin directory).
runtime=(
    librte-eal23 librte-kvargs23 librte-telemetry23 librte-ethdev23 librte-meter23
    librte-mbuf23 librte-mempool23 librte-mempool-ring23 librte-ring23 librte-rcu23 librte-net23
    librte-bus-pci23 librte-bus-vdev23
    librte-net-af-packet23 librte-net-pcap23 librte-net-tap23 librte-net-memif23
    librte-net-ring23 librte-net-null23 librte-net-virtio23
    librte-net-i40e23 librte-net-ice23 librte-net-ixgbe23 librte-net-mlx5-23
    libyaml-cpp0.7 libcivetweb1 libssl3 iproute2 procps
)
tests=(
    # tests: captures and packet crafting
    python3-scapy tcpdump tshark
    # lab and end-to-end tests; dpdk-dev has dpdk-testpmd (benchmark baseline)
    dpdk dpdk-dev iproute2 ethtool nftables iputils-ping curl nginx keepalived wrk procps psmisc
    # benchmarks and metrics checks
    valgrind linux-perf prometheus
)
case "$profile" in
    all) packages=("${build[@]}" "${tests[@]}") ;;
    build) packages=("${build[@]}") ;;
    runtime) packages=("${runtime[@]}") ;;
    *) echo "usage: install-deps.sh [all|build|runtime]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: must run as root (apt-get install)" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps.sh: all ${#packages[@]} packages present"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# nginx and keepalived must not start as system services: the lab and tests run their own
# instances inside network namespaces. policy-rc.d stops dpkg from starting them.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps.sh: installed ${#missing[@]} packages: ${missing[*]}"
