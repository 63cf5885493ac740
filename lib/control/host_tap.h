// SPDX-License-Identifier: BSD-3-Clause
// The exception TAP (DESIGN "Exception path", CONFIG `ports[].exception_tap`): a kernel TAP
// interface that carries a DPDK-owned port's address and MAC, so that the host's own sockets
// (health checks, SSH, a resolver) keep working when the NIC belongs to DPDK — the role KNI
// plays in DPVS and the tap interface in VPP's linux-cp.
//
// Direction wire → kernel: frames the workers punt as traffic for the port's own address,
// and copies of ARP / neighbour-discovery frames so that the kernel's neighbour cache fills
// (the director's responder still answers them itself).
// Direction kernel → wire: every frame the kernel transmits on the TAP, sent on the port's
// control tx queue — except ARP replies and neighbour advertisements, because the director's
// responder already answered the request the kernel saw a copy of (two replies would make the
// peer's cache flap between identical entries, harmless but noisy, and mask responder bugs).
//
// The TAP is not persistent: closing its descriptor (the destructor, or the process dying)
// removes the interface and its addresses and routes, so a crashed director leaves nothing.
//
// Caller: control lcore only. Uses system calls; never on a worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "net/addr.h"

namespace director::ctl {

/** What the kernel side of a port looks like. */
struct HostTapSettings {
    std::string name;                        ///< interface name (IFNAMSIZ - 1 at most)
    net::MacAddress mac;                     ///< the port's MAC
    std::optional<net::Prefix> address;      ///< the port's address and prefix
    std::optional<net::IpAddress> gateway;   ///< default route through the TAP, if any
    uint32_t mtu = 1500;
};

/**
 * True when a frame the kernel transmitted should go out on the wire (see the file comment:
 * ARP replies and ICMPv6 neighbour advertisements do not). Frames too short to be Ethernet
 * are refused. Pure.
 */
bool host_frame_may_leave(std::span<const uint8_t> frame) noexcept;

class HostTap {
public:
    /**
     * Creates the TAP interface, sets its MAC, MTU, address and gateway, and brings it up.
     * Needs CAP_NET_ADMIN. IPv6 is disabled on the interface unless the address is IPv6, so
     * that the kernel does not chatter (router solicitations, MLD) on the segment.
     * @return the TAP, or an error naming the interface and the step that failed
     */
    static Result<std::unique_ptr<HostTap>> create(const HostTapSettings& settings);
    ~HostTap();
    HostTap(const HostTap&) = delete;
    HostTap& operator=(const HostTap&) = delete;

    /** Readable when the kernel has transmitted frames (for the control loop's epoll). */
    int fd() const noexcept { return fd_; }
    const std::string& name() const noexcept { return name_; }

    /** Hands one frame to the kernel. @return false when the kernel refused it (counted) */
    bool to_kernel(std::span<const uint8_t> frame) noexcept;

    /**
     * Reads one frame the kernel transmitted into buf.
     * @return its length, or 0 when there is none (non-blocking)
     */
    size_t from_kernel(std::span<uint8_t> buf) noexcept;

    uint64_t to_kernel_frames() const noexcept { return to_kernel_; }
    uint64_t to_kernel_errors() const noexcept { return to_kernel_errors_; }
    uint64_t from_kernel_frames() const noexcept { return from_kernel_; }

private:
    HostTap(int fd, std::string name) noexcept : fd_(fd), name_(std::move(name)) {}

    int fd_;
    std::string name_;
    uint64_t to_kernel_ = 0;
    uint64_t to_kernel_errors_ = 0;
    uint64_t from_kernel_ = 0;
};

}  // namespace director::ctl
