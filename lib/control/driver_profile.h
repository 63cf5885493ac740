// SPDX-License-Identifier: BSD-3-Clause
// Driver profiles (drivers-conf/<name>.yaml): per-NIC queue, descriptor, RSS and offload
// settings, picked by name or, with `profile: auto`, by the PMD's driver name. RSS hashes on
// IP addresses only when a service is persistent, so that one client always reaches the same
// worker (and so its persistence entry).
//
// Caller: control lcore at start-up. Reads files; no other side effects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace director::ctl {

struct DriverProfile {
    std::string name;                 ///< file stem, e.g. "i40e"
    std::vector<std::string> match;   ///< driver names this profile applies to
    uint16_t rx_descriptors = 1024;
    uint16_t tx_descriptors = 1024;
    bool rss = false;
    std::vector<uint8_t> rss_key;     ///< empty = the PMD's default
    uint64_t rss_fields = 0;          ///< RTE_ETH_RSS_* when no service is persistent
    uint64_t rss_persistent_fields = 0;  ///< RTE_ETH_RSS_* when some service is persistent
    uint64_t tx_offloads = 0;         ///< RTE_ETH_TX_OFFLOAD_*
    std::string vdev_queue_arg;       ///< e.g. "qpairs": device argument giving the queue count
};

/** Parses one profile file; errors are `FILE:LINE:COL: message`. */
Result<DriverProfile> load_driver_profile(const std::string& path);

/**
 * Chooses the profile for a port: `name` if not "auto", else the profile in dir whose `match`
 * lists driver_name, else "default".
 */
Result<DriverProfile> select_driver_profile(const std::string& dir, const std::string& name,
                                            const std::string& driver_name);

/**
 * The drivers-conf directory: $DIRECTOR_DRIVERS_CONF, else ../drivers-conf next to the
 * executable's directory's parent (a build tree), else /usr/share/director/drivers-conf.
 */
std::string default_drivers_conf_dir();

}  // namespace director::ctl
