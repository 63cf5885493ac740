// SPDX-License-Identifier: BSD-3-Clause
// MISC_CHECK (keepalived check_misc.c): run misc_path with misc_timeout. Exit 0 succeeds,
// 1 fails; with misc_dynamic 2..255 succeed and set the real server's weight to status − 2.
// A script over its timeout gets SIGTERM, then SIGKILL (vrrp::ScriptRunner) and fails as
// "timed out".
#include "health/detail/probes.h"

namespace director::health::detail {

namespace {

class MiscProbe final : public Probe {
public:
    MiscProbe(const CheckSpec& spec, const ProbeContext& ctx)
        : spec_(spec), runner_(ctx.runner), kill_grace_(ctx.kill_grace) {}

    std::optional<ProbeResult> start(TimePoint now) override {
        // The runner enforces misc_timeout; this deadline only guards against a child that
        // survives SIGKILL's grace period (uninterruptible sleep).
        deadline_ = now + spec_.misc_timeout + 2 * kill_grace_ + std::chrono::seconds(1);
        if (runner_ == nullptr) {
            return ProbeResult::failure("no script runner");
        }
        auto id = runner_->start(spec_.misc_argv, "MISC_CHECK " + spec_.rs_address, now,
                                 spec_.misc_timeout);
        if (!id) {
            return ProbeResult::failure(id.error().message);
        }
        id_ = *id;
        return std::nullopt;
    }

    std::optional<ProbeResult> on_ready(uint32_t /*events*/, TimePoint /*now*/) override {
        return std::nullopt;
    }

    std::optional<ProbeResult> on_exit(const vrrp::ScriptRunner::Exit& e) override {
        id_.reset();
        if (e.timed_out) {
            return ProbeResult::timeout("timed out");
        }
        if (!e.exited) {
            return ProbeResult::failure("due to signal " + std::to_string(e.signal));
        }
        if (e.exit_code == 0) {
            return ProbeResult::success();
        }
        if (spec_.misc_dynamic && e.exit_code >= 2 && e.exit_code <= 255) {
            ProbeResult r = ProbeResult::success();
            r.weight = static_cast<uint32_t>(e.exit_code - 2);
            return r;
        }
        return ProbeResult::failure("exited with status " + std::to_string(e.exit_code));
    }

    ProbeResult on_deadline(TimePoint /*now*/) override {
        return ProbeResult::timeout("timed out");
    }

    TimePoint deadline() const override { return deadline_; }

    std::optional<vrrp::ScriptRunner::Id> script() const override { return id_; }

private:
    const CheckSpec& spec_;
    vrrp::ScriptRunner* runner_;
    Duration kill_grace_;
    std::optional<vrrp::ScriptRunner::Id> id_;
    TimePoint deadline_{};
};

}  // namespace

std::unique_ptr<Probe> make_misc_probe(const CheckSpec& spec, const ProbeContext& ctx) {
    return std::make_unique<MiscProbe>(spec, ctx);
}

}  // namespace director::health::detail
