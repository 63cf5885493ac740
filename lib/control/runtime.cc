// SPDX-License-Identifier: BSD-3-Clause
#include "control/runtime.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <net/if.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "config/load.h"
#include "control/log.h"

namespace director::ctl {

namespace {

constexpr unsigned kMbufCache = 256;
constexpr unsigned kMinMbufs = 8191;
constexpr int kLoopTimeoutMs = 1;  // exception frames wait at most this long
constexpr unsigned kExceptionBurst = 64;
constexpr unsigned kHostBurst = 256;  // frames read from one exception TAP per iteration

constexpr auto kLinkPollInterval = std::chrono::milliseconds(100);

vrrp::TimePoint control_now() { return vrrp::TimePoint(neigh_now().time_since_epoch()); }

/** The SYN prober's frames leave on the control lcore's tx queue of their port. */
class ControlTxSink final : public health::FrameSink {
public:
    explicit ControlTxSink(ControlTx& tx) noexcept : tx_(tx) {}
    bool send(uint16_t port_id, std::span<const uint8_t> frame) override {
        return tx_.send(port_id, frame);
    }

private:
    ControlTx& tx_;
};

/** "net_af_packet0,iface=eth0,qpairs=2" -> "eth0"; "" for any other device. */
std::string af_packet_iface(const std::string& device) {
    if (device.rfind("net_af_packet", 0) != 0) {
        return "";
    }
    const auto at = device.find("iface=");
    if (at == std::string::npos) {
        return "";
    }
    const auto start = at + 6;
    return device.substr(start, device.find(',', start) - start);
}

/** The kernel's view of an interface: administratively up and carrier (IFF_RUNNING). */
bool kernel_link_up(const std::string& iface) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return true;
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    const bool known = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    close(fd);
    return !known || ((ifr.ifr_flags & IFF_UP) != 0 && (ifr.ifr_flags & IFF_RUNNING) != 0);
}

int launch_worker(void* arg) {
    static_cast<dp::Worker*>(arg)->run();
    return 0;
}

dp::ForwardingPolicy policy_of(const config::Forwarding& f) {
    return dp::ForwardingPolicy{.sloppy_tcp = f.sloppy_tcp,
                                .expire_nodest_conn = f.expire_nodest_conn,
                                .expire_quiescent_template = f.expire_quiescent_template};
}

lb::ConnTimeouts timeouts_of(const config::Timeouts& t) {
    auto secs = [](config::Duration d) {
        return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    };
    lb::ConnTimeouts out;
    out.established = secs(t.tcp);
    out.fin_wait = secs(t.tcp_fin);
    out.syn_recv = secs(t.tcp_syn);
    out.udp = secs(t.udp);
    return out;
}

sigset_t control_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    return set;
}

}  // namespace

