#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Sends VRRPv2 adverts that a VRRP speaker must ignore (and count): a wrong password, a VRID
nobody runs, TTL 254 and a bad checksum. Run inside the lab's client namespace.
usage: bad_adverts.py IFACE VIP"""
import struct
import sys

from scapy.all import IP, Ether, Raw, get_if_hwaddr, sendp


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def advert(vrid, prio, vip, password, bad_checksum=False):
    body = struct.pack("!BBBBBBH4s8s", 0x21, vrid, prio, 1, 1, 1, 0,
                       bytes(map(int, vip.split("."))), password.ljust(8, b"\0"))
    c = csum(body) ^ (0x5A5A if bad_checksum else 0)
    return body[:6] + struct.pack("!H", c) + body[8:]


iface, vip = sys.argv[1], sys.argv[2]
# An explicit source MAC: without one scapy looks for a route to 224.0.0.18 and, in a
# namespace without a default route, sends nothing useful.
base = Ether(src=get_if_hwaddr(iface), dst="01:00:5e:00:00:12")
cases = [
    (255, advert(62, 100, vip, b"2222")),             # bad_password
    (255, advert(99, 100, vip, b"1111")),             # unknown_vrid
    (254, advert(62, 100, vip, b"1111")),             # bad_ttl
    (255, advert(62, 100, vip, b"1111", True)),       # bad_checksum
]
for ttl, body in cases:
    sendp(base / IP(src="10.99.0.10", dst="224.0.0.18", ttl=ttl, proto=112, tos=0xC0) / Raw(body),
          iface=iface, verbose=False)
