// SPDX-License-Identifier: BSD-3-Clause
// UDP_CHECK (keepalived check_udp.c): send the payload on a connected UDP socket. An ICMP port
// unreachable comes back as ECONNREFUSED on the socket and fails the check. Without
// require_reply, silence until connect_timeout is success and any reply is success at once;
// with it, a reply must arrive within connect_timeout, have a length within
// [min_reply_length, max_reply_length] and match the expected prefix ('X' nibbles wild).
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "health/detail/probes.h"
#include "health/detail/socket.h"

namespace director::health::detail {

namespace {

/** keepalived check_udp_reply(): compares the lesser of the reply and the pattern. */
bool reply_matches(const CheckSpec& spec, const uint8_t* data, size_t len) {
    if (len < spec.min_reply_length || len > spec.max_reply_length) {
        return false;
    }
    const size_t n = std::min(len, spec.reply.size());
    for (size_t i = 0; i < n; ++i) {
        if (((data[i] ^ spec.reply[i]) & spec.reply_mask[i]) != 0) {
            return false;
        }
    }
    return true;
}

class UdpProbe final : public Probe {
public:
    UdpProbe(const CheckSpec& spec, const ProbeContext& ctx)
        : spec_(spec), sock_(ctx.io), nonce_(ctx.nonce) {}

    std::optional<ProbeResult> start(TimePoint now) override {
        deadline_ = now + spec_.connect_timeout;
        const ConnectStart c = start_connect(spec_, SOCK_DGRAM);
        if (c.error != 0) {
            return ProbeResult::failure(errno_text(c.step, c.error));
        }
        sock_.adopt(c.fd);
        std::vector<uint8_t> random;
        const std::vector<uint8_t>* payload = &spec_.payload;
        if (spec_.payload.empty()) {
            // keepalived sends random bytes when no payload is configured.
            uint64_t x = nonce_ ^ static_cast<uint64_t>(now.time_since_epoch().count());
            for (int i = 0; i < 16; ++i) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                random.push_back(static_cast<uint8_t>(x >> 56));
            }
            payload = &random;
        }
        if (::send(sock_.fd(), payload->data(), payload->size(), MSG_NOSIGNAL) < 0) {
            const int err = errno;
            sock_.reset();
            return ProbeResult::failure(errno_text("send", err));
        }
        sock_.watch(EPOLLIN);
        return std::nullopt;
    }

    std::optional<ProbeResult> on_ready(uint32_t /*events*/, TimePoint /*now*/) override {
        // One byte more than the longest acceptable reply, to see an over-long one.
        uint8_t buf[config::kMaxUdpReplyLength + 2];
        const size_t cap = std::min<size_t>(sizeof(buf), size_t{spec_.max_reply_length} + 1);
        const ssize_t n = ::recv(sock_.fd(), buf, cap, MSG_TRUNC);
        if (n < 0) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
                return std::nullopt;
            }
            sock_.reset();
            return ProbeResult::failure(err == ECONNREFUSED ? "port unreachable"
                                                            : errno_text("recv", err));
        }
        sock_.reset();
        // MSG_TRUNC: n is the datagram's real length even when it exceeded the buffer.
        if (spec_.require_reply && !reply_matches(spec_, buf, static_cast<size_t>(n))) {
            return ProbeResult::failure("reply data mismatch");
        }
        return ProbeResult::success();
    }

    ProbeResult on_deadline(TimePoint /*now*/) override {
        sock_.reset();
        if (spec_.require_reply) {
            return ProbeResult::timeout("no reply");
        }
        return ProbeResult::success("no ICMP error");
    }

    TimePoint deadline() const override { return deadline_; }

private:
    const CheckSpec& spec_;
    WatchedSocket sock_;
    uint64_t nonce_;
    TimePoint deadline_{};
};

}  // namespace

std::unique_ptr<Probe> make_udp_probe(const CheckSpec& spec, const ProbeContext& ctx) {
    return std::make_unique<UdpProbe>(spec, ctx);
}

}  // namespace director::health::detail
