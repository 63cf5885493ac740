// SPDX-License-Identifier: BSD-3-Clause
// Socket plumbing shared by the probes: non-blocking, close-on-exec sockets (so that MISC_CHECK
// and notify scripts never inherit them), optional bindto/bind_port, connect started without
// waiting, and a watched-socket owner that always unwatches before it closes.
//
// Caller: control lcore. Private to lib/health.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "health/probe.h"
#include "health/spec.h"

namespace director::health::detail {

/** Fills ss with address:port; @return the sockaddr length */
socklen_t to_sockaddr(const net::IpAddress& address, uint16_t port, sockaddr_storage& ss);

/** How a non-blocking connect began. */
struct ConnectStart {
    int fd = -1;               ///< the socket, or -1 when error != 0
    int error = 0;             ///< errno of socket/bind/connect; 0 = connected or in progress
    bool in_progress = false;  ///< EINPROGRESS: wait for EPOLLOUT
    const char* step = "";     ///< "socket", "bind", "connect" when error != 0
};

/**
 * Creates a non-blocking socket of `type` (SOCK_STREAM / SOCK_DGRAM), binds it to
 * spec.bindto / spec.bind_port when set, and starts connecting to spec.address:spec.port.
 */
ConnectStart start_connect(const CheckSpec& spec, int type);

/** The pending error of a socket (SO_ERROR), or errno of getsockopt. */
int socket_error(int fd) noexcept;

/** "connect: Connection refused" */
std::string errno_text(const char* step, int err);

/** A socket registered with an IoWatcher: unwatched, then closed, on reset and destruction. */
class WatchedSocket {
public:
    WatchedSocket() = default;
    explicit WatchedSocket(IoWatcher* io) noexcept : io_(io) {}
    ~WatchedSocket() { reset(); }
    WatchedSocket(const WatchedSocket&) = delete;
    WatchedSocket& operator=(const WatchedSocket&) = delete;

    /** Takes ownership of fd (closing any previous one). */
    void adopt(int fd) noexcept;
    /** Registers or updates the interest set; no system call when unchanged. */
    void watch(uint32_t events);
    /** Unwatches and closes. */
    void reset() noexcept;

    int fd() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    IoWatcher* io_ = nullptr;
    int fd_ = -1;
    uint32_t events_ = 0;
    bool watched_ = false;
};

}  // namespace director::health::detail
