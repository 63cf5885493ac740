#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Proves the Dockerfile builds and its image works without any registry: makes a Debian 12
# base image with debootstrap (once, cached), builds the Dockerfile on it with podman, then
# runs the image's director and directorctl on the seed's configuration. The image's
# binaries are run by chroot into the exported file system, because a sandboxed host may
# refuse the rlimits a container runtime sets.
#
# usage: container-check.sh        (root; installs podman and debootstrap if missing)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
base=localhost/director-base:bookworm
image=localhost/director:check
for p in podman debootstrap; do
    command -v "$p" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" >/dev/null
done
if ! podman image exists "$base"; then
    root=$(mktemp -d /var/tmp/director-base.XXXXXX)
    echo "container-check: debootstrap bookworm (minbase) into $root" >&2
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
    tar -C "$root" -c . | podman import - "$base" >/dev/null
    rm -rf "$root"
fi
echo "container-check: podman build" >&2
podman build --isolation=chroot --build-arg "BASE=$base" -t "$image" "$top" >/tmp/container-check.log 2>&1 ||
    { tail -30 /tmp/container-check.log; echo "FAIL: podman build (log /tmp/container-check.log)"; exit 1; }

fsdir=$(mktemp -d /var/tmp/director-image.XXXXXX)
trap 'rm -rf "$fsdir"' EXIT
cid=$(podman create "$image")
podman export "$cid" | tar -C "$fsdir" -x
podman rm "$cid" >/dev/null
status=0
run() { chroot "$fsdir" "$@"; }
if run /usr/bin/director -f /usr/share/director/config/ds1.yaml -t; then
    echo "ok image: director -t accepts config/ds1.yaml"
else
    echo "not ok image: director -t on config/ds1.yaml"; status=1
fi
if run /usr/bin/directorctl import-keepalived /usr/share/director/config/seed/keepalived.conf \
        >"$fsdir/tmp/imported.yaml" 2>/dev/null &&
    run /usr/bin/director -f /tmp/imported.yaml -t >/dev/null; then
    echo "ok image: directorctl imports the seed's keepalived.conf and director -t accepts it"
else
    echo "not ok image: directorctl import-keepalived / director -t"; status=1
fi
if [ -f "$fsdir/usr/share/director/drivers-conf/default.yaml" ]; then
    echo "ok image: drivers-conf installed"
else
    echo "not ok image: drivers-conf missing"; status=1
fi
size=$(podman image inspect "$image" --format '{{.Size}}')
echo "container-check: image $image, $((size / 1024 / 1024)) MiB"
exit $status
