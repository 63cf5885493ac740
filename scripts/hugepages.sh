#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reserves and mounts 2 MiB hugepages for DPDK. Hosts where that fails (containers, a hugetlb
# cgroup limit, no hugetlbfs) are tolerated: the script says so and prints "no-huge", and the
# caller starts EAL with --no-huge instead (shared/reference/dpdk-on-test-machines.md §2).
#
# usage: hugepages.sh [PAGES]      (default 512 pages = 1 GiB)
# prints one word on stdout: "huge" when hugepages are usable, "no-huge" otherwise.
set -uo pipefail

pages=${1:-512}
mnt=/dev/hugepages
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB

say() { echo "hugepages.sh: $*" >&2; }

if [ ! -d "$sysfs" ]; then
    say "kernel has no 2 MiB hugepages; use --no-huge"
    echo no-huge
    exit 0
fi

have=$(cat "$sysfs/nr_hugepages" 2>/dev/null || echo 0)
if [ "$have" -lt "$pages" ]; then
    echo "$pages" >"$sysfs/nr_hugepages" 2>/dev/null || true
    have=$(cat "$sysfs/nr_hugepages" 2>/dev/null || echo 0)
fi
if [ "$have" -eq 0 ]; then
    say "could not reserve any 2 MiB page; use --no-huge"
    echo no-huge
    exit 0
fi
[ "$have" -lt "$pages" ] && say "reserved $have of $pages pages (memory is fragmented or limited)"

if ! grep -qs " $mnt hugetlbfs " /proc/mounts; then
    mkdir -p "$mnt"
    if ! mount -t hugetlbfs -o pagesize=2M nodev "$mnt" 2>/dev/null; then
        say "cannot mount hugetlbfs on $mnt; use --no-huge"
        echo no-huge
        exit 0
    fi
fi

# A hugetlb cgroup limit shows free pages in sysfs yet makes EAL fail; a probe allocation in a
# throw-away child tells the truth. The probe needs python3 (always installed by install-deps).
if ! python3 - "$mnt" <<'PY' 2>/dev/null; then
import mmap, os, sys, tempfile
fd, path = tempfile.mkstemp(dir=sys.argv[1])
try:
    os.ftruncate(fd, 2 << 20)
    m = mmap.mmap(fd, 2 << 20)
    m[0] = 1  # touching the page is what a cgroup limit refuses (SIGBUS)
    m.close()
finally:
    os.close(fd)
    os.unlink(path)
PY
    say "hugepages are reserved but not usable here (cgroup limit?); use --no-huge"
    echo no-huge
    exit 0
fi

free=$(cat "$sysfs/free_hugepages" 2>/dev/null || echo 0)
say "$have pages reserved, $free free, mounted on $mnt"
echo huge
