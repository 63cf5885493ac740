// SPDX-License-Identifier: BSD-3-Clause
// The exception TAP (lib/control/host_tap.cc): which kernel frames may leave on the wire, and
// a real TAP in a private network namespace — its MAC and address set, and the kernel behind
// it answering an ARP request written into it, which is the whole point: kernel sockets work
// through it. The namespace is the test's own (unshare in a child process) and vanishes with it.
#include "control/host_tap.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace director::ctl {
namespace {

constexpr std::array<uint8_t, 6> kTapMac = {0x02, 0x99, 0, 0, 0, 0x78};
constexpr std::array<uint8_t, 6> kPeerMac = {0x02, 0x99, 0, 0, 0, 0x0a};

/** An Ethernet ARP frame: op 1 request / 2 reply, sender .10, target .120. */
std::vector<uint8_t> arp(uint16_t op) {
    std::vector<uint8_t> f(42, 0);
    std::memset(f.data(), 0xff, 6);
    std::memcpy(f.data() + 6, kPeerMac.data(), 6);
    f[12] = 0x08;
    f[13] = 0x06;
    const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, static_cast<uint8_t>(op)};
    std::memcpy(f.data() + 14, hdr, sizeof(hdr));
    std::memcpy(f.data() + 22, kPeerMac.data(), 6);
    const uint8_t sender[] = {10, 99, 0, 10};
    const uint8_t target[] = {10, 99, 0, 120};
    std::memcpy(f.data() + 28, sender, 4);
    std::memcpy(f.data() + 38, target, 4);
    return f;
}

/** An IPv6 frame carrying ICMPv6 of the given type (no extension headers). */
std::vector<uint8_t> icmp6(uint8_t type) {
    std::vector<uint8_t> f(14 + 40 + 8, 0);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[14 + 6] = 58;  // next header: ICMPv6
    f[14 + 7] = 255;
    f[14 + 40] = type;
    return f;
}

TEST(HostFrameMayLeave, KernelArpRequestsLeaveRepliesDoNot) {
    EXPECT_TRUE(host_frame_may_leave(arp(1)));
    EXPECT_FALSE(host_frame_may_leave(arp(2)));
}

TEST(HostFrameMayLeave, NeighbourAdvertisementsStaySolicitationsLeave) {
    EXPECT_FALSE(host_frame_may_leave(icmp6(136)));
    EXPECT_TRUE(host_frame_may_leave(icmp6(135)));
    EXPECT_TRUE(host_frame_may_leave(icmp6(128)));  // echo request
}

TEST(HostFrameMayLeave, OrdinaryIpLeavesRuntsDoNot) {
    std::vector<uint8_t> ip(60, 0);
    ip[12] = 0x08;
    EXPECT_TRUE(host_frame_may_leave(ip));
    EXPECT_FALSE(host_frame_may_leave(std::span<const uint8_t>(ip.data(), 13)));
}

TEST(HostFrameMayLeave, VlanTaggedArpReplyIsRecognised) {
    std::vector<uint8_t> f = arp(2);
    const uint8_t tag[] = {0x81, 0x00, 0x00, 0x05};
    f.insert(f.begin() + 12, tag, tag + 4);
    EXPECT_FALSE(host_frame_may_leave(f));
}

TEST(HostTapCreate, RejectsAnEmptyOrOverlongName) {
    HostTapSettings s;
    s.name = "";
    auto r = HostTap::create(s);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("interface name"), std::string::npos) << r.error().message;
    s.name = "a-name-far-too-long";
    EXPECT_FALSE(HostTap::create(s).has_value());
}

/**
 * In a child with a network namespace of its own: create the TAP, check MAC and address, write
 * an ARP request for its address and read the kernel's reply. Returns the child's exit code:
 * 0 ok, 77 cannot unshare (not root), other = the failing step.
 */
int run_in_private_namespace() {
    const pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) != 0) {
            _exit(77);
        }
        HostTapSettings s;
        s.name = "dirtest0";
        std::memcpy(s.mac.bytes.data(), kTapMac.data(), 6);
        s.address = net::Prefix::parse("10.99.0.120/24");
        auto tap = HostTap::create(s);
        if (!tap) {
            _exit(77);  // no /dev/net/tun here
        }
        const int sock = socket(AF_INET, SOCK_DGRAM, 0);
        ifreq ifr{};
        std::strcpy(ifr.ifr_name, "dirtest0");
        if (ioctl(sock, SIOCGIFHWADDR, &ifr) != 0 ||
            std::memcmp(ifr.ifr_hwaddr.sa_data, kTapMac.data(), 6) != 0) {
            _exit(2);
        }
        if (ioctl(sock, SIOCGIFADDR, &ifr) != 0) {
            _exit(3);
        }
        const uint8_t want[] = {10, 99, 0, 120};
        if (std::memcmp(&reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr, want, 4) != 0) {
            _exit(4);
        }
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0 || (ifr.ifr_flags & IFF_UP) == 0) {
            _exit(5);
        }
        if (!(*tap)->to_kernel(arp(1))) {
            _exit(6);
        }
        // The kernel may send other frames first; look for its ARP reply for 10.99.0.120.
        std::array<uint8_t, 2048> buf{};
        for (int tries = 0; tries < 50; ++tries) {
            pollfd p{(*tap)->fd(), POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                continue;
            }
            const size_t n = (*tap)->from_kernel(buf);
            if (n >= 42 && buf[12] == 0x08 && buf[13] == 0x06 && buf[21] == 2 &&
                std::memcmp(buf.data() + 6, kTapMac.data(), 6) == 0 &&
                std::memcmp(buf.data() + 28, want, 4) == 0 &&
                std::memcmp(buf.data(), kPeerMac.data(), 6) == 0) {
                // ... which must not leave on the wire: the responder answers instead.
                _exit(host_frame_may_leave(std::span<const uint8_t>(buf.data(), n)) ? 8 : 0);
            }
        }
        _exit(7);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(HostTapCreate, KernelBehindTheTapAnswersArpForItsAddress) {
    const int rc = run_in_private_namespace();
    if (rc == 77) {
        GTEST_SKIP() << "needs root and /dev/net/tun (a private network namespace)";
    }
    EXPECT_EQ(rc, 0) << "failing step " << rc
                     << " (2 MAC, 3-4 address, 5 up, 6 write, 7 no reply, 8 reply not filtered)";
}

}  // namespace
}  // namespace director::ctl
