// SPDX-License-Identifier: BSD-3-Clause
#include "control/host_tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "control/log.h"
#include "net/parse.h"

namespace director::ctl {

namespace {

using net::kEtherTypeArp;
using net::kEtherTypeIpv6;
using net::kEtherTypeVlan;
constexpr uint16_t kArpOpReply = 2;
using net::kIpProtoIcmpv6;
constexpr uint8_t kNeighbourAdvert = 136;

uint16_t be16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

/** The kernel's struct in6_ifreq (linux/ipv6.h clashes with netinet/in.h). */
struct In6Ifreq {
    in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
};

/** A socket for interface ioctls, closed on scope exit. */
class IoctlSocket {
public:
    explicit IoctlSocket(int family) noexcept
        : fd_(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
    ~IoctlSocket() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    IoctlSocket(const IoctlSocket&) = delete;
    IoctlSocket& operator=(const IoctlSocket&) = delete;
    int fd() const noexcept { return fd_; }

private:
    int fd_;
};

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

void write_sysctl(const std::string& path, const char* value) {
    std::ofstream f(path);
    f << value;  // best effort: without /proc/sys the defaults only make the kernel chattier
}

ifreq named(const std::string& name) {
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), size_t{IFNAMSIZ - 1}));
    return ifr;
}

sockaddr_in v4(const net::IpAddress& a) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, a.bytes(), 4);
    return sin;
}

Result<void> configure_v4(const std::string& name, const HostTapSettings& s) {
    IoctlSocket sock(AF_INET);
    if (sock.fd() < 0) {
        return make_error(errno_text("socket(AF_INET)"));
    }
    ifreq ifr = named(name);
    const sockaddr_in addr = v4(s.address->address);
    std::memcpy(&ifr.ifr_addr, &addr, sizeof(addr));
    if (::ioctl(sock.fd(), SIOCSIFADDR, &ifr) != 0) {
        return make_error(errno_text("set address " + s.address->to_string()));
    }
    const uint32_t mask = s.address->length == 0 ? 0 : ~uint32_t{0} << (32 - s.address->length);
    sockaddr_in m{};
    m.sin_family = AF_INET;
    m.sin_addr.s_addr = htonl(mask);
    ifr = named(name);
    std::memcpy(&ifr.ifr_netmask, &m, sizeof(m));
    if (::ioctl(sock.fd(), SIOCSIFNETMASK, &ifr) != 0) {
        return make_error(errno_text("set netmask of " + s.address->to_string()));
    }
    if (s.gateway) {
        rtentry rt{};
        const sockaddr_in any = v4(net::IpAddress::v4(0));
        const sockaddr_in gw = v4(*s.gateway);
        std::memcpy(&rt.rt_dst, &any, sizeof(any));
        std::memcpy(&rt.rt_genmask, &any, sizeof(any));
        std::memcpy(&rt.rt_gateway, &gw, sizeof(gw));
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        std::string dev = name;
        rt.rt_dev = dev.data();
        if (::ioctl(sock.fd(), SIOCADDRT, &rt) != 0) {
            if (errno != EEXIST) {
                return make_error(errno_text("add default route via " + s.gateway->to_string()));
            }
            DIRECTOR_LOG(WARNING, "exception tap %s: a default route exists already; not adding "
                         "one via %s", name.c_str(), s.gateway->to_string().c_str());
        }
    }
    return {};
}

Result<void> configure_v6(const std::string& name, const HostTapSettings& s) {
    IoctlSocket sock(AF_INET6);
    if (sock.fd() < 0) {
        return make_error(errno_text("socket(AF_INET6)"));
    }
    const int index = static_cast<int>(::if_nametoindex(name.c_str()));
    In6Ifreq req{};
    std::memcpy(&req.addr, s.address->address.bytes(), 16);
    req.prefixlen = s.address->length;
    req.ifindex = index;
    if (::ioctl(sock.fd(), SIOCSIFADDR, &req) != 0) {
        return make_error(errno_text("set address " + s.address->to_string()));
    }
    if (s.gateway) {
        in6_rtmsg rt{};
        std::memcpy(&rt.rtmsg_gateway, s.gateway->bytes(), 16);
        rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
        rt.rtmsg_metric = 1;
        rt.rtmsg_ifindex = index;
        if (::ioctl(sock.fd(), SIOCADDRT, &rt) != 0 && errno != EEXIST) {
            return make_error(errno_text("add default route via " + s.gateway->to_string()));
        }
    }
    return {};
}

