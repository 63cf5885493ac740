// SPDX-License-Identifier: BSD-3-Clause
// Scale benchmark for issue 5's target: 10,000 real servers checked with TCP_CHECK every 1 s
// against a local listener farm, using <= 10% of one core on the control lcore, with
// verdict-to-snapshot latency <= 5 ms. A measurement, not a test: it prints figures and exits
// 0 unless something could not be set up (scripts/bench-health.sh builds and runs it).
//
// What runs where:
//   - the listener farm (one listening socket per real server, accept + close) runs in a
//     thread of its own with its own epoll; its CPU time is not counted;
//   - the main thread is the control lcore: it drives health::Engine exactly as the control
//     loop does (epoll_wait on engine.fds() until next_deadline(), on_ready, poll,
//     take_changed → ctl::SnapshotFactory::build → rcu::Publisher::publish → poll_reclaim,
//     take_log). Its CPU time (CLOCK_THREAD_CPUTIME_ID, user + system) is the figure.
//     Kernel work done in this thread's context is included: on loopback the SYN, SYN-ACK and
//     FIN processing of both ends runs in softirq context inside the connect()/close() calls,
//     so the figure is an upper bound of what a probe costs the control lcore on a real NIC.
//
// Phases: (1) warm-up (the first probes are spread over one delay_loop); (2) steady state for
// --seconds: CPU %, probes/s, succeeded/failed; (3) churn: close --churn-pct of the listeners
// (one every 100/churn-pct reals, so that many virtual servers change), run until the engine
// has removed them all, reopen, run until all are back; per changed verdict, the time from
// the decision change (take_changed() true after on_ready/poll) to the new snapshot handed to
// the publisher; (4) rebuild cost of the whole configuration's snapshot: cold, unchanged
// (tables shared) and one verdict changed, for rr, wlc and mh.
//
// --raw: the userspace TCP_CHECK (health/syn_prober.h, EngineOptions::raw_tcp) instead of
// kernel sockets. There is no listener farm and no kernel: the FrameSink is an in-process fake
// network that answers every SYN with a SYN-ACK (a RST for a real that is "down" in the churn
// phase), queued and handed back through Engine::on_host_frame in the same loop iteration, as
// the runtime hands back frames the workers punt. The figure is then the engine's and the
// prober's own CPU per probe (the fake network's reply building is measured alone and printed
// too; it is inside the control-thread figure, so that figure is an upper bound).
//
// Usage: health_bench [--vs N] [--reals-per-vs N] [--seconds S] [--warmup S] [--algo rr|wlc|mh]
//                     [--delay-ms MS] [--timeout-ms MS] [--retry N] [--churn-pct P]
//                     [--churn-cycles N] [--max-starts N] [--ports] [--no-eal] [--no-rebuild]
//                     [--raw]
//   --ports   one address (127.0.0.1) with one port per real server, instead of one loopback
//             address (127.1.x.y) per real server on port 8080;
//   --no-eal  without DPDK's EAL: snapshots are built and handed to a plain holder instead of
//             rcu::Publisher (which allocates its QSBR variable with rte_zmalloc).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "control/services.h"
#include "health/engine.h"
#include "health/syn_prober.h"
#include "lb/snapshot.h"
#include "net/checksum.h"
#include "rcu/publisher.h"

namespace director {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    uint32_t vs = 100;
    uint32_t reals_per_vs = 100;
    double seconds = 20;
    double warmup = 3;
    config::LbAlgo algo = config::LbAlgo::Rr;
    std::string algo_name = "rr";
    uint32_t delay_ms = 1000;
    uint32_t timeout_ms = 1000;
    uint32_t retry = 0;
    double churn_pct = 1;
    uint32_t churn_cycles = 3;
    bool ports_mode = false;
    bool eal = true;
    bool rebuild = true;
    bool raw = false;         ///< userspace TCP_CHECK against an in-process fake network
    uint32_t max_starts = 0;  ///< EngineOptions::max_starts_per_poll; 0 = the engine's default
};

uint32_t total_reals(const Options& o) { return o.vs * o.reals_per_vs; }

/** Address and port of real server i (0-based, configuration order). */
std::pair<uint32_t, uint16_t> real_endpoint(const Options& o, uint32_t i) {
    if (o.ports_mode) {
        return {0x7f000001u, static_cast<uint16_t>(20000 + i)};
    }
    // 127.1.0.1 ... : 254 hosts per /24, skipping .0 and .255.
    return {0x7f010000u + ((i / 254) << 8) + (i % 254) + 1, 8080};
}

// ---- listener farm ------------------------------------------------------------------------

/** One listening socket per real server, accepted and closed from a thread of its own. */
class ListenerFarm {
public:
    explicit ListenerFarm(const Options& o) : opts_(o), fds_(total_reals(o), -1) {}
    ~ListenerFarm() { stop(); }

    bool start() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (ep_ < 0 || wake_ < 0) {
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = ~uint64_t{0};
        epoll_ctl(ep_, EPOLL_CTL_ADD, wake_, &ev);
        for (uint32_t i = 0; i < fds_.size(); ++i) {
            if (!open(i)) {
                return false;
            }
        }
        thread_ = std::thread([this] { run(); });
        return true;
    }

