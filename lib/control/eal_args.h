// SPDX-License-Identifier: BSD-3-Clause
// Builds rte_eal_init's argument vector from the configuration's `dpdk` and `ports` sections,
// so that the whole start-up is described by director.yaml and testable without EAL.
//
// Caller: main() before rte_eal_init. Pure function.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace director::ctl {

/** True for a PCI address ("0000:01:00.0" or "01:00.0"), false for a vdev string. */
bool is_pci_address(const std::string& device);

/**
 * The device string EAL gets for a port: a vdev gains its queue-count argument (e.g.
 * af_packet's qpairs=) when it does not set one, so that every worker and the control lcore
 * get a queue.
 */
std::string eal_device_arg(const std::string& device, unsigned queues);

/**
 * argv for rte_eal_init: program name, lcores, file prefix, memory mode (hugepages with
 * --in-memory, or --no-huge -m N --no-shconf), devices (-a PCI, --vdev, or --no-pci when there
 * is no PCI port), log level, then dpdk.eal_args verbatim.
 */
std::vector<std::string> eal_args(const config::Config& cfg, const std::string& program);

}  // namespace director::ctl
