// SPDX-License-Identifier: BSD-3-Clause
// Ethernet port bring-up: queues, descriptor rings, RSS and offloads as a driver profile
// describes them (drivers-conf/), then start. One rx/tx queue pair per worker plus one tx
// queue for the control lcore (the last tx queue).
//
// Caller: control lcore during start-up and shutdown, after rte_eal_init and before workers
// run. Not thread-safe.
#pragma once

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/addr.h"

namespace director::dp {

/** How to configure one port; built by the control plane from config + driver profile. */
struct PortSetup {
    uint16_t port_id = 0;
    uint16_t rx_queues = 1;  ///< one per worker
    uint16_t tx_queues = 2;  ///< one per worker + the control lcore's
    uint16_t rx_descriptors = 1024;
    uint16_t tx_descriptors = 1024;
    uint64_t rss_hash_fields = 0;    ///< RTE_ETH_RSS_*; 0 = no RSS
    std::vector<uint8_t> rss_key;    ///< empty = the PMD's default key
    uint64_t tx_offloads = 0;        ///< RTE_ETH_TX_OFFLOAD_*, masked by what the port offers
    rte_mempool* pool = nullptr;     ///< rx buffers
};

/** What start_port found out about the port. */
struct PortInfo {
    net::MacAddress mac;
    std::string driver_name;
    uint64_t rss_hash_fields = 0;  ///< what was actually enabled (NIC capability ∩ profile)
};

/** Port id of a device by the name EAL gave it (PCI address, or the vdev's first word). */
Result<uint16_t> find_port(const std::string& device);

/** Driver name of a probed port, for `profile: auto`. */
Result<std::string> driver_name(uint16_t port_id);

/**
 * Configures queues and offloads, starts the port, enables all-multicast (VRRP adverts go to
 * 224.0.0.18 / ff02::12) and reads its MAC.
 * @return the port's facts, or an error naming the port and the failing DPDK call
 */
Result<PortInfo> start_port(const PortSetup& setup);

/** Stops and closes a started port; safe on a port that failed to start. */
void stop_port(uint16_t port_id) noexcept;

}  // namespace director::dp