    void stop() {
        if (thread_.joinable()) {
            stop_.store(true);
            poke();
            thread_.join();
        }
        for (int& fd : fds_) {
            if (fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
        if (ep_ >= 0) {
            close(ep_);
            ep_ = -1;
        }
        if (wake_ >= 0) {
            close(wake_);
            wake_ = -1;
        }
    }

    /** Closes (down = true) or reopens the listeners of these reals; returns once done. */
    void set_down(const std::vector<uint32_t>& reals, bool down) {
        std::unique_lock lock(mu_);
        pending_ = reals;
        pending_down_ = down;
        has_pending_ = true;
        lock.unlock();
        poke();
        while (true) {
            std::lock_guard g(mu_);
            if (!has_pending_) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
    uint64_t farm_cpu_ns() const { return cpu_ns_.load(std::memory_order_relaxed); }

private:
    void poke() {
        const uint64_t one = 1;
        (void)!write(wake_, &one, sizeof(one));
    }

    bool open(uint32_t i) {
        const auto [addr, port] = real_endpoint(opts_, i);
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            std::fprintf(stderr, "health_bench: socket: %s\n", std::strerror(errno));
            return false;
        }
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(addr);
        if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 || listen(fd, 256) != 0) {
            std::fprintf(stderr, "health_bench: bind/listen %s:%u: %s\n", inet_ntoa(sin.sin_addr),
                         port, std::strerror(errno));
            close(fd);
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
        fds_[i] = fd;
        return true;
    }

    void apply_pending() {
        std::lock_guard g(mu_);
        if (!has_pending_) {
            return;
        }
        for (uint32_t i : pending_) {
            if (pending_down_ && fds_[i] >= 0) {
                close(fds_[i]);  // also leaves the epoll set
                fds_[i] = -1;
            } else if (!pending_down_ && fds_[i] < 0) {
                open(i);
            }
        }
        has_pending_ = false;
    }

    void run() {
        epoll_event events[256];
        while (!stop_.load()) {
            const int n = epoll_wait(ep_, events, 256, 100);
            for (int k = 0; k < n; ++k) {
                const uint64_t i = events[k].data.u64;
                if (i == ~uint64_t{0}) {
                    uint64_t v;
                    (void)!read(wake_, &v, sizeof(v));
                    apply_pending();
                    continue;
                }
                const int lfd = fds_[i];
                if (lfd < 0) {
                    continue;
                }
                for (;;) {
                    const int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
                    if (c < 0) {
                        break;
                    }
                    close(c);
                    accepted_.fetch_add(1, std::memory_order_relaxed);
                }
            }
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            cpu_ns_.store(uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec),
                          std::memory_order_relaxed);
        }
    }

    const Options& opts_;
    std::vector<int> fds_;
    int ep_ = -1;
    int wake_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> accepted_{0};
    std::atomic<uint64_t> cpu_ns_{0};
    std::mutex mu_;
    std::vector<uint32_t> pending_;
    bool pending_down_ = false;
    bool has_pending_ = false;
};

// ---- configuration --------------------------------------------------------------------------

config::Config make_config(const Options& o, config::LbAlgo algo) {
    config::Config c;
    c.virtual_servers.reserve(o.vs);
    for (uint32_t v = 0; v < o.vs; ++v) {
        config::VirtualServer vs;
        vs.address = net::IpAddress::v4(0x0a000000u + v + 1);
        vs.port = 80;
        vs.protocol = config::Protocol::Tcp;
        vs.lb_algo = algo;
        vs.delay_loop = std::chrono::milliseconds(o.delay_ms);
        vs.real_servers.reserve(o.reals_per_vs);
        for (uint32_t r = 0; r < o.reals_per_vs; ++r) {
            const auto [addr, port] = real_endpoint(o, v * o.reals_per_vs + r);
            config::RealServer rs;
            rs.address = net::IpAddress::v4(addr);
            rs.port = port;
            rs.weight = 1;
            rs.mac = net::MacAddress{{0x02, 0, 0, 0, static_cast<uint8_t>(v), uint8_t(r)}};
            config::Check chk;
            chk.type = config::CheckType::Tcp;
            chk.connect_timeout = std::chrono::milliseconds(o.timeout_ms);
            chk.retry = o.retry;
            chk.delay_before_retry = std::chrono::milliseconds(o.delay_ms);
            rs.checks.push_back(chk);
            vs.real_servers.push_back(std::move(rs));
        }
        c.virtual_servers.push_back(std::move(vs));
    }
    return c;
}

// ---- measurement helpers ----------------------------------------------------------------------

uint64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

health::TimePoint to_health(Clock::time_point t) {
    return health::TimePoint(std::chrono::duration_cast<health::Duration>(t.time_since_epoch()));
}

struct Percentiles {
    double median = 0, p99 = 0, max = 0;
    size_t n = 0;
};

Percentiles percentiles(std::vector<double> v) {
    Percentiles p;
    p.n = v.size();
    if (v.empty()) {
        return p;
    }
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) {
        const size_t i = static_cast<size_t>(std::ceil(q * double(v.size()))) - 1;
        return v[std::min(i, v.size() - 1)];
    };
    p.median = at(0.5);
    p.p99 = at(0.99);
    p.max = v.back();
    return p;
}

/** Where snapshots go: rcu::Publisher under EAL, else a plain holder with the same calls. */
class Sink {
public:
    bool init(bool eal) {
        if (eal) {
            auto p = rcu::Publisher<lb::Snapshot>::create(1);
            if (!p) {
                std::fprintf(stderr, "health_bench: %s\n", p.error().message.c_str());
                return false;
            }
            publisher_ = std::move(*p);
        }
        return true;
    }
    const lb::Snapshot* current() const {
        return publisher_ ? publisher_->current() : plain_.get();
    }
    void publish(std::unique_ptr<lb::Snapshot> s) {
        if (publisher_) {
            publisher_->publish(std::move(s));
        } else {
            old_ = std::move(plain_);
            plain_ = std::move(s);
        }
    }
    void reclaim() {
        if (publisher_) {
            publisher_->poll_reclaim();
        } else {
            old_.reset();
        }
    }

private:
    std::unique_ptr<rcu::Publisher<lb::Snapshot>> publisher_;
    std::unique_ptr<lb::Snapshot> plain_, old_;
};

// ---- fake network (--raw) ------------------------------------------------------------------

/**
 * The FrameSink of --raw: every SYN the prober sends is answered with a SYN-ACK (or, for a real
 * marked down, a RST|ACK), built by patching the SYN in place of a real server and queued;
 * drain() hands the queue to Engine::on_host_frame. RSTs the prober sends are counted.
 */
class FakeNetwork final : public health::FrameSink {
public:
    explicit FakeNetwork(const Options& o) : down_(total_reals(o), false) {
        for (uint32_t i = 0; i < total_reals(o); ++i) {
            const auto [addr, port] = real_endpoint(o, i);
            index_.emplace((uint64_t{addr} << 16) | port, i);
        }
        queue_.resize(kQueue);
    }

