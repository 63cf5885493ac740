#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the benchmark's traffic: one 60-byte frame (64 B on the wire) per TCP flow to the VIP.

    gen_flows.py OUT.pcap [--flows 4096] [--vip 10.99.0.100] [--vport 80] [--flags A]
                          [--dst-mac 02:70:63:61:70:00] [--src-mac 02:00:00:00:00:0a]

Flows are clients 10.99.0.1..64 x source ports 10000..10063 (the layout of
shared/reference/dpdk-on-test-machines.md, section 4), extended over more clients when --flows
asks for more than 4,096. The frame's destination MAC is net_pcap0's (02:70:63:61:70:00), so
the director accepts it; testpmd does not look at it. The default flags are a bare ACK: the
director's sloppy-TCP path creates the entry on the first pass over the file and every later
pass takes the established path, which is what the benchmark measures.

Needs scapy: run it with Debian's /usr/bin/python3 (the python3 first on PATH may lack it).
"""
import argparse
import sys

try:
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapWriter
except ImportError:  # pragma: no cover - environment problem, not a code path
    sys.exit("gen_flows.py: scapy missing; run it with /usr/bin/python3 (python3-scapy)")

PORTS_PER_CLIENT = 64
FIRST_SPORT = 10000


def frames(n, vip, vport, flags, dst_mac, src_mac):
    for i in range(n):
        client, port = divmod(i, PORTS_PER_CLIENT)
        # 10.99.0.1 .. 10.99.0.64 for the first 4,096 flows; larger sets continue in
        # 10.98.x.1..250 (never .0 or .255, and never the VIP's or the director's address).
        if client < PORTS_PER_CLIENT:
            src = f"10.99.0.{client + 1}"
        else:
            hi, lo = divmod(client - PORTS_PER_CLIENT, 250)
            src = f"10.98.{hi}.{lo + 1}"
        sport = FIRST_SPORT + port
        f = (Ether(dst=dst_mac, src=src_mac)
             / IP(src=src, dst=vip, ttl=64, id=i & 0xFFFF)
             / TCP(sport=sport, dport=vport, flags=flags, seq=1000 + i, ack=1, window=65535))
        raw = bytes(f)
        # Pad to the 60-byte minimum Ethernet frame (64 B on the wire with the FCS).
        yield raw + b"\x00" * max(0, 60 - len(raw))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--flows", type=int, default=4096)
    ap.add_argument("--vip", default="10.99.0.100")
    ap.add_argument("--vport", type=int, default=80)
    ap.add_argument("--flags", default="A", help="scapy TCP flags, e.g. A (ACK) or S (SYN)")
    ap.add_argument("--dst-mac", default="02:70:63:61:70:00", help="net_pcap0's MAC")
    ap.add_argument("--src-mac", default="02:00:00:00:00:0a")
    a = ap.parse_args()
    if a.flows < 1 or a.flows > (PORTS_PER_CLIENT + 256 * 250) * PORTS_PER_CLIENT:
        sys.exit(f"gen_flows.py: --flows {a.flows} out of range")
    w = PcapWriter(a.out, linktype=1, sync=False)
    n = 0
    for raw in frames(a.flows, a.vip, a.vport, a.flags, a.dst_mac, a.src_mac):
        w.write(raw)
        n += 1
    w.close()
    print(f"gen_flows.py: wrote {n} frames of 60 B to {a.out}")


if __name__ == "__main__":
    main()
