// SPDX-License-Identifier: BSD-3-Clause
#include "health/engine.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "health/detail/tls.h"

namespace director::health {

/** Registers one slot's probe sockets with the engine's epoll under the slot's token. */
class Engine::Watcher final : public IoWatcher {
public:
    explicit Watcher(int epoll_fd) noexcept : epoll_fd_(epoll_fd) {}

    void watch(int fd, uint32_t events) override {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = token;
        // One socket per probe at a time, and nearly every probe a new socket: ADD unless this
        // fd is the one this slot already added (one system call per watch, not a failing MOD
        // then ADD). The fallbacks keep it right should the bookkeeping ever be off.
        const int op = fd == added_fd_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (::epoll_ctl(epoll_fd_, op, fd, &ev) != 0) {
            if (op == EPOLL_CTL_ADD && errno == EEXIST) {
                ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
            } else if (op == EPOLL_CTL_MOD && errno == ENOENT) {
                ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
            }
        }
        added_fd_ = fd;
    }

    void unwatch(int fd) override {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        if (fd == added_fd_) {
            added_fd_ = -1;
        }
    }

    uint64_t token = 0;  ///< slot index << 32 | probe sequence

private:
    int epoll_fd_;
    int added_fd_ = -1;  ///< the fd this slot last added and has not unwatched
};

namespace {

/**
 * A TCP_CHECK whose SYN the SynProber sent (Engine::make_raw_probe). Its outcome comes from
 * the prober (Engine::deliver_raw), not from a socket; destroying it unfinished (a reload, the
 * engine going away) cancels the prober's slot, so a late reply is never consumed for it.
 */
class RawTcpProbe final : public Probe {
public:
    RawTcpProbe(SynProber& prober, SynProber::Handle handle, uint64_t token, TimePoint deadline)
        : prober_(prober), handle_(handle), token_(token), deadline_(deadline) {}
    ~RawTcpProbe() override { prober_.cancel(handle_, token_); }