    bool send(uint16_t /*port_id*/, std::span<const uint8_t> frame) override {
        if (frame.size() < 60 || frame[12] != 0x08 || frame[13] != 0x00) {
            return false;  // the bench runs IPv4 only
        }
        const uint8_t flags = frame[47];
        if ((flags & 0x04) != 0) {
            ++rsts_;
            return true;
        }
        if (count_ == kQueue) {
            return false;
        }
        Frame& f = queue_[(head_ + count_) % kQueue];
        ++count_;
        ++syns_;
        f.len = static_cast<uint16_t>(frame.size());
        make_reply(frame.data(), f.bytes.data(), is_down(frame.data()));
        return true;
    }

    /** Replies the prober's SYN `syn` (60 bytes) into out. */
    static void make_reply(const uint8_t* syn, uint8_t* out, bool refuse) {
        std::memcpy(out, syn, 60);
        std::memcpy(out, syn + 6, 6);  // Ethernet: swap
        std::memcpy(out + 6, syn, 6);
        std::memcpy(out + 26, syn + 30, 4);  // IPv4: swap (the header checksum is unchanged)
        std::memcpy(out + 30, syn + 26, 4);
        std::memcpy(out + 34, syn + 36, 2);  // TCP ports: swap
        std::memcpy(out + 36, syn + 34, 2);
        const uint32_t isn = (uint32_t{syn[38]} << 24) | (uint32_t{syn[39]} << 16) |
                             (uint32_t{syn[40]} << 8) | syn[41];
        const uint32_t ack = isn + 1;
        const uint8_t seq[4] = {0x12, 0x34, 0x56, 0x78};
        std::memcpy(out + 38, seq, 4);
        out[42] = static_cast<uint8_t>(ack >> 24);
        out[43] = static_cast<uint8_t>(ack >> 16);
        out[44] = static_cast<uint8_t>(ack >> 8);
        out[45] = static_cast<uint8_t>(ack);
        out[47] = refuse ? 0x14 : 0x12;
        out[50] = 0;
        out[51] = 0;
        const uint16_t c =
            net::l4_checksum(net::ipv4_pseudo_header_sum(out + 26, out + 30, 6, 24), out + 34, 24);
        out[50] = static_cast<uint8_t>(c >> 8);
        out[51] = static_cast<uint8_t>(c);
    }

    /** Hands every queued reply to the engine. */
    void drain(health::Engine& engine, health::TimePoint now) {
        while (count_ > 0) {
            const Frame& f = queue_[head_];
            head_ = (head_ + 1) % kQueue;
            --count_;
            if (engine.on_host_frame({f.bytes.data(), f.len}, now)) {
                ++consumed_;
            } else {
                ++not_consumed_;
            }
        }
    }

    void set_down(const std::vector<uint32_t>& reals, bool down) {
        for (uint32_t i : reals) {
            down_[i] = down;
        }
    }

    uint64_t syns() const { return syns_; }
    uint64_t rsts() const { return rsts_; }
    uint64_t consumed() const { return consumed_; }
    uint64_t not_consumed() const { return not_consumed_; }

private:
    static constexpr std::size_t kQueue = 8192;
    struct Frame {
        std::array<uint8_t, 64> bytes{};
        uint16_t len = 0;
    };

    bool is_down(const uint8_t* syn) const {
        const uint32_t addr = (uint32_t{syn[30]} << 24) | (uint32_t{syn[31]} << 16) |
                              (uint32_t{syn[32]} << 8) | syn[33];
        const uint16_t port = static_cast<uint16_t>((syn[36] << 8) | syn[37]);
        const auto it = index_.find((uint64_t{addr} << 16) | port);
        return it != index_.end() && down_[it->second];
    }

