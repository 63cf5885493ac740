#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Produces the golden frames of frames_test.cc with scapy (Debian's python3-scapy 2.5.0),
# independently of the C++ builders. Run: /usr/bin/python3 test/unit/neigh/gen_golden.py
# and paste the output into the kGolden* constants of frames_test.cc.
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                                 ICMPv6NDOptSrcLLAddr, IPv6)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Padding

DIRECTOR_MAC = "02:00:00:00:01:20"
RS_MAC = "02:00:00:00:01:42"
OWN4, VIP4, RS4 = "10.99.0.120", "10.99.0.252", "10.99.0.142"
OWN6, VIP6, RS6 = "fd00:99::120", "fd00:99::252", "fd00:99::142"
VLAN = 100


def eth(dst, vlan):
    e = Ether(dst=dst, src=DIRECTOR_MAC)
    return e / Dot1Q(vlan=vlan) if vlan else e


def pad(pkt):
    raw = bytes(pkt)
    return raw + b"\x00" * max(0, 60 - len(raw))


def frames(vlan):
    return {
        # Reply to "who has VIP4? tell RS4" from RS_MAC.
        "ArpReply": pad(eth(RS_MAC, vlan) / ARP(op=2, hwsrc=DIRECTOR_MAC, psrc=VIP4,
                                                 hwdst=RS_MAC, pdst=RS4)),
        # "Who has RS4? tell OWN4", broadcast, target MAC zero.
        "ArpRequest": pad(eth("ff:ff:ff:ff:ff:ff", vlan) / ARP(
            op=1, hwsrc=DIRECTOR_MAC, psrc=OWN4, hwdst="00:00:00:00:00:00", pdst=RS4)),
        # The same, unicast to the cached MAC (refresh).
        "ArpRequestUnicast": pad(eth(RS_MAC, vlan) / ARP(
            op=1, hwsrc=DIRECTOR_MAC, psrc=OWN4, hwdst="00:00:00:00:00:00", pdst=RS4)),
        # keepalived's gratuitous ARP (vrrp_arp.c): request, target MAC ff:ff:ff:ff:ff:ff.
        "Garp": pad(eth("ff:ff:ff:ff:ff:ff", vlan) / ARP(
            op=1, hwsrc=DIRECTOR_MAC, psrc=VIP4, hwdst="ff:ff:ff:ff:ff:ff", pdst=VIP4)),
        # NS for RS6 to its solicited-node group ff02::1:ff00:142.
        "Ns": pad(eth("33:33:ff:00:01:42", vlan) /
                  IPv6(src=OWN6, dst="ff02::1:ff00:142", hlim=255) / ICMPv6ND_NS(tgt=RS6) /
                  ICMPv6NDOptSrcLLAddr(lladdr=DIRECTOR_MAC)),
        # NS unicast to RS6 at its cached MAC (refresh).
        "NsUnicast": pad(eth(RS_MAC, vlan) / IPv6(src=OWN6, dst=RS6, hlim=255) /
                         ICMPv6ND_NS(tgt=RS6) / ICMPv6NDOptSrcLLAddr(lladdr=DIRECTOR_MAC)),
        # Solicited NA for VIP6 to RS6: S and O set, R clear.
        "NaSolicited": pad(eth(RS_MAC, vlan) / IPv6(src=VIP6, dst=RS6, hlim=255) /
                           ICMPv6ND_NA(tgt=VIP6, R=0, S=1, O=1) /
                           ICMPv6NDOptDstLLAddr(lladdr=DIRECTOR_MAC)),
        # keepalived's unsolicited NA (vrrp_ndisc.c): to ff02::1, O set only.
        "NaUnsolicited": pad(eth("33:33:00:00:00:01", vlan) /
                             IPv6(src=VIP6, dst="ff02::1", hlim=255) /
                             ICMPv6ND_NA(tgt=VIP6, R=0, S=0, O=1) /
                             ICMPv6NDOptDstLLAddr(lladdr=DIRECTOR_MAC)),
    }


for vlan in (0, VLAN):
    for name, raw in frames(vlan).items():
        const = "kGolden" + name + ("Vlan" if vlan else "")
        h = raw.hex()
        chunks = [h[i:i + 64] for i in range(0, len(h), 64)]
        body = "\n".join('    "%s"' % c for c in chunks)
        print("constexpr const char* %s =  // %d bytes\n%s;" % (const, len(raw), body))