void block_control_signals() {
    const sigset_t set = control_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string init_only_change(const config::Config& a, const config::Config& b) {
    if (!(a.dpdk == b.dpdk)) {
        return "dpdk";
    }
    if (!(a.tables == b.tables)) {
        return "tables";
    }
    if (!(a.timeouts == b.timeouts)) {
        return "timeouts";
    }
    if (!(a.forwarding == b.forwarding)) {
        return "forwarding";
    }
    if (!(a.ports == b.ports)) {
        return "ports";
    }
    if (a.global.metrics_listen != b.global.metrics_listen) {
        return "global.metrics_listen";
    }
    // VRRP instances and sync groups are reconciled one by one (VrrpService::reconfigure).
    return "";
}

Result<std::unique_ptr<Runtime>> Runtime::create(config::Config config, std::string config_path) {
    std::unique_ptr<Runtime> rt(new Runtime());
    rt->config_ = std::move(config);
    rt->config_path_ = std::move(config_path);
    log_init(rt->config_.global.log_level);

    const size_t workers = rt->config_.dpdk.worker_lcores.size();
    for (uint32_t lcore : rt->config_.dpdk.worker_lcores) {
        if (!rte_lcore_is_enabled(lcore)) {
            return make_error("dpdk.lcores.workers: lcore " + std::to_string(lcore) +
                              " is not enabled in EAL");
        }
    }
    // Every rx descriptor can hold an mbuf, plus what sits in tx rings, exception rings and
    // per-lcore caches.
    unsigned mbufs = 0;
    for (size_t p = 0; p < rt->config_.ports.size(); ++p) {
        mbufs += static_cast<unsigned>((4096 + 4096) * (workers + 1));
    }
    mbufs += static_cast<unsigned>(workers * (dp::ExceptionChannel::kFrameRingSize +
                                              dp::kBurstSize * dp::kMaxPorts + kMbufCache));
    mbufs = std::max(mbufs, kMinMbufs);
    if (!rt->config_.dpdk.hugepages) {
        // Without hugepages every mbuf takes a 4 KiB page of its own (about 6 KB in all):
        // stay within dpdk.memory_mb, leaving room for the tables.
        const unsigned budget = rt->config_.dpdk.memory_mb * 1024u / 6u / 2u;
        mbufs = std::min(mbufs, std::max(budget, 2047u));
    }
    rt->pool_ = rte_pktmbuf_pool_create("director_mbufs", mbufs, kMbufCache, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (rt->pool_ == nullptr) {
        return make_error("cannot create the mbuf pool (" + std::to_string(mbufs) +
                          " mbufs): " + rte_strerror(rte_errno) +
                          "; raise dpdk.memory_mb or reserve hugepages");
    }
    if (auto r = rt->start_ports(); !r) {
        return Unexpected{r.error()};
    }
    auto publisher = rcu::Publisher<lb::Snapshot>::create(static_cast<uint32_t>(workers));
    if (!publisher) {
        return Unexpected{publisher.error()};
    }
    rt->publisher_ = std::move(*publisher);
    if (auto r = rt->create_workers(); !r) {
        return Unexpected{r.error()};
    }
    // The control lcore transmits on the last tx queue of every port.
    rt->control_tx_ = std::make_unique<ControlTx>(rt->pool_, static_cast<uint16_t>(workers));
    auto neighbours = NeighbourService::create(*rt->control_tx_);
    if (!neighbours) {
        return Unexpected{neighbours.error()};
    }
    rt->neighbours_ = std::move(*neighbours);
    for (size_t i = 0; i < rt->config_.ports.size(); ++i) {
        const config::Port& cp = rt->config_.ports[i];
        rt->taps_.emplace_back();
        if (cp.exception_tap.empty()) {
            continue;
        }
        HostTapSettings ts;
        ts.name = cp.exception_tap;
        ts.mac = rt->ports_[i].info.mac;
        ts.address = cp.address;
        ts.gateway = cp.gateway;
        auto tap = HostTap::create(ts);
        if (!tap) {
            return make_error("ports[" + std::to_string(i) + "] (" + cp.name +
                              ").exception_tap: " + tap.error().message);
        }
        DIRECTOR_LOG(INFO, "port %s: exception tap %s carries %s", cp.name.c_str(),
                     cp.exception_tap.c_str(),
                     cp.address ? cp.address->to_string().c_str() : "no address");
        rt->taps_.back() = std::move(*tap);
    }
    // TCP_CHECKs run in userspace (a SYN, its answer, a RST): a kernel connect() costs some
    // 40 us of control-lcore time, the prober 3 us; a probe whose next hop is not resolved yet
    // falls back to a kernel socket through the exception TAP.
    health::SynProberConfig syn;
    for (size_t i = 0; i < rt->ports_.size(); ++i) {
        health::SynEndpoint ep;
        ep.port_id = rt->ports_[i].port_id;
        ep.mac = rt->ports_[i].info.mac;
        if (const auto& a = rt->config_.ports[i].address) {
            (a->address.is_v4() ? ep.v4 : ep.v6) = a->address;
        }
        syn.endpoints.push_back(ep);
    }
    syn.seed = rte_rand();
    rt->syn_sink_ = std::make_unique<ControlTxSink>(*rt->control_tx_);
    rt->syn_prober_ = std::make_unique<health::SynProber>(std::move(syn));
    health::EngineOptions hopts;
    hopts.raw_tcp.prober = rt->syn_prober_.get();
    hopts.raw_tcp.sink = rt->syn_sink_.get();
    hopts.raw_tcp.next_hop = [raw = rt.get()](const net::IpAddress& ip)
        -> std::optional<health::RawNextHop> {
        // DR: real servers are on-link, so the next hop is the address itself.
        for (const PortRoute& p : raw->routes_) {
            if (p.address && p.address->contains(ip)) {
                if (auto mac = raw->neighbours_->lookup(p.port_id, ip)) {
                    return health::RawNextHop{p.port_id, *mac};
                }
                return std::nullopt;
            }
        }
        return std::nullopt;  // off-link connect_ip: the kernel routes it
    };
    // Health checks start before the first snapshot, so that alpha checkers (down until
    // their first success) are down in it.
    auto health = health::Engine::create(rt->config_, control_now(), std::move(hopts));
    if (!health) {
        return Unexpected{health.error()};
    }
    rt->health_ = std::move(*health);
    // The first snapshot is in place before any worker polls (DESIGN: publish before traffic).
    if (auto r = rt->publish_snapshot(); !r) {
        return Unexpected{r.error()};
    }
    rt->configure_neighbours();
    auto vrrp = VrrpService::create(rt->config_, rt->neigh_ports(), *rt->control_tx_,
                                    *rt->neighbours_);
    if (!vrrp) {
        return Unexpected{vrrp.error()};
    }
    rt->vrrp_ = std::move(*vrrp);
    if (!rt->config_.global.metrics_listen.empty()) {
        auto server = metrics::MetricsServer::start(rt->config_.global.metrics_listen);
        if (!server) {
            return Unexpected{server.error()};
        }
        rt->metrics_ = std::move(*server);
        DIRECTOR_LOG(INFO, "serving /metrics on %s", rt->config_.global.metrics_listen.c_str());
    }
    return rt;
}

Result<void> Runtime::start_ports() {
    const auto workers = static_cast<uint16_t>(config_.dpdk.worker_lcores.size());
    const bool persistent = std::any_of(
        config_.virtual_servers.begin(), config_.virtual_servers.end(),
        [](const config::VirtualServer& vs) { return vs.persistence_timeout.count() > 0; });
    const std::string profiles = default_drivers_conf_dir();
    for (size_t i = 0; i < config_.ports.size(); ++i) {
        const config::Port& cp = config_.ports[i];
        const std::string where = "ports[" + std::to_string(i) + "] (" + cp.name + "): ";
        auto id = dp::find_port(cp.device);
        if (!id) {
            return make_error(where + id.error().message);
        }
        auto driver = dp::driver_name(*id);
        if (!driver) {
            return make_error(where + driver.error().message);
        }
        auto profile = select_driver_profile(profiles, cp.profile, *driver);
        if (!profile) {
            return make_error(where + profile.error().message);
        }
        dp::PortSetup setup;
        setup.port_id = *id;
        // A PMD whose queues come in pairs (AF_PACKET's qpairs) spreads received frames over
        // all of them, so the control lcore's extra pair must be polled too (by a worker).
        setup.rx_queues = profile->vdev_queue_arg.empty() ? workers
                                                          : static_cast<uint16_t>(workers + 1);
        setup.tx_queues = static_cast<uint16_t>(workers + 1);  // + the control lcore's
        setup.rx_descriptors = profile->rx_descriptors;
        setup.tx_descriptors = profile->tx_descriptors;
        if (profile->rss) {
            // One client, one core, when a service is persistent: its template is per core.
            setup.rss_hash_fields = persistent ? profile->rss_persistent_fields
                                               : profile->rss_fields;
            setup.rss_key = profile->rss_key;
        }
        setup.tx_offloads = profile->tx_offloads;
        setup.pool = pool_;
        ports_.emplace_back();
        ports_.back().name = cp.name;
        ports_.back().port_id = *id;
        ports_.back().profile = *profile;
        ports_.back().rx_queues = setup.rx_queues;
        ports_.back().kernel_iface = af_packet_iface(cp.device);
        auto info = dp::start_port(setup);
        if (!info) {
            return make_error(where + info.error().message);
        }
        ports_.back().info = *info;
        ports_.back().started = true;
        routes_.push_back(PortRoute{*id, cp.address});
        DIRECTOR_LOG(INFO, "port %s: %s, driver %s, profile %s, mac %s, %u rx / %u tx queues",
                     cp.name.c_str(), cp.device.c_str(), info->driver_name.c_str(),
                     profile->name.c_str(), info->mac.to_string().c_str(), setup.rx_queues,
                     setup.tx_queues);
    }
    return {};
}

Result<void> Runtime::create_workers() {
    const size_t workers = config_.dpdk.worker_lcores.size();
    port_contexts_.resize(workers * ports_.size());
    rx_queues_.resize(workers);
    for (const PortState& p : ports_) {
        // Queue q goes to worker q % workers: one each, and any extra queue shared out.
        for (uint16_t q = 0; q < p.rx_queues; ++q) {
            rx_queues_[q % workers].push_back(dp::RxQueue{p.port_id, q});
        }
    }
    for (size_t w = 0; w < workers; ++w) {
        const unsigned lcore = config_.dpdk.worker_lcores[w];
        const int socket = static_cast<int>(rte_lcore_to_socket_id(lcore));
        auto exc = dp::ExceptionChannel::create(static_cast<unsigned>(w), socket);
        if (!exc) {
            return Unexpected{exc.error()};
        }
        exceptions_.push_back(std::move(*exc));
        for (size_t p = 0; p < ports_.size(); ++p) {
            dp::PortContext& pc = port_contexts_[w * ports_.size() + p];
            pc.port_id = ports_[p].port_id;
            pc.tx_queue = static_cast<uint16_t>(w);
            pc.mac = ports_[p].info.mac;
            if (const auto& a = config_.ports[p].address) {
                if (a->address.is_v4()) {
                    std::memcpy(pc.own_v4.data(), a->address.bytes(), 4);
                    pc.has_own_v4 = true;
                } else {
                    std::memcpy(pc.own_v6.data(), a->address.bytes(), 16);
                    pc.has_own_v6 = true;
                }
            }
        }
        dp::WorkerConfig wc;
        wc.index = static_cast<unsigned>(w);
        wc.socket = socket;
        wc.ports = std::span<const dp::PortContext>(port_contexts_.data() + w * ports_.size(),
                                                    ports_.size());
        wc.rx_queues = rx_queues_[w];
        wc.idle_sleep_us = config_.dpdk.idle_sleep_us;
        wc.policy = policy_of(config_.forwarding);
        wc.conn_table.capacity = config_.tables.connections;
        wc.conn_table.max_reals = lb::kMaxReals;
        wc.conn_table.timeouts = timeouts_of(config_.timeouts);
        wc.persist_table.capacity = config_.tables.persistence;
        auto worker = dp::Worker::create(wc, *publisher_, *exceptions_.back());
        if (!worker) {
            return Unexpected{worker.error()};
        }
        workers_.push_back(std::move(*worker));
    }
    return {};
}

std::vector<NeighPort> Runtime::neigh_ports() const {
    std::vector<NeighPort> ports;
    for (size_t i = 0; i < ports_.size(); ++i) {
        ports.push_back(NeighPort{ports_[i].port_id, ports_[i].info.mac, config_.ports[i].address});
    }
    return ports;
}

void Runtime::configure_neighbours() {
    neighbours_->configure(config_, neigh_ports(), factory_.last_specs(), neigh_now());
    if (vrrp_ != nullptr) {
        // configure() rebuilt ownership: VIPs of MASTER instances stay answered.
        for (size_t i = 0; i < vrrp_->instances().size(); ++i) {
            neighbours_->set_master(i, vrrp_->instances().state(i).state == vrrp::State::Master);
        }
    }
}

Result<void> Runtime::publish_snapshot() {
    const auto t0 = std::chrono::steady_clock::now();
    RealSources sources;
    sources.mac = [this](uint16_t port, const net::IpAddress& ip) {
        return neighbours_->lookup(port, ip);
    };
    if (health_ != nullptr) {
        sources.health = [this](size_t vs, size_t rs) {
            const health::RealDecision& d = health_->real(vs, rs);
            return RealHealth{d.present, d.weight};
        };
        sources.sorry_active = [this](size_t vs) {
            return health_->decision(vs).sorry_active;
        };
    }
    neigh_version_ = neighbours_->version();
    auto snap = factory_.build(config_, routes_, sources, publisher_->current());
    if (!snap) {
        return Unexpected{snap.error()};
    }
    const uint32_t services = (*snap)->service_count();
    publisher_->publish(std::move(*snap));
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
    DIRECTOR_LOG(INFO, "published snapshot %lu: %u services in %ld us",
                 static_cast<unsigned long>(publisher_->published()), services,
                 static_cast<long>(us));
    return {};
}

bool Runtime::reload() {
    DIRECTOR_LOG(INFO, "reloading %s", config_path_.c_str());
    auto next = config::load_file(config_path_);
    if (!next) {
        for (const auto& e : next.error()) {
            DIRECTOR_LOG(ERR, "%s", e.to_string().c_str());
        }
        DIRECTOR_LOG(ERR, "reload rejected: %zu error(s); the running configuration stays",
                     next.error().size());
        ++reloads_rejected_;
        return false;
    }
    if (const std::string field = init_only_change(config_, *next); !field.empty()) {
        DIRECTOR_LOG(ERR,
                     "reload rejected: '%s' cannot change while the director runs (restart "
                     "it); the running configuration stays",
                     field.c_str());
        ++reloads_rejected_;
        return false;
    }
    const vrrp::TimePoint now = control_now();
    if (auto r = vrrp_->check(*next, neigh_ports()); !r) {
        DIRECTOR_LOG(ERR, "reload rejected: vrrp: %s; the running configuration stays",
                     r.error().message.c_str());
        ++reloads_rejected_;
        return false;
    }
    if (auto r = health_->reconfigure(*next, now); !r) {
        DIRECTOR_LOG(ERR, "reload rejected: health checks: %s; the running configuration stays",
                     r.error().message.c_str());
        ++reloads_rejected_;
        return false;
    }
    config::Config previous = std::move(config_);
    config_ = std::move(*next);
    if (auto r = publish_snapshot(); !r) {
        DIRECTOR_LOG(ERR, "reload rejected: %s; the running configuration stays",
                     r.error().message.c_str());
        config_ = std::move(previous);
        (void)health_->reconfigure(config_, now);  // it accepted this configuration before
        ++reloads_rejected_;
        return false;
    }
    health_->take_changed();  // the snapshot just published has the reloaded verdicts
    if (auto r = vrrp_->reconfigure(config_, neigh_ports(), now); !r) {
        // check() accepted it above; nothing of VRRP changed, say so loudly.
        DIRECTOR_LOG(ERR, "reload: vrrp kept its previous instances: %s",
                     r.error().message.c_str());
    }
    configure_neighbours();
    DIRECTOR_LOG(INFO, "reload applied");
    ++reloads_applied_;
    return true;
}

void Runtime::drain_exceptions() {
    const neigh::TimePoint now = neigh_now();
    for (auto& exc : exceptions_) {
        rte_mbuf* frames[kExceptionBurst];
        unsigned n;
        while ((n = exc->drain_frames(frames, kExceptionBurst)) > 0) {
            for (unsigned i = 0; i < n; ++i) {
                rte_mbuf* m = frames[i];
                const auto why = static_cast<dp::PuntReason>(m->hash.usr);
                // ARP and neighbour discovery go to the responder (it ignores other ICMP).
                // VRRP and traffic for the host itself wait for their handlers.
                const std::span<const uint8_t> frame(rte_pktmbuf_mtod(m, const uint8_t*),
                                                     m->data_len);
                if (neighbours_ != nullptr &&
                    (why == dp::PuntReason::Arp || why == dp::PuntReason::Icmp)) {
                    neighbours_->on_frame(m->port, frame, now);
                    // A copy lets the host's kernel learn its neighbours (health checks).
                    to_host(m->port, frame);
                } else if (vrrp_ != nullptr && why == dp::PuntReason::Vrrp) {
                    vrrp_->on_frame(m->port, frame, vrrp::TimePoint(now.time_since_epoch()));
                } else if (why == dp::PuntReason::Host) {
                    // Answers to the SYN prober's probes stop here; the rest is the kernel's.
                    if (health_ == nullptr ||
                        !health_->on_host_frame(frame, vrrp::TimePoint(now.time_since_epoch()))) {
                        to_host(m->port, frame);
                    }
                }
            }
            rte_pktmbuf_free_bulk(frames, n);
        }
        uint32_t reals[kExceptionBurst];
        while ((n = exc->drain_resolve(reals, kExceptionBurst)) > 0) {
            for (unsigned i = 0; neighbours_ != nullptr && i < n; ++i) {
                neighbours_->on_resolve_hint(reals[i], now);
            }
        }
    }
}

void Runtime::to_host(uint16_t port_id, std::span<const uint8_t> frame) {
    for (size_t i = 0; i < ports_.size(); ++i) {
        if (ports_[i].port_id == port_id && taps_[i] != nullptr) {
            taps_[i]->to_kernel(frame);
            return;
        }
    }
    ++host_dropped_;
}

void Runtime::drain_host_taps() {
    for (size_t i = 0; i < ports_.size(); ++i) {
        if (taps_[i] == nullptr) {
            continue;
        }
        std::array<uint8_t, RTE_ETHER_MAX_JUMBO_FRAME_LEN> buf;
        for (unsigned k = 0; k < kHostBurst; ++k) {
            const size_t n = taps_[i]->from_kernel(buf);
            if (n == 0) {
                break;
            }
            const std::span<const uint8_t> frame(buf.data(), n);
            if (host_frame_may_leave(frame)) {
                control_tx_->send(ports_[i].port_id, frame);
            }
        }
    }
}

bool Runtime::link_up(const PortState& p) const {
    // AF_PACKET's PMD reports every link as up: ask the kernel about its interface instead.
    if (!p.kernel_iface.empty()) {
        return kernel_link_up(p.kernel_iface);
    }
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(p.port_id, &link) != 0) {
        return true;  // unknown: do not fault an instance on a driver that cannot tell
    }
    return link.link_status == RTE_ETH_LINK_UP;
}

void Runtime::poll_links(vrrp::TimePoint now) {
    for (const PortState& p : ports_) {
        vrrp_->set_port_link(p.port_id, link_up(p), now);
    }
}

void Runtime::poll_health(vrrp::TimePoint now) {
    health_->poll(now);
    for (const std::string& line : health_->take_log()) {
        DIRECTOR_LOG(NOTICE, "%s", line.c_str());
    }
    if (health_->take_changed()) {
        // A verdict changed: the workers act on it in this iteration (issue: one loop).
        if (auto r = publish_snapshot(); !r) {
            DIRECTOR_LOG(ERR, "snapshot after a health change: %s", r.error().message.c_str());
        }
    }
}

void Runtime::render_metrics(metrics::TextWriter& w) const {
    using metrics::MetricType;
    for (const dp::CounterInfo& c : dp::kWorkerCounterInfo) {
        w.family(std::string("director_worker_") + c.name, c.help, MetricType::Counter);
        for (size_t i = 0; i < workers_.size(); ++i) {
            const auto* base = reinterpret_cast<const uint8_t*>(&workers_[i]->counters());
            w.sample({{"worker", std::to_string(i)},
                      {"lcore", std::to_string(config_.dpdk.worker_lcores[i])}},
                     dp::read_relaxed(*reinterpret_cast<const uint64_t*>(base + c.offset)));
        }
    }
    w.family("director_snapshots_published", "Service snapshots published to the workers",
             MetricType::Counter);
    w.sample(publisher_->published());
    w.family("director_reloads", "Configuration reloads (SIGHUP) by result", MetricType::Counter);
    w.sample({{"result", "applied"}}, reloads_applied_);
    w.sample({{"result", "rejected"}}, reloads_rejected_);
    w.family("director_host_frames_dropped",
             "Frames for the director's own address with no exception TAP to take them",
             MetricType::Counter);
    w.sample(host_dropped_);
    for (size_t i = 0; i < taps_.size(); ++i) {
        if (taps_[i] == nullptr) {
            continue;
        }
        const metrics::Label tap[] = {{"port", config_.ports[i].name}, {"tap", taps_[i]->name()}};
        w.family("director_exception_tap_to_kernel_frames",
                 "Frames handed to the kernel through the exception TAP", MetricType::Counter);
        w.sample(tap, taps_[i]->to_kernel_frames());
        w.family("director_exception_tap_to_kernel_errors",
                 "Frames the kernel's TAP refused", MetricType::Counter);
        w.sample(tap, taps_[i]->to_kernel_errors());
        w.family("director_exception_tap_from_kernel_frames",
                 "Frames the kernel sent through the exception TAP", MetricType::Counter);
        w.sample(tap, taps_[i]->from_kernel_frames());
    }
    if (vrrp_ != nullptr) {
        const vrrp::InstanceSet& set = vrrp_->instances();
        w.family("director_vrrp_state", "1 for the VRRP instance's current state",
                 MetricType::Gauge);
        for (size_t i = 0; i < set.size(); ++i) {
            for (const vrrp::State st : {vrrp::State::Init, vrrp::State::Backup,
                                         vrrp::State::Master, vrrp::State::Fault}) {
                w.sample({{"instance", set.config(i).name}, {"state", vrrp::to_string(st)}},
                         set.state(i).state == st ? 1 : 0);
            }
        }
        w.family("director_vrrp_priority", "Effective VRRP priority (advertised)",
                 MetricType::Gauge);
        for (size_t i = 0; i < set.size(); ++i) {
            w.sample({{"instance", set.config(i).name}}, set.state(i).effective_priority);
        }
        w.family("director_vrrp_adverts_sent", "VRRP adverts sent", MetricType::Counter);
        w.sample(vrrp_->adverts_sent());
        w.family("director_vrrp_adverts_received", "VRRP adverts received and accepted",
                 MetricType::Counter);
        w.sample(vrrp_->adverts_received());
        w.family("director_vrrp_adverts_rejected", "VRRP adverts ignored, by reason",
                 MetricType::Counter);
        for (std::size_t r = 0; r < vrrp::kRejectCount; ++r) {
            w.sample({{"reason", vrrp::counter_name(static_cast<vrrp::Reject>(r))}},
                     vrrp_->rejects()[r]);
        }
    }
    if (neighbours_ != nullptr) {
        for (const auto& c : neigh::kTableCounterInfo) {
            w.family(std::string("director_neighbour_") + c.name, c.help, MetricType::Counter);
            w.sample(neighbours_->table_counters().*c.field);
        }
    }
    if (health_ != nullptr) {
        const health::EngineStats h = health_->stats();
        w.family("director_health_probes", "Health-check probes by result", MetricType::Counter);
        w.sample({{"result", "succeeded"}}, h.probes_succeeded);
        w.sample({{"result", "failed"}}, h.probes_failed - h.probe_timeouts);
        w.sample({{"result", "timeout"}}, h.probe_timeouts);
        w.family("director_health_tcp_probes", "TCP_CHECK probes by how they ran",
                 MetricType::Counter);
        w.sample({{"path", "userspace"}}, h.raw_probes);
        w.sample({{"path", "kernel_fallback"}}, h.raw_fallbacks);
        w.family("director_health_probes_in_flight", "Health-check probes running now",
                 MetricType::Gauge);
        w.sample(h.in_flight);
        for (size_t v = 0; v < health_->virtual_servers(); ++v) {
            const config::VirtualServer& vs = config_.virtual_servers[v];
            const std::string vs_name = health::format_trio(vs.address, vs.protocol, vs.port);
            for (size_t r = 0; r < vs.real_servers.size(); ++r) {
                const config::RealServer& rs = vs.real_servers[r];
                const std::string rs_name = health::format_trio(rs.address, vs.protocol, rs.port);
                const metrics::Label real[] = {{"virtual_server", vs_name},
                                               {"real_server", rs_name}};
                const health::RealDecision& d = health_->real(v, r);
                // The writer groups samples by family, so the two interleave freely here.
                w.family("director_real_server_up",
                         "1 when the real server is in its virtual server's pool (all checks pass)",
                         MetricType::Gauge);
                w.sample(real, d.present ? 1 : 0);
                w.family("director_real_server_weight", "Weight published for the real server",
                         MetricType::Gauge);
                w.sample(real, d.weight);
            }
        }
        w.family("director_sorry_server_active",
                 "1 while the sorry server replaces the real servers (quorum lost)",
                 MetricType::Gauge);
        for (size_t v = 0; v < health_->virtual_servers(); ++v) {
            const config::VirtualServer& vs = config_.virtual_servers[v];
            w.sample({{"virtual_server", health::format_trio(vs.address, vs.protocol, vs.port)}},
                     health_->decision(v).sorry_active ? 1 : 0);
        }
    }
}

void Runtime::publish_metrics() {
    if (metrics_ == nullptr) {
        return;
    }
    metrics::TextWriter w;
    render_metrics(w);
    for (const std::string& e : w.errors()) {
        DIRECTOR_LOG(WARNING, "metrics: %s", e.c_str());
    }
    metrics_->publish(w.take());
}

int Runtime::run() {
    block_control_signals();
    const sigset_t set = control_signals();
    const int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        DIRECTOR_LOG(ERR, "signalfd: %s", std::strerror(errno));
        return 1;
    }
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = sfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    // The TAPs and the health engine only need to wake the loop: each iteration drains them.
    for (const auto& tap : taps_) {
        if (tap != nullptr) {
            ev.data.fd = tap->fd();
            epoll_ctl(ep, EPOLL_CTL_ADD, tap->fd(), &ev);
        }
    }
    for (const int fd : health_->fds()) {
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }

    for (size_t w = 0; w < workers_.size(); ++w) {
        const unsigned lcore = config_.dpdk.worker_lcores[w];
        if (rte_eal_remote_launch(launch_worker, workers_[w].get(), lcore) != 0) {
            DIRECTOR_LOG(ERR, "cannot launch worker %zu on lcore %u", w, lcore);
            shutdown();
            close(ep);
            close(sfd);
            return 1;
        }
    }
    launched_ = true;
    poll_links(control_now());  // an instance whose port is down starts in FAULT
    vrrp_->start(control_now());
    DIRECTOR_LOG(INFO,
                 "running: %zu worker(s), %zu port(s), %zu virtual server(s); the fast lane "
                 "parses %u frames at once",
                 workers_.size(), ports_.size(), config_.virtual_servers.size(),
                 workers_.empty() ? 0u : workers_.front()->lane_width());

    neigh::TimePoint next_metrics = neigh_now();
    neigh::TimePoint next_link_poll = neigh_now();
    bool running = true;
    while (running) {
        epoll_event events[8];
        const int n = epoll_wait(ep, events, 8, kLoopTimeoutMs);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.fd != sfd) {
                continue;
            }
            signalfd_siginfo si{};
            while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    reload();
                } else if (si.ssi_signo == SIGUSR1) {
                    log_stats();
                } else {
                    DIRECTOR_LOG(INFO, "signal %u: stopping", si.ssi_signo);
                    running = false;
                }
            }
        }
        drain_exceptions();
        drain_host_taps();
        const neigh::TimePoint now = neigh_now();
        vrrp_->poll(vrrp::TimePoint(now.time_since_epoch()));
        poll_health(vrrp::TimePoint(now.time_since_epoch()));
        neighbours_->poll(now);
        if (neighbours_->version() != neigh_version_) {
            // A real server's MAC appeared, changed or went: the workers need it now.
            if (auto r = publish_snapshot(); !r) {
                DIRECTOR_LOG(ERR, "snapshot after a neighbour change: %s",
                             r.error().message.c_str());
            }
        }
        publisher_->poll_reclaim();
        if (now >= next_link_poll) {
            poll_links(vrrp::TimePoint(now.time_since_epoch()));
            next_link_poll = now + kLinkPollInterval;
        }
        if (now >= next_metrics) {
            publish_metrics();
            next_metrics = now + std::chrono::seconds(1);
        }
    }
    shutdown();
    close(ep);
    close(sfd);
    return 0;
}