Result<void> configure_link(const std::string& name, const HostTapSettings& s) {
    IoctlSocket sock(AF_INET);
    if (sock.fd() < 0) {
        return make_error(errno_text("socket(AF_INET)"));
    }
    ifreq ifr = named(name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(ifr.ifr_hwaddr.sa_data, s.mac.bytes.data(), 6);
    if (::ioctl(sock.fd(), SIOCSIFHWADDR, &ifr) != 0) {
        return make_error(errno_text("set MAC " + s.mac.to_string()));
    }
    ifr = named(name);
    ifr.ifr_mtu = static_cast<int>(s.mtu);
    if (::ioctl(sock.fd(), SIOCSIFMTU, &ifr) != 0) {
        return make_error(errno_text("set MTU " + std::to_string(s.mtu)));
    }
    const std::string conf = "/proc/sys/net/ipv6/conf/" + name + "/";
    if (s.address && s.address->address.is_v6()) {
        write_sysctl(conf + "accept_dad", "0");  // the director owns the address already
        write_sysctl(conf + "accept_ra", "0");
    } else {
        write_sysctl(conf + "disable_ipv6", "1");
    }
    ifr = named(name);
    if (::ioctl(sock.fd(), SIOCGIFFLAGS, &ifr) != 0) {
        return make_error(errno_text("read flags"));
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(sock.fd(), SIOCSIFFLAGS, &ifr) != 0) {
        return make_error(errno_text("bring up"));
    }
    return {};
}

}  // namespace

bool host_frame_may_leave(std::span<const uint8_t> f) noexcept {
    if (f.size() < 14) {
        return false;
    }
    size_t off = 12;
    uint16_t type = be16(&f[off]);
    if (type == kEtherTypeVlan && f.size() >= 18) {
        off += 4;
        type = be16(&f[off]);
    }
    off += 2;
    if (type == kEtherTypeArp) {
        // ARP: op at offset 6 of the ARP header.
        return !(f.size() >= off + 8 && be16(&f[off + 6]) == kArpOpReply);
    }
    if (type == kEtherTypeIpv6) {
        // Neighbour advertisements carry no extension headers (RFC 4861 hop limit 255 rule).
        return !(f.size() >= off + 41 && f[off + 6] == kIpProtoIcmpv6 &&
                 f[off + 40] == kNeighbourAdvert);
    }
    return true;
}

Result<std::unique_ptr<HostTap>> HostTap::create(const HostTapSettings& s) {
    const std::string where = "exception tap " + s.name + ": ";
    if (s.name.empty() || s.name.size() >= IFNAMSIZ) {
        return make_error(where + "interface name must have 1 to " +
                          std::to_string(IFNAMSIZ - 1) + " characters");
    }
    const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return make_error(where + errno_text("open /dev/net/tun"));
    }
    ifreq ifr = named(s.name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
        const std::string e = errno_text("TUNSETIFF");
        ::close(fd);
        return make_error(where + e + " (an interface of that name may exist already)");
    }
    std::unique_ptr<HostTap> tap(new HostTap(fd, ifr.ifr_name));
    if (auto r = configure_link(tap->name_, s); !r) {
        return make_error(where + r.error().message);
    }
    if (s.address) {
        auto r = s.address->address.is_v4() ? configure_v4(tap->name_, s)
                                            : configure_v6(tap->name_, s);
        if (!r) {
            return make_error(where + r.error().message);
        }
    }
    return tap;
}

HostTap::~HostTap() { ::close(fd_); }

bool HostTap::to_kernel(std::span<const uint8_t> frame) noexcept {
    const ssize_t n = ::write(fd_, frame.data(), frame.size());
    if (n != static_cast<ssize_t>(frame.size())) {
        ++to_kernel_errors_;
        return false;
    }
    ++to_kernel_;
    return true;
}

size_t HostTap::from_kernel(std::span<uint8_t> buf) noexcept {
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n <= 0) {
        return 0;
    }
    ++from_kernel_;
    return static_cast<size_t>(n);
}

}  // namespace director::ctl
