// SPDX-License-Identifier: BSD-3-Clause
#include "health/service.h"

#include <utility>

namespace director::health {

ServiceHealth::ServiceHealth(ServiceSpec spec, const std::vector<std::vector<bool>>& checker_up,
                             const Restore* restore)
    : spec_(std::move(spec)) {
    reals_.resize(spec_.reals.size());
    for (std::size_t i = 0; i < reals_.size(); ++i) {
        Real& r = reals_[i];
        if (i < checker_up.size()) {
            r.checker_up = checker_up[i];
        }
        r.checker_up.resize(spec_.reals[i].checkers, true);
        for (bool up : r.checker_up) {
            r.failed += up ? 0 : 1;
        }
        r.alive = r.failed == 0;
        r.weight = spec_.reals[i].weight;
        if (restore != nullptr && i < restore->weights.size() && restore->weights[i]) {
            r.weight = *restore->weights[i];
        }
    }
    if (restore != nullptr) {
        quorum_up_ = restore->quorum_up;
        sorry_active_ = restore->sorry_active && spec_.sorry_server.has_value();
    } else {
        // keepalived set_quorum_states(): up when the initial pool reaches quorum+hysteresis.
        quorum_up_ = live_weight() >= uint64_t{spec_.quorum} + spec_.hysteresis;
    }
    decision_ = compute();
}

Effects ServiceHealth::start() {
    Effects fx;
    update_quorum(true, fx);
    finish(fx);
    return fx;
}

Effects ServiceHealth::on_checker(std::size_t rs, std::size_t checker, const CheckerStep& step) {
    Effects fx;
    Real& r = reals_[rs];
    if (step.transition == HealthTransition::Unchanged) {
        // keepalived update_svr_checker_state(): an alpha checker confirming DOWN on its
        // first run still notifies (the real server was never announced).
        if (step.first && !step.up) {
            notify_real(rs, fx);
        }
        // Nothing the decision depends on moved: skip finish()'s O(reals) recomputation,
        // which would otherwise run on every probe result (10,000 per second at scale).
        return fx;
    } else if (step.up) {
        if (r.failed <= 1) {
            perform_real_state(rs, true, fx);
        }
        if (!r.checker_up[checker]) {
            r.checker_up[checker] = true;
            --r.failed;
        }
    } else {
        if (r.failed == 0) {
            perform_real_state(rs, false, fx);
        }
        if (r.checker_up[checker]) {
            r.checker_up[checker] = false;
            ++r.failed;
        }
    }
    finish(fx);
    return fx;
}

Effects ServiceHealth::set_weight(std::size_t rs, uint32_t weight) {
    Effects fx;
    Real& r = reals_[rs];
    if (weight != r.weight) {
        fx.log.push_back("Changing weight from " + std::to_string(r.weight) + " to " +
                         std::to_string(weight) + " for " + (r.alive ? "" : "in") +
                         "active service " + spec_.reals[rs].display + " of VS " + spec_.display);
        r.weight = weight;
        update_quorum(false, fx);
        finish(fx);
    }
    return fx;
}

ServiceHealth::Restore ServiceHealth::restore_state() const {
    Restore s;
    s.quorum_up = quorum_up_;
    s.sorry_active = sorry_active_;
    s.weights.reserve(reals_.size());
    for (std::size_t i = 0; i < reals_.size(); ++i) {
        s.weights.push_back(reals_[i].weight == spec_.reals[i].weight
                                ? std::nullopt
                                : std::optional<uint32_t>(reals_[i].weight));
    }
    return s;
}

uint64_t ServiceHealth::live_weight() const noexcept {
    uint64_t sum = 0;
    for (const Real& r : reals_) {
        sum += r.alive ? r.weight : 0;
    }
    return sum;
}

void ServiceHealth::perform_real_state(std::size_t rs, bool alive, Effects& fx) {
    Real& r = reals_[rs];
    if (r.alive == alive) {
        return;
    }
    const RealSpec& s = spec_.reals[rs];
    // ipwrapper.c perform_svr_state(): "%sing service %s %s VS %s".
    const char* verb =
        alive ? (s.inhibit ? "Enabling" : "Adding") : (s.inhibit ? "Disabling" : "Removing");
    const char* prep = s.inhibit ? "of" : (alive ? "to" : "from");
    fx.log.push_back(std::string(verb) + " service " + s.display + " " + prep + " VS " +
                     spec_.display);
    r.alive = alive;
    notify_real(rs, fx);
    update_quorum(false, fx);
}

void ServiceHealth::notify_real(std::size_t rs, Effects& fx) const {
    const RealSpec& s = spec_.reals[rs];
    const bool alive = reals_[rs].alive;
    const std::vector<std::string>& argv = alive ? s.notify_up : s.notify_down;
    if (!argv.empty()) {
        fx.scripts.push_back({alive ? "notify_up" : "notify_down", argv, s.display});
    }
}

void ServiceHealth::update_quorum(bool init, Effects& fx) {
    // ipwrapper.c update_quorum_state(), with its log lines and its threshold arithmetic.
    const auto sum = static_cast<int64_t>(live_weight());
    const int64_t q = spec_.quorum;
    const int64_t h = spec_.hysteresis;
    const int64_t threshold = q + (quorum_up_ ? -h : h);
    const std::string qh = std::to_string(q) + (quorum_up_ ? "-" : "+") + std::to_string(h) + "=" +
                           std::to_string(threshold);
    const bool have_sorry = spec_.sorry_server.has_value();
    if (!quorum_up_ && sum >= threshold) {
        quorum_up_ = true;
        fx.log.push_back("Gained quorum " + qh + " <= " + std::to_string(sum) + " for VS " +
                         spec_.display);
        if (sorry_active_) {
            fx.log.push_back("Removing sorry server " + spec_.sorry_display + " from VS " +
                             spec_.display);
            sorry_active_ = false;
            fx.log.push_back("Adding alive servers to the pool for VS " + spec_.display);
        }
        if (!spec_.quorum_up.empty()) {
            fx.scripts.push_back({"quorum_up", spec_.quorum_up, spec_.display});
        }
    } else if ((quorum_up_ && (sum == 0 || sum < threshold)) ||
               (init && !quorum_up_ && have_sorry && !sorry_active_)) {
        quorum_up_ = false;
        // keepalived prints "q-h=threshold" here even when the threshold it computed was q+h
        // (start-up with quorum already down); we print what it prints.
        fx.log.push_back(std::string(init ? "Starting with quorum down " : "Lost quorum ") +
                         std::to_string(q) + "-" + std::to_string(h) + "=" +
                         std::to_string(threshold) + " > " + std::to_string(sum) + " for VS " +
                         spec_.display);
        if (have_sorry && !sorry_active_) {
            fx.log.push_back("Adding sorry server " + spec_.sorry_display + " to VS " +
                             spec_.display);
            fx.log.push_back("Removing alive servers from the pool for VS " + spec_.display);
            sorry_active_ = true;
        }
        if (!spec_.quorum_down.empty()) {
            fx.scripts.push_back({"quorum_down", spec_.quorum_down, spec_.display});
        }
    }
}

ServiceDecision ServiceHealth::compute() const {
    ServiceDecision d;
    d.reals.reserve(reals_.size());
    for (std::size_t i = 0; i < reals_.size(); ++i) {
        const Real& r = reals_[i];
        RealDecision rd;
        rd.alive = r.alive;
        if (!r.alive || sorry_active_) {
            // Out of service: deleted, or with inhibit_on_failure kept at weight 0
            // (ipvswrapper.c turns DEL_DEST into "edit weight 0" for inhibited servers).
            rd.present = spec_.reals[i].inhibit;
            rd.weight = 0;
        } else {
            rd.present = true;
            rd.weight = r.weight;
        }
        d.reals.push_back(rd);
    }
    d.quorum_up = quorum_up_;
    d.sorry_active = sorry_active_;
    d.sorry_server = spec_.sorry_server;
    d.live_weight = live_weight();
    return d;
}

void ServiceHealth::finish(Effects& fx) {
    ServiceDecision d = compute();
    fx.changed = !(d == decision_);
    decision_ = std::move(d);
}

}  // namespace director::health