    std::vector<bool> down_;
    std::unordered_map<uint64_t, uint32_t> index_;
    std::vector<Frame> queue_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    uint64_t syns_ = 0, rsts_ = 0, consumed_ = 0, not_consumed_ = 0;
};

/** CPU us the fake network spends per reply, measured alone (part of the --raw figure). */
double fake_reply_us() {
    uint8_t syn[60] = {};
    syn[12] = 0x08;
    syn[47] = 0x02;
    uint8_t out[64];
    constexpr int kN = 1000000;
    const uint64_t c0 = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
    }();
    uint32_t acc = 0;
    for (int i = 0; i < kN; ++i) {
        syn[41] = static_cast<uint8_t>(i);
        FakeNetwork::make_reply(syn, out, false);
        acc += out[51];
    }
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    const uint64_t c1 = uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
    if (acc == 0xffffffffu) {
        std::printf(" ");  // keeps the loop from being optimised away
    }
    return (c1 - c0) / 1e3 / kN;
}

// ---- the control loop -------------------------------------------------------------------------

struct LoopStats {
    uint64_t wakeups = 0;
    uint64_t publishes = 0;
    uint64_t changed_verdicts = 0;
    uint64_t log_lines = 0;
    std::vector<double> latency_ms;       ///< take_changed() → published, per changed verdict
    std::vector<double> wake_latency_ms;  ///< epoll_wait returned → published, per verdict
    std::vector<double> build_ms;         ///< per publication
    std::vector<double> cpu_latency_ms;   ///< the same two spans in this thread's CPU time
    std::vector<double> cpu_wake_latency_ms;
};

class ControlLoop {
public:
    ControlLoop(const config::Config& cfg, health::Engine& engine, Sink& sink)
        : cfg_(cfg), engine_(engine), sink_(sink) {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        for (int fd : engine_.fds()) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
        }
        sources_.health = [this](size_t vs, size_t rs) {
            const health::RealDecision& d = engine_.real(vs, rs);
            return ctl::RealHealth{d.present, d.weight};
        };
        shadow_.resize(cfg_.virtual_servers.size());
        for (size_t v = 0; v < shadow_.size(); ++v) {
            shadow_[v] = engine_.decision(v).reals;
        }
    }
    ~ControlLoop() { close(ep_); }

    /** Called after each wakeup's on_ready/poll (--raw: the fake network's replies). */
    void set_io_hook(std::function<void(health::TimePoint)> hook) { io_hook_ = std::move(hook); }

    /** Publishes the first snapshot (start-up). */
    bool publish_initial() {
        (void)engine_.take_changed();
        auto snap = factory_.build(cfg_, {}, sources_, sink_.current());
        if (!snap) {
            std::fprintf(stderr, "health_bench: snapshot: %s\n", snap.error().message.c_str());
            return false;
        }
        sink_.publish(std::move(*snap));
        sink_.reclaim();
        return true;
    }

    /** Runs the loop until `until` or until done() returns true (checked after each wakeup). */
    void run(Clock::time_point until, LoopStats& st, const std::function<bool()>& done = {}) {
        epoll_event events[8];
        for (;;) {
            Clock::time_point now = Clock::now();
            if (now >= until || (done && done())) {
                return;
            }
            int timeout_ms = static_cast<int>(std::ceil(ms_between(now, until)));
            const auto deadline = engine_.next_deadline();
            if (deadline) {
                const auto d = Clock::time_point(
                    std::chrono::duration_cast<Clock::duration>(deadline->time_since_epoch()));
                // Round up: waking early would only spin; up to 1 ms late batches the starts.
                const double ms = ms_between(now, d);
                timeout_ms = std::min(timeout_ms, ms <= 0 ? 0 : static_cast<int>(std::ceil(ms)));
            }
            const int n = epoll_wait(ep_, events, 8, timeout_ms);
            const Clock::time_point woke = Clock::now();
            const uint64_t woke_cpu = thread_cpu_ns();
            ++st.wakeups;
            const health::TimePoint hnow = to_health(woke);
            for (int i = 0; i < n; ++i) {
                engine_.on_ready(events[i].data.fd, hnow);
            }
            if (const auto d = engine_.next_deadline(); d && *d <= hnow) {
                engine_.poll(hnow);
            }
            if (io_hook_) {
                io_hook_(hnow);
            }
            if (engine_.take_changed()) {
                const Clock::time_point t0 = Clock::now();
                const uint64_t t0_cpu = thread_cpu_ns();
                auto snap = factory_.build(cfg_, {}, sources_, sink_.current());
                const Clock::time_point t_built = Clock::now();
                if (!snap) {
                    std::fprintf(stderr, "health_bench: snapshot: %s\n",
                                 snap.error().message.c_str());
                    std::exit(1);
                }
                sink_.publish(std::move(*snap));
                const Clock::time_point t1 = Clock::now();
                const uint64_t t1_cpu = thread_cpu_ns();
                sink_.reclaim();
                ++st.publishes;
                st.build_ms.push_back(ms_between(t0, t_built));
                // Bookkeeping for the report (not part of the control loop's own work).
                const size_t changed = count_changed();
                st.changed_verdicts += changed;
                for (size_t k = 0; k < changed; ++k) {
                    st.latency_ms.push_back(ms_between(t0, t1));
                    st.wake_latency_ms.push_back(ms_between(woke, t1));
                    st.cpu_latency_ms.push_back((t1_cpu - t0_cpu) / 1e6);
                    st.cpu_wake_latency_ms.push_back((t1_cpu - woke_cpu) / 1e6);
                }
            }
            st.log_lines += engine_.take_log().size();
        }
    }

    /** Real servers currently out of the pool. */
    size_t absent() const {
        size_t n = 0;
        for (size_t v = 0; v < cfg_.virtual_servers.size(); ++v) {
            for (const health::RealDecision& d : engine_.decision(v).reals) {
                n += d.present ? 0 : 1;
            }
        }
        return n;
    }

