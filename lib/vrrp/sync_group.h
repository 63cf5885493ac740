// SPDX-License-Identifier: BSD-3-Clause
// All VRRP instances of the director and the sync groups that tie some of them together
// (keepalived.md §1.3, vrrp_sync.c). InstanceSet owns the instances, dispatches events to
// them, and coordinates each group's members so that they move together:
//   - any member in FAULT puts every member in FAULT; they leave it together when no member
//     has a fault of its own any more ("VRRP_Group(G) Syncing instances to FAULT state");
//   - a member whose Master_Down_Timer fires does not become MASTER on its own: it asks
//     (RequestMaster) and waits in BACKUP; when every member wants MASTER (or already is), all
//     go MASTER together (vrrp_sync_can_goto_master: "prefer backup to avoid thrashing");
//   - a member that goes from MASTER to BACKUP (a higher-priority peer) takes the others with
//     it ("Syncing instances to BACKUP state"), without priority-0 adverts;
//   - a member that answers a lower-priority master with GARPs makes the others re-GARP too.
// The coordination is a thin layer over the pure per-instance step(): the follow-up events it
// generates are ordinary Events (SyncFault, SyncPromote, SyncDemote, SyncLowerPrioGarp).
//
// A group's own state (for its notify scripts) is derived from its members: FAULT if any member
// is in FAULT, MASTER if all are MASTER, INIT (stopped) if all are INIT, BACKUP otherwise.
//
// Caller: control lcore only; single-threaded, no I/O (the shell performs the Actions).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "vrrp/instance.h"
#include "vrrp/notify.h"

namespace director::vrrp {

/** A sync group: its members (indices into the InstanceSet) and scripts. */
struct GroupConfig {
    std::string name;
    std::vector<std::size_t> members;
    NotifyScripts notify;
};

/** What one instance must do. */
struct InstanceOutput {
    std::size_t instance;
    Actions actions;
};

/** A group's derived state changed: run notify_specs(Group, name, notify_state(to), 0). */
struct GroupStateChanged {
    std::size_t group;
    State from;
    State to;
    friend bool operator==(const GroupStateChanged&, const GroupStateChanged&) = default;
};

/** Everything one call produced, in the order it must be carried out. */
struct Output {
    std::vector<InstanceOutput> instances;
    std::vector<GroupStateChanged> groups;
    std::optional<TimePoint> next_deadline;  ///< of the whole set

    /** All actions of one instance, in order, concatenated. */
    std::vector<Action> actions_of(std::size_t instance) const;
};

/** An instance a reload removed, and what its shutdown asks the shell to do. */
struct RemovedInstance {
    std::size_t previous;   ///< its index before the reload
    InstanceConfig config;  ///< its configuration (advert content, notify scripts)
    Actions actions;        ///< Shutdown: a priority-0 advert from a MASTER, StateChanged to Init
};

/** A kept instance whose virtual addresses changed (a MASTER GARPs the added ones). */
struct VipChange {
    std::size_t instance;  ///< index after the reload
    std::vector<net::IpAddress> added;
    std::vector<net::IpAddress> removed;
};

/** What InstanceSet::reconfigure did, in the order the shell must carry it out. */
struct Reconfigured {
    std::vector<RemovedInstance> removed;  ///< first: removed instances shut down
    /// Per instance after the reload: its index before, or nullopt for a new instance.
    std::vector<std::optional<std::size_t>> previous;
    std::vector<VipChange> vip_changes;
    Output output;  ///< then: in-place changes, fault changes, new instances started
};

class InstanceSet {
public:
    /**
     * Builds the set.
     *
     * @param instances  the instances (their sync_group field is filled in here)
     * @param groups     vrrp_sync_group entries naming instances by name
     * @return an error for an unknown member, a member in two groups, two instances with the
     *         same name, or two with the same (interface, family, VRID); a group's notify
     *         scripts that do not parse
     */
    static Result<InstanceSet> create(std::vector<InstanceConfig> instances,
                                      std::span<const config::VrrpSyncGroup> groups);

    /**
     * Builds the set straight from a validated configuration, with source_address() for every
     * instance (so IPv6 instances need unicast_src_ip here).
     */
    static Result<InstanceSet> create(const config::Config& c);

