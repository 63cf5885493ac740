// SPDX-License-Identifier: BSD-3-Clause
#include "control/eal_args.h"

#include <cctype>

namespace director::ctl {

bool is_pci_address(const std::string& d) {
    // [DDDD:]BB:DD.F with hex digits
    auto hex = [&](size_t from, size_t n) {
        for (size_t i = from; i < from + n; ++i) {
            if (i >= d.size() || !std::isxdigit(static_cast<unsigned char>(d[i]))) {
                return false;
            }
        }
        return true;
    };
    const size_t off = d.size() == 12 ? 5 : 0;
    if (d.size() != 12 && d.size() != 7) {
        return false;
    }
    if (off == 5 && (!hex(0, 4) || d[4] != ':')) {
        return false;
    }
    return hex(off, 2) && d[off + 2] == ':' && hex(off + 3, 2) && d[off + 5] == '.' &&
           hex(off + 6, 1);
}

std::string eal_device_arg(const std::string& device, unsigned queues) {
    const std::string name = device.substr(0, device.find(','));
    if (name.rfind("net_af_packet", 0) == 0 && device.find("qpairs=") == std::string::npos) {
        return device + ",qpairs=" + std::to_string(queues);
    }
    return device;
}

std::vector<std::string> eal_args(const config::Config& cfg, const std::string& program) {
    std::vector<std::string> a{program};
    std::string lcores = std::to_string(cfg.dpdk.control_lcore);
    for (uint32_t w : cfg.dpdk.worker_lcores) {
        lcores += "," + std::to_string(w);
    }
    a.insert(a.end(), {"-l", lcores, "--main-lcore", std::to_string(cfg.dpdk.control_lcore),
                       "--file-prefix", cfg.dpdk.file_prefix});
    if (cfg.dpdk.hugepages) {
        // --in-memory leaves no rtemap files behind after an unclean exit (they would leak
        // hugepages) and needs no hugetlbfs mount of ours.
        a.emplace_back("--in-memory");
    } else {
        a.insert(a.end(), {"--no-huge", "-m", std::to_string(cfg.dpdk.memory_mb), "--no-shconf"});
    }
    const unsigned queues = static_cast<unsigned>(cfg.dpdk.worker_lcores.size()) + 1;
    bool any_pci = false;
    for (const auto& port : cfg.ports) {
        // A PCI device may carry device arguments ("0000:01:00.0,rxq_cqe_comp_en=0"), which
        // -a takes as they are; dp::find_port looks the port up by the part before ','.
        if (is_pci_address(port.device.substr(0, port.device.find(',')))) {
            a.insert(a.end(), {"-a", port.device});
            any_pci = true;
        } else {
            a.insert(a.end(), {"--vdev", eal_device_arg(port.device, queues)});
        }
    }
    if (!any_pci) {
        a.emplace_back("--no-pci");
    }
    if (cfg.global.log_level != config::LogLevel::Debug) {
        a.emplace_back("--log-level=lib.*:warning");
        a.emplace_back("--log-level=pmd.*:warning");
    }
    a.insert(a.end(), cfg.dpdk.eal_args.begin(), cfg.dpdk.eal_args.end());
    return a;
}

}  // namespace director::ctl
