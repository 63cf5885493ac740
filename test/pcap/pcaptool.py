#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Builds input pcaps for the pcap-driven datapath tests and checks the director's output.

Katran-style fixtures: traffic is generated from a description, replayed through the real
director on a net_pcap vdev, and the output pcap is checked frame by frame.

  pcaptool.py gen-seed IN.pcap [--clients N] [--conns M] [--noise]
  pcaptool.py check-seed IN.pcap OUT.pcap --port-mac MAC --reals MAC,MAC [--persistent]
                         [--weights W1,W2]
Prints TAP lines (`ok NAME` / `not ok NAME - why`).
"""
import argparse
import collections
import random
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, rdpcap, wrpcap  # noqa: E402

VIP = "172.17.13.252"
PORT_MAC = "02:70:63:61:70:00"  # net_pcap0's MAC
CLIENT_MAC = "02:00:00:00:00:0a"


def client_ip(i):
    return f"10.1.{i // 250}.{i % 250 + 1}"


def tcp_connection(src, sport, dport=80):
    """SYN, ACK, data, FIN+ACK from the client: all a DR director ever sees."""
    base = Ether(src=CLIENT_MAC, dst=PORT_MAC) / IP(src=src, dst=VIP, id=sport & 0xffff)
    return [
        base / TCP(sport=sport, dport=dport, flags="S", seq=1000),
        base / TCP(sport=sport, dport=dport, flags="A", seq=1001, ack=5001),
        base / TCP(sport=sport, dport=dport, flags="PA", seq=1001, ack=5001) / Raw(b"GET / HTTP/1.0\r\n\r\n"),
        base / TCP(sport=sport, dport=dport, flags="FA", seq=1019, ack=5300),
    ]


def noise():
    """Frames that must not be forwarded, each with the reason the director drops it."""
    e = Ether(src=CLIENT_MAC, dst=PORT_MAC)
    frames = [
        e / IP(src="10.1.9.9", dst=VIP) / TCP(sport=4000, dport=22, flags="S"),  # not a service
        e / IP(src="10.1.9.9", dst=VIP) / UDP(sport=4000, dport=80),  # UDP, service is TCP
        e / IP(src="10.1.9.9", dst="172.17.13.99") / TCP(sport=4000, dport=80, flags="S"),  # not a VIP
        Ether(src=CLIENT_MAC, dst="02:00:00:00:99:99") / IP(src="10.1.9.9", dst=VIP)
        / TCP(sport=4001, dport=80, flags="S"),  # another host's MAC
    ]
    good = bytes(e / IP(src="10.1.9.9", dst=VIP) / TCP(sport=4002, dport=80, flags="S"))
    frames += [Ether(good[:30]), Ether(good[:14 + 19])]  # truncated IPv4 headers
    bad_ihl = bytearray(good)
    bad_ihl[14] = 0x44  # IHL 4 < 5
    frames.append(Ether(bytes(bad_ihl)))
    return frames


def gen_seed(args):
    random.seed(7)
    conns = []
    for c in range(args.clients):
        for k in range(args.conns):
            conns.append(tcp_connection(client_ip(c), 20000 + c * 16 + k))
    frames = []
    # Clients connect in order (rr alternates between them); packets of open connections
    # interleave, as on a real wire.
    pending = collections.deque()
    for conn in conns:
        pending.append(list(conn))
        while len(pending) > 3 or (pending and random.random() < 0.3):
            first = pending[0]
            frames.append(first.pop(0))
            if not first:
                pending.popleft()
            pending.rotate(-1)
    for conn in pending:
        frames.extend(conn)
    if args.noise:
        extra = noise()
        for i, f in enumerate(extra):
            frames.insert((i + 1) * len(frames) // (len(extra) + 1), f)
    wrpcap(args.out, frames)
    print(f"wrote {len(frames)} frames to {args.out}", file=sys.stderr)


class Tap:
    def __init__(self):
        self.failed = 0

    def check(self, name, cond, why=""):
        if cond:
            print(f"ok {name}")
        else:
            self.failed += 1
            print(f"not ok {name} - {why}")


def service_frames(frames):
    out = []
    for f in frames:
        if (f.haslayer(IP) and f.haslayer(TCP) and f[Ether].dst.lower() == PORT_MAC
                and f[IP].dst == VIP and f[TCP].dport == 80 and len(bytes(f)) >= 54
                and bytes(f)[14] == 0x45):
            out.append(f)
    return out


def check_seed(args):
    tap = Tap()
    inp = rdpcap(args.inp)
    out = rdpcap(args.out)
    reals = [m.lower() for m in args.reals.split(",")]
    expected = service_frames(inp)
    tap.check(f"{args.name}: every service frame forwarded, nothing else", len(out) == len(expected),
              f"{len(out)} frames out, {len(expected)} service frames in")
    tap.check(f"{args.name}: source MAC is the port's", all(f[Ether].src.lower() == args.port_mac.lower()
                                                     for f in out), "a frame kept another src MAC")
    tap.check(f"{args.name}: destination MAC is a real server's",
              all(f[Ether].dst.lower() in reals for f in out), "a frame went to an unknown MAC")
    # DR: L3 and L4 bytes untouched, in order.
    same = len(out) == len(expected) and all(bytes(a)[14:] == bytes(b)[14:]
                                             for a, b in zip(expected, out))
    tap.check(f"{args.name}: L3/L4 bytes unchanged (DR)", same, "payload bytes differ from the input")
    by_conn = collections.defaultdict(set)
    by_client = collections.defaultdict(set)
    for f in out:
        by_conn[(f[IP].src, f[TCP].sport)].add(f[Ether].dst.lower())
        by_client[f[IP].src].add(f[Ether].dst.lower())
    tap.check(f"{args.name}: each connection stays on one real server",
              all(len(v) == 1 for v in by_conn.values()), "a connection was split")
    if args.persistent:
        tap.check(f"{args.name}: persistence, each client's connections reach one real server",
                  all(len(v) == 1 for v in by_client.values()),
                  f"{sum(len(v) > 1 for v in by_client.values())} clients split")
    # Shares of new connections (first packets) per real server, against the weights.
    weights = [int(w) for w in args.weights.split(",")]
    first = collections.Counter()
    unit = by_client if args.persistent else by_conn
    for key, macs in unit.items():
        for m in macs:
            first[m] += 1
    total = sum(first.values())
    for mac, w in zip(reals, weights):
        want = total * w / sum(weights)
        got = first[mac]
        if w == 0:
            tap.check(f"{args.name}: real {mac} at weight 0 got no new connection", got == 0,
                      f"it got {got}")
            continue
        tap.check(f"{args.name}: real {mac} got its share ({got} of {total}, weight {w})",
                  abs(got - want) <= max(1, 0.1 * total), f"expected about {want:.0f}")
    if args.alternate:
        order = []
        seen = set()
        for f in out:
            key = f[IP].src
            if key not in seen:
                seen.add(key)
                order.append(f[Ether].dst.lower())
        alternating = all(a != b for a, b in zip(order, order[1:]))
        tap.check(f"{args.name}: rr alternates real servers between new clients", alternating,
                  f"order {order}")
    return 1 if tap.failed else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen-seed")
    g.add_argument("out")
    g.add_argument("--clients", type=int, default=20)
    g.add_argument("--conns", type=int, default=3)
    g.add_argument("--noise", action="store_true")
    c = sub.add_parser("check-seed")
    c.add_argument("inp")
    c.add_argument("out")
    c.add_argument("--port-mac", default=PORT_MAC)
    c.add_argument("--reals", required=True)
    c.add_argument("--weights", default="1,1")
    c.add_argument("--persistent", action="store_true")
    c.add_argument("--alternate", action="store_true")
    c.add_argument("--name", default="seed", help="scenario name prefixed to every TAP line")
    args = p.parse_args()
    if args.cmd == "gen-seed":
        gen_seed(args)
        return 0
    return check_seed(args)


if __name__ == "__main__":
    sys.exit(main())