private:
    size_t count_changed() {
        size_t n = 0;
        for (size_t v = 0; v < shadow_.size(); ++v) {
            const auto& now = engine_.decision(v).reals;
            for (size_t r = 0; r < now.size(); ++r) {
                if (now[r].present != shadow_[v][r].present ||
                    now[r].weight != shadow_[v][r].weight) {
                    ++n;
                }
            }
            shadow_[v] = now;
        }
        return n;
    }

    const config::Config& cfg_;
    health::Engine& engine_;
    Sink& sink_;
    int ep_ = -1;
    ctl::SnapshotFactory factory_;
    ctl::RealSources sources_;
    std::vector<std::vector<health::RealDecision>> shadow_;
    std::function<void(health::TimePoint)> io_hook_;
};

// ---- kernel floor ----------------------------------------------------------------------------

/**
 * The same system calls a TCP_CHECK probe makes (socket, connect, epoll_ctl ADD, epoll_wait,
 * getsockopt SO_ERROR, setsockopt SO_LINGER, epoll_ctl DEL, close), without the engine, in
 * batches of 64 against the same listeners: the kernel's share of a probe on this machine.
 * @return CPU microseconds per connection
 */
double kernel_floor_us(const Options& o, uint32_t connections) {
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    constexpr uint32_t kBatch = 64;
    const uint32_t n = total_reals(o);
    uint32_t next = 0, done = 0, failed = 0;
    const uint64_t c0 = thread_cpu_ns();
    while (done < connections) {
        int fds[kBatch];
        uint32_t open = 0;
        for (; open < kBatch; ++open) {
            const auto [addr, port] = real_endpoint(o, next++ % n);
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            sockaddr_in sin{};
            sin.sin_family = AF_INET;
            sin.sin_port = htons(port);
            sin.sin_addr.s_addr = htonl(addr);
            (void)connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u32 = open;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            fds[open] = fd;
        }
        uint32_t left = open;
        while (left > 0) {
            epoll_event events[kBatch];
            const int k = epoll_wait(ep, events, kBatch, 1000);
            if (k <= 0) {
                break;
            }
            for (int i = 0; i < k; ++i) {
                const int fd = fds[events[i].data.u32];
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                failed += err != 0 ? 1 : 0;
                const linger lg{.l_onoff = 1, .l_linger = 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                close(fd);
                fds[events[i].data.u32] = -1;
                --left;
            }
        }
        for (uint32_t i = 0; i < open; ++i) {
            if (fds[i] >= 0) {
                close(fds[i]);
            }
        }
        done += open;
    }
    const double us = (thread_cpu_ns() - c0) / 1e3 / connections;
    close(ep);
    if (failed > 0) {
        std::fprintf(stderr, "health_bench: kernel floor: %u connects failed\n", failed);
    }
    return us;
}

// ---- rebuild cost ---------------------------------------------------------------------------

/** Median ms of `reps` builds of the whole configuration: cold, unchanged, one verdict flip. */
void rebuild_costs(const Options& o, config::LbAlgo algo, const char* name) {
    const config::Config cfg = make_config(o, algo);
    constexpr int kReps = 21;
    std::vector<double> cold, same, flip;
    std::vector<std::vector<bool>> down(cfg.virtual_servers.size());
    for (size_t v = 0; v < down.size(); ++v) {
        down[v].assign(cfg.virtual_servers[v].real_servers.size(), false);
    }
    ctl::RealSources src;
    src.health = [&](size_t vs, size_t rs) { return ctl::RealHealth{!down[vs][rs], 1}; };
    uint64_t cpu_cold = 0, cpu_same = 0, cpu_flip = 0;
    for (int i = 0; i < kReps; ++i) {
        ctl::SnapshotFactory fresh;
        uint64_t c0 = thread_cpu_ns();
        auto t0 = Clock::now();
        auto s0 = fresh.build(cfg, {}, src, nullptr);
        auto t1 = Clock::now();
        cpu_cold += thread_cpu_ns() - c0;
        cold.push_back(ms_between(t0, t1));
        if (!s0) {
            std::fprintf(stderr, "health_bench: build: %s\n", s0.error().message.c_str());
            return;
        }
        c0 = thread_cpu_ns();
        t0 = Clock::now();
        auto s1 = fresh.build(cfg, {}, src, s0->get());
        t1 = Clock::now();
        cpu_same += thread_cpu_ns() - c0;
        same.push_back(ms_between(t0, t1));
        const size_t v = static_cast<size_t>(i) % down.size();
        down[v][0] = !down[v][0];
        c0 = thread_cpu_ns();
        t0 = Clock::now();
        auto s2 = fresh.build(cfg, {}, src, s1->get());
        t1 = Clock::now();
        cpu_flip += thread_cpu_ns() - c0;
        flip.push_back(ms_between(t0, t1));
        down[v][0] = !down[v][0];
    }
    std::printf(
        "rebuild %-3s %u reals: cold %.2f ms, unchanged %.2f ms, one verdict changed %.2f ms "
        "(wall medians of %d; CPU means %.2f / %.2f / %.2f ms)\n",
        name, total_reals(o), percentiles(cold).median, percentiles(same).median,
        percentiles(flip).median, kReps, cpu_cold / 1e6 / kReps, cpu_same / 1e6 / kReps,
        cpu_flip / 1e6 / kReps);
}

// ---- main -------------------------------------------------------------------------------------

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : "0"; };
        if (a == "--vs") {
            o.vs = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--reals-per-vs") {
            o.reals_per_vs = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--seconds") {
            o.seconds = std::atof(next());
        } else if (a == "--warmup") {
            o.warmup = std::atof(next());
        } else if (a == "--delay-ms") {
            o.delay_ms = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--timeout-ms") {
            o.timeout_ms = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--retry") {
            o.retry = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--churn-pct") {
            o.churn_pct = std::atof(next());
        } else if (a == "--churn-cycles") {
            o.churn_cycles = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--ports") {
            o.ports_mode = true;
        } else if (a == "--max-starts") {
            o.max_starts = static_cast<uint32_t>(std::atoi(next()));
        } else if (a == "--no-eal") {
            o.eal = false;
        } else if (a == "--raw") {
            o.raw = true;
        } else if (a == "--no-rebuild") {
            o.rebuild = false;
        } else if (a == "--algo") {
            o.algo_name = next();
            if (o.algo_name == "rr") {
                o.algo = config::LbAlgo::Rr;
            } else if (o.algo_name == "wlc") {
                o.algo = config::LbAlgo::Wlc;
            } else if (o.algo_name == "mh") {
                o.algo = config::LbAlgo::Mh;
            } else {
                std::fprintf(stderr, "health_bench: --algo rr|wlc|mh\n");
                return false;
            }
        } else {
            std::fprintf(stderr, "health_bench: unknown argument %s (see the file comment)\n",
                         a.c_str());
            return false;
        }
    }
    if (o.ports_mode && total_reals(o) > 40000) {
        std::fprintf(stderr, "health_bench: --ports supports at most 40,000 reals\n");
        return false;
    }
    return total_reals(o) > 0;
}