void Runtime::log_stats() const {
    // One line, machine-readable: scripts/bench.sh computes rates from two of these.
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    std::string line = "stats t_us=" + std::to_string(now);
    for (const dp::CounterInfo& c : dp::kWorkerCounterInfo) {
        line += " " + std::string(c.name) + "=" + std::to_string(worker_counter(c.offset));
    }
    if (vrrp_ != nullptr) {
        line += " vrrp_adverts_received=" + std::to_string(vrrp_->adverts_received());
        line += " vrrp_adverts_sent=" + std::to_string(vrrp_->adverts_sent());
        for (std::size_t r = 0; r < vrrp::kRejectCount; ++r) {
            line += " vrrp_reject_" +
                    std::string(vrrp::counter_name(static_cast<vrrp::Reject>(r))) + "=" +
                    std::to_string(vrrp_->rejects()[r]);
        }
    }
    if (health_ != nullptr) {
        const health::EngineStats h = health_->stats();
        line += " health_checkers=" + std::to_string(h.checkers);
        line += " health_probes_started=" + std::to_string(h.probes_started);
        line += " health_probes_succeeded=" + std::to_string(h.probes_succeeded);
        line += " health_probes_failed=" + std::to_string(h.probes_failed);
        line += " health_raw_probes=" + std::to_string(h.raw_probes);
        line += " health_raw_fallbacks=" + std::to_string(h.raw_fallbacks);
    }
    for (size_t i = 0; i < taps_.size(); ++i) {
        if (taps_[i] != nullptr) {
            line += " tap_" + taps_[i]->name() + "_to_kernel=" +
                    std::to_string(taps_[i]->to_kernel_frames());
            line += " tap_" + taps_[i]->name() + "_from_kernel=" +
                    std::to_string(taps_[i]->from_kernel_frames());
        }
    }
    line += " host_dropped=" + std::to_string(host_dropped_);
    if (neighbours_ != nullptr) {
        for (const auto& c : neigh::kTableCounterInfo) {
            line += " neigh_" + std::string(c.name) + "=" +
                    std::to_string(neighbours_->table_counters().*c.field);
        }
    }
    DIRECTOR_LOG(NOTICE, "%s", line.c_str());
}

