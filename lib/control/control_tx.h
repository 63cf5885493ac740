// SPDX-License-Identifier: BSD-3-Clause
// ControlTx: the control lcore's own transmit path. Each port has one tx queue for the control
// lcore (the last one; workers own the others), so ARP replies, GARPs, probes and VRRP adverts
// never share a queue with a worker and need no lock.
//
// Caller: control lcore only.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <span>

namespace director::ctl {

class ControlTx {
public:
    /** @param pool mbufs for outgoing frames; @param queue the control tx queue index */
    ControlTx(rte_mempool* pool, uint16_t queue) noexcept : pool_(pool), queue_(queue) {}

    /**
     * Copies a frame into a new mbuf and transmits it on port's control queue.
     * @return false when no mbuf was free or the queue refused it (counted in failures())
     */
    bool send(uint16_t port, std::span<const uint8_t> frame) noexcept;

    uint64_t sent() const noexcept { return sent_; }
    uint64_t failures() const noexcept { return failures_; }

private:
    rte_mempool* pool_;
    uint16_t queue_;
    uint64_t sent_ = 0;
    uint64_t failures_ = 0;
};

}  // namespace director::ctl
