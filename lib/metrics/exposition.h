// SPDX-License-Identifier: BSD-3-Clause
// Prometheus text exposition format, version 0.0.4: the body a scraper reads from /metrics.
//
// Why by hand: Debian 12 has no prometheus-cpp, and the format is a few line rules (STYLE C7).
// The writer is pure (no EAL, no I/O, no clock), so its exact output is unit-tested and checked
// with `promtool check metrics`.
//
// What it guarantees, whatever order the caller adds things in:
//   - every family's `# HELP` and `# TYPE` lines appear once, before its samples, even when
//     family() is called for it several times (e.g. once per lcore or per subsystem);
//   - a family's samples are contiguous (the format requires it);
//   - deterministic order: families sorted by name; samples of a family sorted by their label
//     values in natural order (digit runs compare as numbers: lcore="2" before lcore="10",
//     10.0.0.9 before 10.0.0.10), with label pairs kept in the order the caller gave them;
//   - escaping: HELP text escapes `\` and newline; label values escape `\`, `"` and newline;
//   - counters are named `<name>_total` (the suffix is appended when missing), and are never
//     negative or NaN;
//   - values: integers print exactly (uint64_t counters beyond 2^53 stay exact), doubles in
//     their shortest round-trip form, non-finite ones as NaN, +Inf and -Inf.
// Nothing here aborts: a call that would make the output invalid (bad metric or label name,
// empty HELP, a family re-declared with another type or help, a duplicate label set, a negative
// counter, a sample with no family) is dropped and described in errors(); the rest of the
// output stays valid. Such errors are bugs in the caller's catalogue: tests assert errors() is
// empty, and the control loop logs them.
//
// Usage (control lcore, e.g. once a second; see server.h for publishing):
//
//     metrics::TextWriter w;
//     w.family("director_rx_packets", "Packets received on worker RX queues",
//              metrics::MetricType::Counter);                  // -> director_rx_packets_total
//     for (const Worker& wk : workers) {
//         w.sample({{"lcore", std::to_string(wk.lcore())}}, wk.counters().rx_packets);
//     }
//     w.family("director_vrrp_master", "1 when this node is VRRP master", MetricType::Gauge);
//     w.sample({{"instance", "VI_1"}}, is_master);
//     for (const std::string& e : w.errors()) { log_warn(e); }
//     server->publish(w.take());
//
// Caller: any single thread (one owner; not thread-safe). Not for the worker hot path: it
// allocates.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace director::metrics {

/** The `# TYPE` of a family. Histograms and summaries are not needed by the director. */
enum class MetricType : uint8_t { Counter, Gauge, Untyped };

/** "counter", "gauge" or "untyped": the word on the `# TYPE` line. */
std::string_view to_string(MetricType type) noexcept;

/**
 * One label of a sample. Views only: the writer copies both strings before sample() returns,
 * so temporaries (`{"lcore", std::to_string(id)}`) are fine.
 */
struct Label {
    std::string_view name;   ///< [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved)
    std::string_view value;  ///< any UTF-8 text; escaped on output
};

/** Builds one exposition body. See the file comment for the guarantees. */
class TextWriter {
public:
    TextWriter() = default;

    /**
     * Selects the family that the following sample() calls add to, declaring it on first use.
     *
     * Calling it again with the same name, help and type reopens the family, so samples can be
     * added from several places; HELP and TYPE are still written once.
     *
     * @param name  metric name, [a-zA-Z_:][a-zA-Z0-9_:]*; for a Counter `_total` is appended
     *              unless the name already ends with it
     * @param help  non-empty description, any text (escaped on output)
     * @param type  counter, gauge or untyped
     * Errors (recorded in errors(); samples are dropped until the next valid family()):
     * invalid name, empty help, the name already declared with a different type or help.
     */
    void family(std::string_view name, std::string_view help, MetricType type);

    /**
     * Adds a sample to the current family.
     *
     * @param labels  label pairs, written in this order; may be empty
     * @param value   integers are written exactly; doubles shortest round-trip, or
     *                NaN / +Inf / -Inf
     * Errors (recorded, sample dropped): no current family, invalid or repeated label name,
     * the same label set already sampled in this family, a negative or NaN counter value.
     */
    void sample(std::span<const Label> labels, double value);
    void sample(std::initializer_list<Label> labels, double value) {
        sample(std::span<const Label>(labels.begin(), labels.size()), value);
    }
    template <std::integral T>
    void sample(std::span<const Label> labels, T value) {
        if constexpr (std::is_signed_v<T>) {
            sample_signed(labels, static_cast<int64_t>(value));
        } else {
            sample_unsigned(labels, static_cast<uint64_t>(value));
        }
    }
    template <std::integral T>
    void sample(std::initializer_list<Label> labels, T value) {
        sample(std::span<const Label>(labels.begin(), labels.size()), value);
    }

    /** A sample without labels: `name value`. */
    void sample(double value) { sample(std::span<const Label>(), value); }
    template <std::integral T>
    void sample(T value) {
        sample(std::span<const Label>(), value);
    }

    /**
     * Renders everything added so far and resets the writer (families, samples and errors),
     * ready for the next round. Families without samples are omitted.
     *
     * @return the exposition body; every line ends with '\n'; "" when nothing was sampled
     */
    std::string take();

    /** What was dropped since construction or the last take(), one sentence each. */
    const std::vector<std::string>& errors() const noexcept { return errors_; }

private:
    struct Sample {
        std::vector<std::pair<std::string, std::string>> labels;  // caller's order
        std::string value;                                        // already formatted
    };
    struct Family {
        std::string help;
        MetricType type = MetricType::Untyped;
        std::vector<Sample> samples;
        std::set<std::string> label_sets;  // canonical (name-sorted) label sets, for duplicates
    };

    void sample_signed(std::span<const Label> labels, int64_t value);
    void sample_unsigned(std::span<const Label> labels, uint64_t value);
    /** Validates labels and appends; `invalid_counter` says why a counter must refuse it. */
    void add(std::span<const Label> labels, std::string value, std::string_view invalid_counter);
    void error(std::string message);

    std::map<std::string, Family, std::less<>> families_;  // sorted by name: the output order
    Family* current_ = nullptr;
    std::string current_name_;
    std::vector<std::string> errors_;
};

}  // namespace director::metrics
