// SPDX-License-Identifier: BSD-3-Clause
#include "control/control_tx.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstring>

namespace director::ctl {

bool ControlTx::send(uint16_t port, std::span<const uint8_t> frame) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
        ++failures_;
        return false;
    }
    char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    if (data == nullptr) {
        rte_pktmbuf_free(m);
        ++failures_;
        return false;
    }
    std::memcpy(data, frame.data(), frame.size());
    if (rte_eth_tx_burst(port, queue_, &m, 1) != 1) {
        rte_pktmbuf_free(m);
        ++failures_;
        return false;
    }
    ++sent_;
    return true;
}

}  // namespace director::ctl
