// SPDX-License-Identifier: BSD-3-Clause
#include "health/detail/socket.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace director::health::detail {

socklen_t to_sockaddr(const net::IpAddress& address, uint16_t port, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof(ss));
    if (address.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, address.bytes(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, address.bytes(), 16);
    return sizeof(sockaddr_in6);
}

ConnectStart start_connect(const CheckSpec& spec, int type) {
    ConnectStart r;
    const int family = spec.address.is_v4() ? AF_INET : AF_INET6;
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r.error = errno;
        r.step = "socket";
        return r;
    }
    const auto fail = [&](const char* step) {
        r.error = errno;
        r.step = step;
        ::close(fd);
        return r;
    };
    if (spec.bindto || spec.bind_port) {
        if (spec.bind_port) {
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        }
        sockaddr_storage local{};
        // No bindto: the family's any-address (IpAddress() is 0.0.0.0; :: for IPv6).
        net::IpAddress any;
        if (!spec.address.is_v4()) {
            const uint8_t zero[16] = {};
            any = net::IpAddress::v6_bytes(zero);
        }
        const socklen_t len =
            to_sockaddr(spec.bindto.value_or(any), spec.bind_port.value_or(0), local);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), len) != 0) {
            return fail("bind");
        }
    }
    sockaddr_storage remote{};
    const socklen_t len = to_sockaddr(spec.address, spec.port, remote);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&remote), len) != 0) {
        if (errno != EINPROGRESS) {
            return fail("connect");
        }
        r.in_progress = true;
    }
    r.fd = fd;
    return r;
}

int socket_error(int fd) noexcept {
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
    }
    return err;
}

std::string errno_text(const char* step, int err) {
    return std::string(step) + ": " + std::strerror(err);
}

void WatchedSocket::adopt(int fd) noexcept {
    reset();
    fd_ = fd;
}

void WatchedSocket::watch(uint32_t events) {
    if (fd_ < 0 || io_ == nullptr || (watched_ && events == events_)) {
        return;
    }
    io_->watch(fd_, events);
    events_ = events;
    watched_ = true;
}

void WatchedSocket::reset() noexcept {
    if (fd_ < 0) {
        return;
    }
    if (watched_ && io_ != nullptr) {
        io_->unwatch(fd_);
    }
    ::close(fd_);
    fd_ = -1;
    events_ = 0;
    watched_ = false;
}

}  // namespace director::health::detail