bool raise_nofile(uint32_t reals) {
    // Listeners + at most one probe socket per real + accepted sockets + slack.
    const rlim_t want = rlim_t{reals} * 2 + 1024;
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= want) {
        return true;
    }
    rlimit up{want, std::max(rl.rlim_max, want)};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
        return true;
    }
    up = {std::min(want, rl.rlim_max), rl.rlim_max};
    setrlimit(RLIMIT_NOFILE, &up);
    getrlimit(RLIMIT_NOFILE, &rl);
    std::fprintf(stderr, "health_bench: RLIMIT_NOFILE %llu (wanted %llu)\n",
                 static_cast<unsigned long long>(rl.rlim_cur),
                 static_cast<unsigned long long>(want));
    return rl.rlim_cur >= rlim_t{reals} + 1024;
}

bool init_eal() {
    std::vector<std::string> args{"health_bench",
                                  "-l",
                                  "0",
                                  "--no-pci",
                                  "--no-telemetry",
                                  "--log-level=*:warning",
                                  "--no-huge",
                                  "-m",
                                  "128",
                                  "--no-shconf",
                                  "--file-prefix=hbench" + std::to_string(getpid())};
    std::vector<char*> argv;
    for (auto& s : args) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    cpu_set_t before;
    sched_getaffinity(0, sizeof(before), &before);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
        std::fprintf(stderr, "health_bench: rte_eal_init: %s\n", rte_strerror(rte_errno));
        return false;
    }
    // EAL pins this thread to lcore 0; on a shared two-core machine let it float as before.
    sched_setaffinity(0, sizeof(before), &before);
    return true;
}

