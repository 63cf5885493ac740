// SPDX-License-Identifier: BSD-3-Clause
// From configuration (plus health verdicts and resolved MACs) to the workers' immutable
// lb::Snapshot. Services and real servers get stable dense ids that survive every new
// snapshot, reloads included, so that per-core connection entries keep pointing at the same
// real server (STYLE H9, C6).
//
// Caller: control lcore only. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "lb/snapshot.h"
#include "net/addr.h"

namespace director::ctl {

/** Health of one real server as the checkers see it (all up until health checks run). */
struct RealHealth {
    bool up = true;
    std::optional<uint32_t> weight;  ///< overrides the configured weight (MISC_CHECK dynamic)
};

/** Where the control plane's other parts plug in their view of a real server. */
struct RealSources {
    /// Health verdict for (virtual server index, real server index); default: up.
    std::function<RealHealth(size_t vs, size_t rs)> health;
    /// Whether virtual server vs's sorry server replaces its real servers (quorum lost, as
    /// health::ServiceDecision::sorry_active); default: never.
    std::function<bool(size_t vs)> sorry_active;
    /// Resolved MAC of an address on a port (neighbour table); nullopt = unknown.
    std::function<std::optional<net::MacAddress>(uint16_t port_id, const net::IpAddress&)> mac;
};

/** A configured port as the snapshot builder needs it. */
struct PortRoute {
    uint16_t port_id = 0;
    std::optional<net::Prefix> address;
};

/**
 * Hands out stable ids: a service is identified by (VIP, port, protocol), a real server by
 * (service, address, port). Ids of things that disappear are not reused until every other id
 * is taken, so a stale per-core entry cannot silently point at a different server.
 */
class IdRegistry {
public:
    uint32_t service_id(const net::IpAddress& vip, uint16_t port, config::Protocol proto);
    uint32_t real_id(uint32_t service_id, const net::IpAddress& addr, uint16_t port);
    /** Forgets every id not handed out since the last call (after a publication). */
    void release_unused();
    size_t services() const noexcept { return services_.size(); }
    size_t reals() const noexcept { return reals_.size(); }

private:
    using ServiceKey = std::tuple<net::IpAddress, uint16_t, config::Protocol>;
    using RealKey = std::tuple<uint32_t, net::IpAddress, uint16_t>;
    struct Slot {
        uint32_t id;
        bool used;
    };
    static uint32_t take(std::vector<uint32_t>& free_ids, uint32_t& next, uint32_t limit);

    std::map<ServiceKey, Slot> services_;
    std::map<RealKey, Slot> reals_;
    std::vector<uint32_t> free_services_;
    std::vector<uint32_t> free_reals_;
    uint32_t next_service_ = 0;
    uint32_t next_real_ = 0;
};

/**
 * Builds snapshots from a Config; remembers each service's last real set so that a service's
 * generation changes exactly when its reals, weights or states change (which resets per-core
 * rr/wrr state, as IPVS does on a dest update).
 */
class SnapshotFactory {
public:
    /**
     * @param config   the running configuration
     * @param ports    port ids and addresses, in config.ports order
     * @param sources  health and neighbour views
     * @param previous the snapshot being replaced (Maglev tables of unchanged services are
     *                 reused), or null
     */
    Result<std::unique_ptr<lb::Snapshot>> build(const config::Config& config,
                                                std::span<const PortRoute> ports,
                                                const RealSources& sources,
                                                const lb::Snapshot* previous);

    /** The specs of the last successful build (introspection, tests). */
    const std::vector<lb::ServiceSpec>& last_specs() const noexcept { return last_specs_; }

    IdRegistry& ids() noexcept { return ids_; }

private:
    IdRegistry ids_;
    std::map<uint32_t, std::pair<uint32_t, std::vector<lb::RealSpec>>> generations_;
    std::vector<lb::ServiceSpec> last_specs_;
};

/** The lb scheduler kind of a configured algorithm. */
lb::SchedulerKind scheduler_kind(config::LbAlgo algo) noexcept;

}  // namespace director::ctl
