// SPDX-License-Identifier: BSD-3-Clause
// The control lcore's VRRP speaker: runs lib/vrrp's instances (and sync groups) against the
// wire. Adverts arrive as frames punted by the workers; adverts, priority-0 adverts and GARP
// bursts leave on the control lcore's own tx queue. A state change moves VIP ownership (the
// ARP/ND responder answers for a VIP only while its instance is MASTER) and runs the notify
// scripts without blocking the loop. Port link state (set_port_link) puts the instances that
// track a port in FAULT; a reload (reconfigure) reconciles instance by instance, so that a
// MASTER whose identity did not change stays MASTER.
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
                                                       ControlTx& tx, NeighbourService& neighbours);

    /** Starts every instance (Backup, or Master at once for an address owner). */
    void start(vrrp::TimePoint now);

    /** A frame a worker punted as VRRP (IP protocol 112). */
    void on_frame(uint16_t port, std::span<const uint8_t> frame, vrrp::TimePoint now);

    /** Runs due timers and reaps notify scripts. Call every loop iteration. */
    void poll(vrrp::TimePoint now);

    /** Clean stop: a MASTER sends priority 0 so its peer takes over at once (skew time). */
    void shutdown(vrrp::TimePoint now);

    /**
     * Link state of a port, as rte_eth_link_get_nowait reports it. While a port an instance
     * tracks (`track_ports`, or its own `interface`) is down, the instance is in FAULT
     * (keepalived track_interface with weight 0): a MASTER sends a priority-0 advert first and
     * stops answering for its VIPs; its sync group follows. When every tracked port is up
     * again it returns to BACKUP (an owner: MASTER). Repeating the same state is a no-op, so
     * the caller may report every port on every poll; only changes are logged. May be called
     * before start(): an instance whose port is down then starts in FAULT.
     *
     * Caller: control lcore.
     *
     * @param port_id  a started port (NeighPort::port_id); unknown ids are ignored
     */
    void set_port_link(uint16_t port_id, bool up, vrrp::TimePoint now);

    /**
     * What reconfigure() would check, without changing anything: every instance builds (source
     * address, VRID, interval, ...), sync groups are consistent, interfaces are started ports.
     * Caller: control lcore, during a reload, before anything of it is applied.
     */
    Result<void> check(const config::Config& config, std::span<const NeighPort> ports) const;

    /**
     * Applies a reloaded configuration instance by instance (vrrp::InstanceSet::reconfigure):
     * an instance with the same name, interface, VRID, version and family keeps its state (a
     * MASTER stays MASTER: no priority 0, no state change) and takes its new priority, advert
     * interval, VIPs, preempt, auth, GARP settings, notify scripts and track_ports in place; a
     * MASTER whose advert changed sends one at once, and GARPs its added VIPs
     * (garp_master_repeat each). Removed instances shut down (priority 0 from a MASTER, notify
     * STOP); new ones start. Instance indices follow the new config.vrrp_instances order, and
     * VIP ownership is re-applied for every instance (NeighbourService::set_master), so call
     * NeighbourService::configure for the new configuration right after (or before) this one:
     * removed VIPs stop being answered once ownership is rebuilt.
     *
     * Caller: control lcore.
     *
     * @return an error (as check()) and nothing changed, or success
     */
    Result<void> reconfigure(const config::Config& config, std::span<const NeighPort> ports,
                             vrrp::TimePoint now);

    /** Adverts rejected, by reason (index vrrp::Reject). */
    std::span<const uint64_t> rejects() const noexcept { return rejects_; }
    uint64_t adverts_sent() const noexcept { return adverts_sent_; }
    uint64_t adverts_received() const noexcept { return adverts_received_; }
    const vrrp::InstanceSet& instances() const noexcept { return set_; }

private:
    VrrpService(vrrp::InstanceSet set, ControlTx& tx, NeighbourService& neighbours)
        : set_(std::move(set)), tx_(tx), neighbours_(neighbours) {}

    struct Binding {
        uint16_t port_id = 0;
        net::MacAddress mac;
        uint16_t ip_id = 0;  // IPv4 identification of our adverts, as keepalived counts it
    };

    /** Binds every instance of `set` to its started port; an error names the first unbound. */
    static Result<std::vector<Binding>> bind(const vrrp::InstanceSet& set,
                                             const config::Config& config,
                                             std::span<const NeighPort> ports);
    static Result<std::vector<Binding>> bind(std::span<const vrrp::InstanceConfig> instances,
                                             const config::Config& config,
                                             std::span<const NeighPort> ports);

    void apply(const vrrp::Output& out, vrrp::TimePoint now);
    void apply_actions(std::size_t instance, const vrrp::InstanceConfig& cfg, Binding& binding,
                       const std::vector<vrrp::Action>& actions, vrrp::TimePoint now);
    void send_advert(const vrrp::InstanceConfig& cfg, Binding& binding, uint8_t priority);
    void send_garps(std::size_t instance, uint32_t repeat);
    std::optional<uint16_t> port_id(const std::string& name) const;
    void notify(vrrp::NotifyScope scope, const std::string& name,
                const vrrp::NotifyScripts& scripts, vrrp::State to, uint8_t priority,
                vrrp::TimePoint now);

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
