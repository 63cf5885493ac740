# SPDX-License-Identifier: BSD-3-Clause
# director in a container: Debian 12, packages from Debian only, installed by the project's own
# scripts/install-deps.sh, built with meson.
#
#   podman build -t director .                      (or docker build; BASE overrides the image)
#   docker run --rm --network host --privileged \
#       -v /dev/hugepages:/dev/hugepages -v /sys/bus/pci:/sys/bus/pci -v /sys/devices:/sys/devices \
#       -v /etc/director:/etc/director:ro -v /run/director:/run/director \
#       director -f /etc/director/director.yaml
#
# --network host: the director owns a NIC and its exception TAP must appear in the host's
#   namespace; --privileged (or --cap-add NET_ADMIN,IPC_LOCK,SYS_RAWIO plus the vfio device):
#   DPDK maps hugepages and the NIC; the hugepage mount comes from the host (scripts/hugepages.sh
#   reserves it there), or set `dpdk.hugepages: false` to run with --no-huge.
ARG BASE=debian:bookworm

FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/install-deps.sh /src/scripts/install-deps.sh
RUN bash /src/scripts/install-deps.sh build
COPY . /src
RUN meson setup /build /src --buildtype=release --prefix=/usr -Dtests=false -Dbenchmarks=false \
    && ninja -C /build \
    && DESTDIR=/out meson install -C /build --no-rebuild

FROM ${BASE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN bash /tmp/install-deps.sh runtime && rm -f /tmp/install-deps.sh \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/bin/director /out/usr/bin/directorctl /usr/bin/
COPY drivers-conf /usr/share/director/drivers-conf
COPY config /usr/share/director/config
ENTRYPOINT ["/usr/bin/director"]
CMD ["-f", "/etc/director/director.yaml"]
