// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/port.h"

#include <rte_errno.h>

#include <cstring>

namespace director::dp {

namespace {

std::string port_error(uint16_t port_id, const char* call, int rc) {
    return "port " + std::to_string(port_id) + ": " + call + " failed: " +
           rte_strerror(rc < 0 ? -rc : rc);
}

}  // namespace

Result<uint16_t> find_port(const std::string& device) {
    // EAL names a vdev port by the word before its first comma ("net_pcap0,rx_pcap=..." is
    // "net_pcap0"); a PCI port by its address.
    const std::string name = device.substr(0, device.find(','));
    uint16_t port_id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0) {
        return make_error("device '" + name + "' is not a probed DPDK port (check the device " +
                          "string, the vfio binding, or EAL's log above)");
    }
    return port_id;
}

Result<std::string> driver_name(uint16_t port_id) {
    rte_eth_dev_info info{};
    const int rc = rte_eth_dev_info_get(port_id, &info);
    if (rc != 0) {
        return make_error(port_error(port_id, "rte_eth_dev_info_get", rc));
    }
    return std::string(info.driver_name != nullptr ? info.driver_name : "");
}

Result<PortInfo> start_port(const PortSetup& s) {
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(s.port_id, &info);
    if (rc != 0) {
        return make_error(port_error(s.port_id, "rte_eth_dev_info_get", rc));
    }
    if (s.rx_queues > info.max_rx_queues || s.tx_queues > info.max_tx_queues) {
        return make_error("port " + std::to_string(s.port_id) + " (" + info.driver_name +
                          "): needs " + std::to_string(s.rx_queues) + " rx / " +
                          std::to_string(s.tx_queues) + " tx queues, the device offers " +
                          std::to_string(info.max_rx_queues) + " / " +
                          std::to_string(info.max_tx_queues) +
                          " (vdevs: add queues in the device arguments, e.g. qpairs= or a " +
                          "second tx_pcap=)");
    }

    PortInfo out;
    out.driver_name = info.driver_name;
    rte_eth_conf conf{};
    const uint64_t rss = s.rx_queues > 1 ? (s.rss_hash_fields & info.flow_type_rss_offloads) : 0;
    std::vector<uint8_t> key = s.rss_key;
    if (rss != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
        if (!key.empty()) {
            conf.rx_adv_conf.rss_conf.rss_key = key.data();
            conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(key.size());
        }
    }
    out.rss_hash_fields = rss;
    conf.txmode.offloads = s.tx_offloads & info.tx_offload_capa;

    rc = rte_eth_dev_configure(s.port_id, s.rx_queues, s.tx_queues, &conf);
    if (rc != 0) {
        return make_error(port_error(s.port_id, "rte_eth_dev_configure", rc));
    }
    uint16_t nb_rxd = s.rx_descriptors;
    uint16_t nb_txd = s.tx_descriptors;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(s.port_id, &nb_rxd, &nb_txd);
    if (rc != 0) {
        return make_error(port_error(s.port_id, "rte_eth_dev_adjust_nb_rx_tx_desc", rc));
    }
    const int socket = rte_eth_dev_socket_id(s.port_id);
    const unsigned sock = socket < 0 ? 0u : static_cast<unsigned>(socket);
    for (uint16_t q = 0; q < s.rx_queues; ++q) {
        rte_eth_rxconf rxconf = info.default_rxconf;
        rc = rte_eth_rx_queue_setup(s.port_id, q, nb_rxd, sock, &rxconf, s.pool);
        if (rc != 0) {
            return make_error(port_error(s.port_id, "rte_eth_rx_queue_setup", rc));
        }
    }
    for (uint16_t q = 0; q < s.tx_queues; ++q) {
        rte_eth_txconf txconf = info.default_txconf;
        txconf.offloads = conf.txmode.offloads;
        rc = rte_eth_tx_queue_setup(s.port_id, q, nb_txd, sock, &txconf);
        if (rc != 0) {
            return make_error(port_error(s.port_id, "rte_eth_tx_queue_setup", rc));
        }
    }
    rc = rte_eth_dev_start(s.port_id);
    if (rc != 0) {
        return make_error(port_error(s.port_id, "rte_eth_dev_start", rc));
    }
    // Not every virtual PMD implements all-multicast; frames still arrive on those that pass
    // everything (af_packet, pcap), so a refusal is not fatal.
    (void)rte_eth_allmulticast_enable(s.port_id);

    rte_ether_addr mac{};
    rc = rte_eth_macaddr_get(s.port_id, &mac);
    if (rc != 0) {
        return make_error(port_error(s.port_id, "rte_eth_macaddr_get", rc));
    }
    std::memcpy(out.mac.bytes.data(), mac.addr_bytes, 6);
    return out;
}

void stop_port(uint16_t port_id) noexcept {
    (void)rte_eth_dev_stop(port_id);
    (void)rte_eth_dev_close(port_id);
}

}  // namespace director::dp