int run(const Options& o) {
    const uint32_t n = total_reals(o);
    if (!raise_nofile(n)) {
        std::fprintf(stderr, "health_bench: not enough file descriptors for %u reals\n", n);
        return 1;
    }
    if (o.eal && !init_eal()) {
        return 1;
    }
    Sink sink;
    if (!sink.init(o.eal)) {
        return 1;
    }
    ListenerFarm farm(o);
    if (!o.raw && !farm.start()) {
        return 1;
    }
    FakeNetwork net(o);
    std::unique_ptr<health::SynProber> prober;
    if (o.raw) {
        health::SynProberConfig pc;
        pc.endpoints.push_back(health::SynEndpoint{
            .port_id = 0,
            .mac = net::MacAddress{{0x02, 0, 0, 0, 0, 1}},
            .v4 = net::IpAddress::v4(0x0afe0001u),
            .v6 = std::nullopt,
        });
        pc.seed = static_cast<uint64_t>(getpid());
        prober = std::make_unique<health::SynProber>(std::move(pc));
    }
    const config::Config cfg = make_config(o, o.algo);
    std::printf(
        "health_bench: %u virtual servers x %u reals = %u TCP_CHECKs, delay_loop %u ms, "
        "connect_timeout %u ms, retry %u, lb_algo %s, %s, snapshots via %s\n",
        o.vs, o.reals_per_vs, n, o.delay_ms, o.timeout_ms, o.retry, o.algo_name.c_str(),
        o.ports_mode ? "127.0.0.1 x one port per real" : "one 127.1.x.y per real :8080",
        o.eal ? "rcu::Publisher (EAL --no-huge)" : "a plain holder (no EAL)");
    std::printf("probes: %s\n", o.raw ? "raw (SynProber, in-process fake network, no kernel)"
                                      : "kernel sockets (listener farm on loopback)");

    const auto t_create = Clock::now();
    uint64_t c0 = thread_cpu_ns();
    health::EngineOptions eopts;
    if (o.max_starts > 0) {
        eopts.max_starts_per_poll = o.max_starts;
    }
    if (o.raw) {
        eopts.raw_tcp.prober = prober.get();
        eopts.raw_tcp.sink = &net;
        eopts.raw_tcp.next_hop = [](const net::IpAddress&) {
            return std::optional<health::RawNextHop>(
                health::RawNextHop{.port_id = 0, .mac = net::MacAddress{{0x02, 0, 0, 0, 0, 2}}});
        };
    }
    std::printf("max_starts_per_poll %zu\n", eopts.max_starts_per_poll);
    auto created = health::Engine::create(cfg, to_health(t_create), eopts);
    const uint64_t create_cpu = thread_cpu_ns() - c0;
    if (!created) {
        std::fprintf(stderr, "health_bench: engine: %s\n", created.error().message.c_str());
        return 1;
    }
    health::Engine& engine = **created;
    ControlLoop loop(cfg, engine, sink);
    if (o.raw) {
        loop.set_io_hook([&](health::TimePoint now) { net.drain(engine, now); });
    }
    c0 = thread_cpu_ns();
    if (!loop.publish_initial()) {
        return 1;
    }
    std::printf("setup: Engine::create %.1f ms CPU, first snapshot %.1f ms CPU\n", create_cpu / 1e6,
                (thread_cpu_ns() - c0) / 1e6);

    // 1. Warm-up: every checker runs its first probe within one delay_loop.
    LoopStats warm;
    const double warm_s = std::max(o.warmup, o.delay_ms / 1000.0 + 1);
    loop.run(Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(warm_s * 1000)), warm);
    std::printf("warm-up %.1f s: %zu of %u reals absent\n", warm_s, loop.absent(), n);

    // 2. Steady state.
    LoopStats steady;
    const health::EngineStats s0 = engine.stats();
    rusage ru0{}, ru1{};
    getrusage(RUSAGE_THREAD, &ru0);
    const uint64_t cpu0 = thread_cpu_ns();
    const uint64_t farm0 = farm.farm_cpu_ns();
    const uint64_t acc0 = farm.accepted();
    const auto w0 = Clock::now();
    loop.run(w0 + std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000)), steady);
    const auto w1 = Clock::now();
    const uint64_t cpu1 = thread_cpu_ns();
    getrusage(RUSAGE_THREAD, &ru1);
    const health::EngineStats s1 = engine.stats();
    const double wall = std::chrono::duration<double>(w1 - w0).count();
    const double cpu_s = (cpu1 - cpu0) / 1e9;
    const auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    const double user = tv(ru1.ru_utime) - tv(ru0.ru_utime);
    const double sys = tv(ru1.ru_stime) - tv(ru0.ru_stime);
    const uint64_t probes = s1.probes_started - s0.probes_started;
    std::printf(
        "steady %.1f s: control thread CPU %.2f%% of one core (%.3f s: user %.3f s, sys %.3f s), "
        "%.0f probes/s, %.2f us CPU per probe, succeeded %llu, failed %llu (timeouts %llu), "
        "wakeups %.0f/s, snapshots published %llu; listener farm %.2f%% (not counted), "
        "%llu accepted\n",
        wall, 100.0 * cpu_s / wall, cpu_s, user, sys, probes / wall,
        probes ? cpu_s * 1e6 / double(probes) : 0.0,
        static_cast<unsigned long long>(s1.probes_succeeded - s0.probes_succeeded),
        static_cast<unsigned long long>(s1.probes_failed - s0.probes_failed),
        static_cast<unsigned long long>(s1.probe_timeouts - s0.probe_timeouts),
        steady.wakeups / wall, static_cast<unsigned long long>(steady.publishes),
        100.0 * (farm.farm_cpu_ns() - farm0) / 1e9 / wall,
        static_cast<unsigned long long>(farm.accepted() - acc0));
    std::printf("RESULT cpu_pct=%.2f probes_per_s=%.0f succeeded=%llu failed=%llu\n",
                100.0 * cpu_s / wall, probes / wall,
                static_cast<unsigned long long>(s1.probes_succeeded - s0.probes_succeeded),
                static_cast<unsigned long long>(s1.probes_failed - s0.probes_failed));

    const double probe_us = probes ? cpu_s * 1e6 / double(probes) : 0.0;
    if (o.raw) {
        const health::SynProberStats& ps = prober->stats();
        const double fake_us = fake_reply_us();
        std::printf(
            "raw: prober started %llu, open %llu, refused %llu, timeouts %llu, no free port "
            "%llu, tx failed %llu; fake network: %llu SYNs answered, %llu RSTs received, %llu "
            "replies consumed, %llu not; engine raw probes %llu, kernel fallbacks %llu\n",
            static_cast<unsigned long long>(ps.started), static_cast<unsigned long long>(ps.open),
            static_cast<unsigned long long>(ps.refused),
            static_cast<unsigned long long>(ps.timeouts),
            static_cast<unsigned long long>(ps.no_free_port),
            static_cast<unsigned long long>(ps.tx_failed),
            static_cast<unsigned long long>(net.syns()),
            static_cast<unsigned long long>(net.rsts()),
            static_cast<unsigned long long>(net.consumed()),
            static_cast<unsigned long long>(net.not_consumed()),
            static_cast<unsigned long long>(s1.raw_probes),
            static_cast<unsigned long long>(s1.raw_fallbacks));
        std::printf(
            "raw: %.3f us CPU per probe on the control thread (= %.2f%% of one core at 10,000 "
            "probes/s), of which the fake network's reply building %.3f us (measured alone)\n",
            probe_us, probe_us, fake_us);
        std::printf("RESULT raw_probe_us=%.3f raw_pct_at_10k=%.2f fake_reply_us=%.3f\n", probe_us,
                    probe_us, fake_us);
    } else {
        // The kernel's share: the same system calls without the engine.
        const double floor_us = kernel_floor_us(o, 20000);
        std::printf(
            "kernel floor (same syscalls, no engine): %.2f us CPU per connection; engine "
            "overhead above it %.2f us per probe = %.2f%% of one core at %.0f probes/s\n",
            floor_us, probe_us - floor_us, (probe_us - floor_us) * probes / wall / 1e4,
            probes / wall);
        std::printf("RESULT kernel_floor_us=%.2f probe_us=%.2f\n", floor_us, probe_us);
    }
    const auto set_down = [&](const std::vector<uint32_t>& reals, bool down) {
        if (o.raw) {
            net.set_down(reals, down);
        } else {
            farm.set_down(reals, down);
        }
    };

    // 3. Churn: close a spread-out batch of listeners, wait for removal, reopen, wait for return.
    if (o.churn_pct > 0 && o.churn_cycles > 0) {
        const uint32_t stride = std::max<uint32_t>(1, static_cast<uint32_t>(100.0 / o.churn_pct));
        std::vector<uint32_t> batch;
        for (uint32_t i = 0; i < n; i += stride) {
            batch.push_back(i + (i / stride) % std::min<uint32_t>(stride, o.reals_per_vs));
        }
        std::erase_if(batch, [&](uint32_t i) { return i >= n; });
        LoopStats churn;
        const uint64_t cc0 = thread_cpu_ns();
        const auto cw0 = Clock::now();
        const auto limit = std::chrono::milliseconds(
            static_cast<int64_t>(4 * (o.delay_ms + o.timeout_ms) * (o.retry + 1)) + 2000);
        bool complete = true;
        for (uint32_t c = 0; c < o.churn_cycles; ++c) {
            set_down(batch, true);
            loop.run(Clock::now() + limit, churn, [&] { return loop.absent() >= batch.size(); });
            complete = complete && loop.absent() == batch.size();
            set_down(batch, false);
            loop.run(Clock::now() + limit, churn, [&] { return loop.absent() == 0; });
            complete = complete && loop.absent() == 0;
        }
        const double cwall = std::chrono::duration<double>(Clock::now() - cw0).count();
        const double ccpu = (thread_cpu_ns() - cc0) / 1e9;
        const Percentiles lat = percentiles(churn.latency_ms);
        const Percentiles wl = percentiles(churn.wake_latency_ms);
        const Percentiles bm = percentiles(churn.build_ms);
        const Percentiles cl = percentiles(churn.cpu_latency_ms);
        const Percentiles cwl = percentiles(churn.cpu_wake_latency_ms);
        std::printf(
            "churn: %u cycles x %zu reals down and up (%s), %llu changed verdicts in %llu "
            "snapshots over %.1f s, control thread CPU %.2f%% of one core\n",
            o.churn_cycles, batch.size(), complete ? "all observed" : "INCOMPLETE",
            static_cast<unsigned long long>(churn.changed_verdicts),
            static_cast<unsigned long long>(churn.publishes), cwall, 100.0 * ccpu / cwall);
        std::printf(
            "verdict-to-snapshot (take_changed -> published): median %.3f ms, p99 %.3f ms, "
            "max %.3f ms (n=%zu)\n",
            lat.median, lat.p99, lat.max, lat.n);
        std::printf(
            "  from wakeup (epoll_wait returned -> published): median %.3f ms, p99 %.3f "
            "ms, max %.3f ms; SnapshotFactory::build per publication: median %.3f ms, "
            "p99 %.3f ms, max %.3f ms\n",
            wl.median, wl.p99, wl.max, bm.median, bm.p99, bm.max);
        std::printf(
            "  in control-thread CPU time: take_changed -> published median %.3f ms, p99 "
            "%.3f ms, max %.3f ms; wakeup -> published median %.3f ms, p99 %.3f ms, "
            "max %.3f ms\n",
            cl.median, cl.p99, cl.max, cwl.median, cwl.p99, cwl.max);
        std::printf(
            "RESULT cpu_latency_median_ms=%.3f cpu_latency_p99_ms=%.3f "
            "cpu_latency_max_ms=%.3f cpu_wake_latency_p99_ms=%.3f\n",
            cl.median, cl.p99, cl.max, cwl.p99);
        std::printf(
            "RESULT latency_median_ms=%.3f latency_p99_ms=%.3f latency_max_ms=%.3f "
            "changed=%llu\n",
            lat.median, lat.p99, lat.max, static_cast<unsigned long long>(churn.changed_verdicts));
    }
    farm.stop();

    // 4. Whole-configuration rebuild cost.
    if (o.rebuild) {
        rebuild_costs(o, config::LbAlgo::Rr, "rr");
        rebuild_costs(o, config::LbAlgo::Wlc, "wlc");
        rebuild_costs(o, config::LbAlgo::Mh, "mh");
    }
    return 0;
}

}  // namespace
}  // namespace director

int main(int argc, char** argv) {
    director::Options o;
    if (!director::parse(argc, argv, o)) {
        return 2;
    }
    const int rc = director::run(o);
    std::fflush(stdout);
    // Skip rte_eal_cleanup and static destructors' ordering issues: the figures are printed.
    std::_Exit(rc);
}