    std::optional<ProbeResult> start(TimePoint /*now*/) override { return std::nullopt; }
    std::optional<ProbeResult> on_ready(uint32_t /*events*/, TimePoint /*now*/) override {
        return std::nullopt;
    }
    // A backstop only: the prober times the probe out at the same instant, and Engine::poll
    // polls the prober before the engine's timers.
    ProbeResult on_deadline(TimePoint /*now*/) override { return ProbeResult::timeout(); }
    TimePoint deadline() const override { return deadline_; }

private:
    SynProber& prober_;
    SynProber::Handle handle_;
    uint64_t token_;
    TimePoint deadline_;
};

}  // namespace

struct Engine::Slot {
    CheckSpec spec;
    CheckerState state;
    std::string owner;  ///< "VS display|RS display": identity across reloads
    uint32_t vs = 0;
    uint32_t rs = 0;
    uint32_t k = 0;
    uint32_t seq = 0;    ///< probe sequence: stale epoll events carry an older one
    uint32_t stamp = 0;  ///< timer stamp: only the newest timer of a slot is live
    TimePoint timer_at{};
    std::optional<ProbeResult> last{};
    // Declared last: the probe is destroyed first, while its spec and watcher still exist.
    std::unique_ptr<Watcher> watcher{};
    std::unique_ptr<Probe> probe{};
};

Engine::Engine(EngineOptions options) : options_(std::move(options)) {}

Engine::~Engine() {
    slots_.clear();  // probes unwatch and close before the epoll fd goes
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
}

Result<std::unique_ptr<Engine>> Engine::create(const config::Config& config, TimePoint now,
                                               EngineOptions options) {
    std::unique_ptr<Engine> e(new Engine(std::move(options)));
    if (!e->options_.probe_factory) {
        e->options_.probe_factory = make_probe;
    }
    e->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (e->epoll_fd_ < 0) {
        return make_error(std::string("epoll_create1: ") + std::strerror(errno));
    }
    e->runner_ = std::make_unique<vrrp::ScriptRunner>(e->options_.kill_grace);
    e->last_poll_ = now;
    if (e->options_.raw_tcp.prober != nullptr && e->options_.raw_tcp.sink == nullptr) {
        return make_error("health engine: raw_tcp.prober without raw_tcp.sink");
    }
    e->raw_out_.reserve(64);
    if (auto r = e->build(config, now, false); !r) {
        return make_error(r.error().message);
    }
    return e;
}

Result<void> Engine::reconfigure(const config::Config& config, TimePoint now) {
    return build(config, now, true);
}

Result<void> Engine::build(const config::Config& config, TimePoint now, bool reload) {
    // 1. Resolve everything first: an error leaves the running engine untouched.
    std::vector<ServiceSpec> service_specs;
    std::vector<std::vector<std::vector<CheckSpec>>> check_specs;
    bool need_tls = false;
    for (const config::VirtualServer& vs : config.virtual_servers) {
        auto svc = resolve_service(vs);
        if (!svc) {
            return make_error(svc.error().message);
        }
        service_specs.push_back(std::move(*svc));
        auto& per_vs = check_specs.emplace_back();
        for (const config::RealServer& rs : vs.real_servers) {
            auto& per_rs = per_vs.emplace_back();
            for (std::size_t k = 0; k < rs.checks.size(); ++k) {
                auto spec = resolve_check(vs, rs, rs.checks[k], k);
                if (!spec) {
                    return make_error(spec.error().message);
                }
                need_tls = need_tls || spec->type == config::CheckType::SslGet;
                per_rs.push_back(std::move(*spec));
            }
        }
    }
    if (need_tls && !tls_) {
        auto tls = detail::TlsContext::create();
        if (!tls) {
            return make_error(tls.error().message);
        }
        tls_ = std::move(*tls);
    }

    // 2. Old state by identity.
    std::multimap<std::string, uint32_t> old_checkers;  // owner → old slot
    for (uint32_t i = 0; i < slots_.size(); ++i) {
        old_checkers.emplace(slots_[i]->owner, i);
    }
    struct OldReal {
        bool alive;
        std::optional<uint32_t> weight;
    };
    std::map<std::string, OldReal> old_reals;                    // owner → state
    std::map<std::string, ServiceHealth::Restore> old_services;  // VS display → state
    for (const ServiceHealth& svc : services_) {
        ServiceHealth::Restore r = svc.restore_state();
        for (std::size_t i = 0; i < svc.spec().reals.size(); ++i) {
            old_reals[svc.spec().display + "|" + svc.spec().reals[i].display] =
                OldReal{svc.decision().reals[i].alive, r.weights[i]};
        }
        old_services.emplace(svc.spec().display, std::move(r));
    }
    std::vector<bool> old_used(slots_.size(), false);

    // 3. New slots, carrying the state of matching checkers.
    std::vector<std::unique_ptr<Slot>> slots;
    std::vector<std::vector<std::vector<uint32_t>>> index(service_specs.size());
    for (uint32_t v = 0; v < service_specs.size(); ++v) {
        index[v].resize(check_specs[v].size());
        for (uint32_t r = 0; r < check_specs[v].size(); ++r) {
            const std::string owner =
                service_specs[v].display + "|" + service_specs[v].reals[r].display;
            const auto old_real = old_reals.find(owner);
            bool carried_down = false;
            std::vector<Slot*> fresh;
            for (uint32_t k = 0; k < check_specs[v][r].size(); ++k) {
                CheckSpec& spec = check_specs[v][r][k];
                std::optional<uint32_t> match;
                for (auto [it, end] = old_checkers.equal_range(owner); it != end; ++it) {
                    if (!old_used[it->second] && same_probe(slots_[it->second]->spec, spec)) {
                        match = it->second;
                        break;
                    }
                }
                auto slot = std::make_unique<Slot>(Slot{
                    .spec = spec,
                    .state = CheckerState(spec.timing, now, spec.key),
                    .owner = owner,
                    .vs = v,
                    .rs = r,
                    .k = k,
                });
                if (match) {
                    old_used[*match] = true;
                    const Slot& old = *slots_[*match];
                    slot->state = old.state;
                    slot->state.reconfigure(spec.timing, now);
                    slot->last = old.last;
                    if (old.probe) {
                        slot->state.set_next_due(now);  // its probe is cancelled: rerun now
                    }
                    carried_down = carried_down || (old.state.has_run() && !old.state.up());
                } else {
                    fresh.push_back(slot.get());
                }
                slot->watcher = std::make_unique<Watcher>(epoll_fd_);
                index[v][r].push_back(static_cast<uint32_t>(slots.size()));
                slots.push_back(std::move(slot));
            }
            if (reload && old_real != old_reals.end() && old_real->second.alive && !carried_down) {
                for (Slot* s : fresh) {
                    s->state.assume_up();
                }
            }
        }
    }

    // 4. Swap in: old probes are cancelled (unwatched, closed) with their slots; their
    //    scripts run on under the runner's timeout and their exits are ignored.
    for (const auto& [id, slot] : scripts_) {
        (void)slot;
        orphans_.push_back(id);
    }
    slots_ = std::move(slots);
    in_flight_ = 0;
    index_ = std::move(index);
    scripts_.clear();
    timers_ = {};
    std::vector<ServiceHealth> services;
    services.reserve(service_specs.size());
    for (uint32_t v = 0; v < service_specs.size(); ++v) {
        std::vector<std::vector<bool>> ups(index_[v].size());
        for (uint32_t r = 0; r < index_[v].size(); ++r) {
            for (uint32_t slot : index_[v][r]) {
                ups[r].push_back(slots_[slot]->state.up());
            }
        }
        const ServiceSpec& spec = service_specs[v];
        std::optional<ServiceHealth::Restore> restore;
        if (auto it = old_services.find(spec.display); it != old_services.end()) {
            restore = ServiceHealth::Restore{it->second.quorum_up, it->second.sorry_active, {}};
            for (const RealSpec& rs : spec.reals) {
                const auto old = old_reals.find(spec.display + "|" + rs.display);
                restore->weights.push_back(old != old_reals.end() ? old->second.weight
                                                                  : std::nullopt);
            }
        }
        services.emplace_back(spec, ups, restore ? &*restore : nullptr);
    }
    services_ = std::move(services);
    for (ServiceHealth& svc : services_) {
        apply(svc.start(), now);
    }
    for (uint32_t i = 0; i < slots_.size(); ++i) {
        schedule(i, slots_[i]->state.next_due());
    }
    changed_ = true;
    ++generation_;
    return {};
}

const CheckerState& Engine::checker(std::size_t vs, std::size_t rs, std::size_t k) const {
    return slots_[index_[vs][rs][k]]->state;
}

const std::optional<ProbeResult>& Engine::last_result(std::size_t vs, std::size_t rs,
                                                      std::size_t k) const {
    return slots_[index_[vs][rs][k]]->last;
}

void Engine::schedule(uint32_t slot, TimePoint at) {
    Slot& s = *slots_[slot];
    ++s.stamp;
    s.timer_at = at;
    timers_.push(Timer{at, slot, s.stamp});
}

void Engine::on_ready(int fd, TimePoint now) {
    if (fd == epoll_fd_) {
        dispatch_events(now);
        prune_timers();
    }
}

void Engine::poll(TimePoint now) {
    last_poll_ = now;
    dispatch_events(now);
    reap_scripts(now);
    if (options_.raw_tcp.prober != nullptr) {
        // Before run_timers: a raw probe's timeout is reported by the prober, not the backstop.
        options_.raw_tcp.prober->poll(now, *options_.raw_tcp.sink, raw_out_);
        deliver_raw(now);
    }
    run_timers(now);
    prune_timers();
}

bool Engine::on_host_frame(std::span<const uint8_t> frame, TimePoint now) {
    if (options_.raw_tcp.prober == nullptr) {
        return false;
    }
    const bool consumed =
        options_.raw_tcp.prober->on_frame(frame, now, *options_.raw_tcp.sink, raw_out_);
    if (consumed) {
        deliver_raw(now);
        prune_timers();
    }
    return consumed;
}

void Engine::deliver_raw(TimePoint now) {
    for (const SynOutcome& o : raw_out_) {
        const auto slot = static_cast<uint32_t>(o.token >> 32);
        if (slot >= slots_.size() || !slots_[slot]->probe ||
            slots_[slot]->seq != static_cast<uint32_t>(o.token)) {
            continue;  // cannot happen: RawTcpProbe cancels its prober slot when destroyed
        }
        switch (o.verdict) {
            case SynVerdict::Open:
                finish_probe(slot, ProbeResult::success(), now);
                break;
            case SynVerdict::Refused:
                // The kernel path's text for the same event (errno_text("connect", ECONNREFUSED)).
                finish_probe(slot, ProbeResult::failure("connect: Connection refused"), now);
                break;
            case SynVerdict::Timeout:
                finish_probe(slot, ProbeResult::timeout(), now);
                break;
        }
    }
    raw_out_.clear();
}

std::unique_ptr<Probe> Engine::make_raw_probe(uint32_t slot, TimePoint now) {
    const RawTcpOptions& raw = options_.raw_tcp;
    const Slot& s = *slots_[slot];
    if (raw.prober == nullptr || s.spec.type != config::CheckType::Tcp || s.spec.bindto ||
        s.spec.bind_port) {
        return nullptr;
    }
    std::optional<RawNextHop> hop;
    if (raw.next_hop) {
        hop = raw.next_hop(s.spec.address);
    }
    SynProber::Handle handle = 0;
    const uint64_t token = (uint64_t{slot} << 32) | s.seq;
    if (!hop ||
        raw.prober->start(token, hop->port_id, s.spec.address, s.spec.port, hop->mac,
                          s.spec.connect_timeout, now, *raw.sink, &handle) != SynStart::Started) {
        ++stats_.raw_fallbacks;
        return nullptr;
    }
    ++stats_.raw_probes;
    return std::make_unique<RawTcpProbe>(*raw.prober, handle, token, now + s.spec.connect_timeout);
}

std::optional<TimePoint> Engine::next_deadline() const {
    std::optional<TimePoint> best;
    if (!timers_.empty()) {
        best = timers_.top().at;
    }
    if (runner_->running() > 0) {
        TimePoint t = last_poll_ + options_.child_poll_interval;
        if (auto d = runner_->next_deadline()) {
            t = std::min(t, *d);
        }
        best = best ? std::min(*best, t) : t;
    }
    if (options_.raw_tcp.prober != nullptr) {
        if (auto d = options_.raw_tcp.prober->next_deadline()) {
            best = best ? std::min(*best, *d) : *d;
        }
    }
    return best;
}

void Engine::dispatch_events(TimePoint now) {
    constexpr int kBatch = 256;
    epoll_event events[kBatch];
    for (;;) {
        const int n = ::epoll_wait(epoll_fd_, events, kBatch, 0);
        if (n <= 0) {
            return;
        }
        for (int i = 0; i < n; ++i) {
            const uint64_t token = events[i].data.u64;
            const auto slot = static_cast<uint32_t>(token >> 32);
            if (slot >= slots_.size()) {
                continue;
            }
            Slot& s = *slots_[slot];
            if (!s.probe || s.seq != static_cast<uint32_t>(token)) {
                continue;  // a probe that already finished
            }
            if (auto r = s.probe->on_ready(events[i].events, now)) {
                finish_probe(slot, *r, now);
            } else if (s.probe->deadline() != s.timer_at) {
                schedule(slot, s.probe->deadline());
            }
        }
        if (n < kBatch) {
            return;
        }
    }
}

void Engine::reap_scripts(TimePoint now) {
    if (runner_->running() == 0) {
        return;
    }
    for (const vrrp::ScriptRunner::Exit& e : runner_->poll(now)) {
        const auto it = std::find_if(scripts_.begin(), scripts_.end(),
                                     [&](const auto& p) { return p.first == e.id; });
        if (it == scripts_.end()) {
            if (std::erase(orphans_, e.id) == 0) {
                stats_.script_errors += e.ok() ? 0 : 1;  // a notify / quorum script
            }
            continue;
        }
        const uint32_t slot = it->second;
        scripts_.erase(it);
        Slot& s = *slots_[slot];
        if (s.probe && s.probe->script() == e.id) {
            if (auto r = s.probe->on_exit(e)) {
                finish_probe(slot, *r, now);
            }
        }
    }
}

void Engine::run_timers(TimePoint now) {
    std::size_t starts = 0;
    while (!timers_.empty() && timers_.top().at <= now) {
        const Timer t = timers_.top();
        if (t.slot >= slots_.size() || slots_[t.slot]->stamp != t.stamp) {
            timers_.pop();  // superseded
            continue;
        }
        Slot& s = *slots_[t.slot];
        if (s.probe) {
            timers_.pop();
            finish_probe(t.slot, s.probe->on_deadline(now), now);
            continue;
        }
        if (starts >= options_.max_starts_per_poll) {
            break;  // the rest on the next poll(); next_deadline() is already due
        }
        timers_.pop();
        ++starts;
        start_probe(t.slot, now);
    }
}

void Engine::start_probe(uint32_t slot, TimePoint now) {
    Slot& s = *slots_[slot];
    ++s.seq;
    s.watcher->token = (uint64_t{slot} << 32) | s.seq;
    ProbeContext ctx;
    ctx.io = s.watcher.get();
    ctx.runner = runner_.get();
    ctx.tls = tls_.get();
    ctx.kill_grace = options_.kill_grace;
    ctx.nonce = s.spec.key ^ ++nonce_;
    s.probe = make_raw_probe(slot, now);
    if (!s.probe) {
        s.probe = options_.probe_factory(s.spec, ctx);
    }
    ++stats_.probes_started;
    in_flight_ += s.probe ? 1 : 0;
    if (!s.probe) {
        finish_probe(slot, ProbeResult::failure("no probe for this check type"), now);
        return;
    }
    if (auto r = s.probe->start(now)) {
        finish_probe(slot, *r, now);
        return;
    }
    if (auto id = s.probe->script()) {
        scripts_.emplace_back(*id, slot);
    }
    schedule(slot, s.probe->deadline());
}

void Engine::finish_probe(uint32_t slot, const ProbeResult& result, TimePoint now) {
    Slot& s = *slots_[slot];
    if (s.probe) {
        if (auto id = s.probe->script()) {
            std::erase_if(scripts_, [&](const auto& p) { return p.first == *id; });
        }
        s.probe.reset();  // unwatches and closes its sockets
        --in_flight_;
    }
    if (result.ok) {
        ++stats_.probes_succeeded;
    } else {
        ++stats_.probes_failed;
        stats_.probe_timeouts += result.timed_out ? 1 : 0;
    }
    s.last = result;
    ServiceHealth& svc = services_[s.vs];
    if (result.ok && result.weight) {
        // keepalived check_misc.c: update_svr_wgt() before update_svr_checker_state().
        apply(svc.set_weight(s.rs, *result.weight), now);
    }
    const CheckerStep step = s.state.on_result(result.ok, now);
    checker_log(s, step, result);
    apply(svc.on_checker(s.rs, s.k, step), now);
    schedule(slot, step.next_due);
}

void Engine::checker_log(const Slot& s, const CheckerStep& step, const ProbeResult& r) {
    if (step.report == CheckerReport::None) {
        return;
    }
    const bool ok = step.report == CheckerReport::Succeeded;
    const bool retries = step.report == CheckerReport::FailedAfterRetries;
    const std::string after =
        retries ? " failed after " + std::to_string(s.spec.timing.retry) + " retries." : " failed.";
    switch (s.spec.type) {
        case config::CheckType::Tcp:
            log(ok ? "TCP connection to " + s.spec.display + " success."
                   : "TCP_CHECK on service " + s.spec.display + after);
            break;
        case config::CheckType::HttpGet:
        case config::CheckType::SslGet:
            log(ok ? "Remote Web server " + s.spec.display + " succeed on service."
                   : "HTTP_CHECK on service " + s.spec.display + after);
            break;
        case config::CheckType::Udp:
            log(ok ? "UDP connection to " + s.spec.display + " success."
                   : "UDP_CHECK on service " + s.spec.display + after);
            break;
        case config::CheckType::Misc: {
            const std::string head = "Misc check to [" + s.spec.rs_address + "] for [" +
                                     (s.spec.misc_argv.empty() ? "" : s.spec.misc_argv[0]) + "] ";
            if (ok) {
                log(head + "succeeded.");
            } else if (r.timed_out) {
                log(head + "timed out.");
            } else {
                log(head + "failed (" + r.reason + ").");
            }
            break;
        }
    }
}

void Engine::apply(const Effects& fx, TimePoint now) {
    for (const std::string& line : fx.log) {
        log(line);
    }
    for (const ScriptCall& call : fx.scripts) {
        if (!options_.run_notify_scripts) {
            continue;
        }
        ++stats_.scripts_started;
        auto id = runner_->start(call.argv, call.keyword + " " + call.subject, now,
                                 options_.notify_timeout);
        if (!id) {
            ++stats_.script_errors;
            log("Failed to run " + call.keyword + " script for " + call.subject + ": " +
                id.error().message);
        }
    }
    if (fx.changed) {
        changed_ = true;
        ++generation_;
    }
}

void Engine::log(std::string line) {
    if (log_.size() >= options_.max_log_lines && !log_.empty()) {
        log_.pop_front();
        ++stats_.log_dropped;
    }
    log_.push_back(std::move(line));
}

std::vector<std::string> Engine::take_log() {
    std::vector<std::string> out(std::make_move_iterator(log_.begin()),
                                 std::make_move_iterator(log_.end()));
    log_.clear();
    return out;
}

EngineStats Engine::stats() const noexcept {
    EngineStats s = stats_;
    s.checkers = slots_.size();
    s.in_flight = in_flight_;
    s.scripts_running = runner_->running();
    return s;
}

void Engine::prune_timers() {
    while (!timers_.empty()) {
        const Timer& t = timers_.top();
        if (t.slot < slots_.size() && slots_[t.slot]->stamp == t.stamp) {
            return;
        }
        timers_.pop();
    }
}

}  // namespace director::health