void Runtime::log_summary() const {
    for (const dp::CounterInfo& c : dp::kWorkerCounterInfo) {
        const uint64_t v = worker_counter(c.offset);
        if (v != 0) {
            DIRECTOR_LOG(INFO, "  %-24s %lu", c.name, static_cast<unsigned long>(v));
        }
    }
}

uint64_t Runtime::worker_counter(size_t offset) const noexcept {
    uint64_t sum = 0;
    for (const auto& w : workers_) {
        const auto* base = reinterpret_cast<const uint8_t*>(&w->counters());
        sum += dp::read_relaxed(*reinterpret_cast<const uint64_t*>(base + offset));
    }
    return sum;
}

void Runtime::shutdown() {
    if (launched_ && vrrp_ != nullptr) {
        // Priority 0 while the ports still run: the peer takes over after its skew time.
        vrrp_->shutdown(vrrp::TimePoint(neigh_now().time_since_epoch()));
    }
    if (launched_) {
        for (auto& w : workers_) {
            w->stop();
        }
        rte_eal_mp_wait_lcore();
        launched_ = false;
        DIRECTOR_LOG(INFO, "workers stopped; counters:");
        log_summary();
    }
    drain_exceptions();
    for (PortState& p : ports_) {
        if (p.started) {
            dp::stop_port(p.port_id);
            p.started = false;
        }
    }
}

Runtime::~Runtime() {
    shutdown();
    workers_.clear();
    exceptions_.clear();
    publisher_.reset();
    if (pool_ != nullptr) {
        rte_mempool_free(pool_);
    }
}

}  // namespace director::ctl
