// SPDX-License-Identifier: BSD-3-Clause
// The control lcore's VRRP speaker: runs lib/vrrp's instances (and sync groups) against the
// wire. Adverts arrive as frames punted by the workers; adverts, priority-0 adverts and GARP
// bursts leave on the control lcore's own tx queue. A state change moves VIP ownership (the
// ARP/ND responder answers for a VIP only while its instance is MASTER) and runs the notify
// scripts without blocking the loop.
//
// Caller: control lcore only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "control/control_tx.h"
#include "control/neighbours.h"
#include "vrrp/clock.h"
#include "vrrp/notify_runner.h"
#include "vrrp/reject.h"
#include "vrrp/sync_group.h"

namespace director::ctl {

class VrrpService {
public:
    /**
     * @param config  the running configuration (instances, sync groups, ports)
     * @param ports   the started ports in config.ports order (id, MAC, address)
     */
    static Result<std::unique_ptr<VrrpService>> create(const config::Config& config,
                                                       std::span<const NeighPort> ports,
                                                       ControlTx& tx,
                                                       NeighbourService& neighbours);

    /** Starts every instance (Backup, or Master at once for an address owner). */
    void start(vrrp::TimePoint now);

    /** A frame a worker punted as VRRP (IP protocol 112). */
    void on_frame(uint16_t port, std::span<const uint8_t> frame, vrrp::TimePoint now);

    /** Runs due timers and reaps notify scripts. Call every loop iteration. */
    void poll(vrrp::TimePoint now);

    /** Clean stop: a MASTER sends priority 0 so its peer takes over at once (skew time). */
    void shutdown(vrrp::TimePoint now);

    /** Adverts rejected, by reason (index vrrp::Reject). */
    std::span<const uint64_t> rejects() const noexcept { return rejects_; }
    uint64_t adverts_sent() const noexcept { return adverts_sent_; }
    uint64_t adverts_received() const noexcept { return adverts_received_; }
    const vrrp::InstanceSet& instances() const noexcept { return set_; }

private:
    VrrpService(vrrp::InstanceSet set, ControlTx& tx, NeighbourService& neighbours)
        : set_(std::move(set)), tx_(tx), neighbours_(neighbours) {}

    void apply(const vrrp::Output& out, vrrp::TimePoint now);
    void send_advert(std::size_t instance, uint8_t priority);
    void send_garps(std::size_t instance, uint32_t repeat);
    void notify(vrrp::NotifyScope scope, const std::string& name,
                const vrrp::NotifyScripts& scripts, vrrp::State to, uint8_t priority,
                vrrp::TimePoint now);

    struct Binding {
        uint16_t port_id = 0;
        net::MacAddress mac;
        uint16_t ip_id = 0;  // IPv4 identification of our adverts, as keepalived counts it
    };

    vrrp::InstanceSet set_;
    ControlTx& tx_;
    NeighbourService& neighbours_;
    std::vector<Binding> bindings_;  // per instance
    std::vector<NeighPort> ports_;
    std::vector<std::string> port_names_;
    vrrp::ScriptRunner scripts_;
    std::array<uint64_t, vrrp::kRejectCount> rejects_{};
    uint64_t adverts_sent_ = 0;
    uint64_t adverts_received_ = 0;
};

}  // namespace director::ctl