    std::size_t size() const noexcept { return instances_.size(); }
    const InstanceConfig& config(std::size_t i) const { return instances_.at(i).config(); }
    const InstanceState& state(std::size_t i) const { return instances_.at(i).state(); }

    std::size_t group_count() const noexcept { return groups_.size(); }
    const GroupConfig& group(std::size_t g) const { return groups_.at(g); }
    State group_state(std::size_t g) const { return group_states_.at(g); }
    /** The group instance i belongs to, if any. */
    std::optional<std::size_t> group_of(std::size_t i) const { return group_of_.at(i); }

    /** Instance by name. */
    std::optional<std::size_t> find(std::string_view name) const noexcept;
    /**
     * The instance a received advert belongs to (keepalived vrrp_index_lookup): VRIDs are
     * unique per interface and family. Use peek() for the family and VRID.
     */
    std::optional<std::size_t> find(std::string_view interface, net::Family family,
                                    uint8_t vrid) const noexcept;

    /** Start every instance (in configuration order). */
    Output start(TimePoint now);
    /** Deliver one event to instance i, then coordinate its group. */
    Output handle(std::size_t i, const Event& e, TimePoint now);
    /** Fire every instance whose deadline is <= now. */
    Output on_timer(TimePoint now);
    /** Shut every instance down (masters send priority 0). */
    Output shutdown(TimePoint now);
    /** Earliest deadline over all instances. */
    std::optional<TimePoint> next_deadline() const noexcept;

    /**
     * Link state of a port (keepalived track_interface with weight 0, and the instance's own
     * interface): while any port an instance tracks is down, the instance is in FAULT — a
     * MASTER sends priority 0 first — and its sync group follows; when all are up again it
     * leaves FAULT for BACKUP (an owner: MASTER). Idempotent: repeating a state does nothing,
     * so the shell may report every poll. Works before start() too (Start then enters FAULT).
     *
     * @param port  a port name (InstanceConfig::interface / track_ports)
     */
    Output set_port_link(std::string_view port, bool up, TimePoint now);

    /** Whether set_port_link last reported the port down. */
    bool port_down(std::string_view port) const noexcept;

    /**
     * Reloads the set instance by instance, as keepalived's reload does. Instances are matched
     * by same_identity() (name, interface, VRID, version, family):
     *   - a kept instance keeps its state, with vrrp::reconfigure() applying what changed (no
     *     flap, no priority 0); its faults are re-derived from link state and new track_ports;
     *   - a removed instance shuts down (a MASTER sends priority 0): Reconfigured::removed;
     *   - a new instance starts (if the set was started), in FAULT if a tracked port is down;
     *   - sync groups are rebuilt from `groups`; members' FAULT is re-synchronised at once, and
     *     a group's state carries over by name (a notify runs only if it really changed).
     * Instances are re-indexed in the new configuration's order.
     *
     * @return what to do, or the error create() would give; on error nothing changes
     */
    Result<Reconfigured> reconfigure(std::vector<InstanceConfig> instances,
                                     std::span<const config::VrrpSyncGroup> groups, TimePoint now);

    /** reconfigure() from a validated configuration (source addresses as create(c)). */
    Result<Reconfigured> reconfigure(const config::Config& c, TimePoint now);

    /** Builds the instances of a configuration without applying them (a reload's check). */
    static Result<std::vector<InstanceConfig>> instance_configs(const config::Config& c);

private:
    InstanceSet() = default;
    void apply(std::size_t i, const Event& e, TimePoint now, Output& out);
    void deliver(std::size_t i, const Event& e, TimePoint now, Output& out);
    void coordinate(std::size_t g, std::size_t i, const Actions& a, TimePoint now, Output& out);
    State derive_group_state(std::size_t g) const;
    void finish(Output& out);
    bool tracks_down_port(std::size_t i) const;
    void refresh_faults(TimePoint now, Output& out);

    std::vector<Instance> instances_;
    std::vector<std::optional<std::size_t>> group_of_;
    std::vector<GroupConfig> groups_;
    std::vector<State> group_states_;
    std::set<std::string, std::less<>> down_ports_;
    bool started_ = false;
};

}  // namespace director::vrrp
