// SPDX-License-Identifier: BSD-3-Clause
// Prometheus text format 0.0.4 writer. The rules cited below are from the format's
// specification ("Exposition formats", text-based format).
#include "metrics/exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace director::metrics {

namespace {

constexpr std::string_view kCounterSuffix = "_total";

bool is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view s) {
    if (s.empty() || is_digit(s.front())) {
        return false;
    }
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

// Label names: [a-zA-Z_][a-zA-Z0-9_]*; names starting with "__" are reserved for Prometheus.
bool valid_label_name(std::string_view s) {
    if (s.empty() || is_digit(s.front()) || s.starts_with("__")) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha_(c) || is_digit(c); });
}

// HELP: "\" -> "\\", newline -> "\n". Label values additionally escape the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (const char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    append_escaped(out, s, true);
    out += '"';
    return out;
}

template <class T>
std::string format_number(T value) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

// Go's ParseFloat (what Prometheus uses) reads these spellings of the non-finite values.
std::string format_double(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return format_number(v);
}

// Natural order: runs of digits compare as numbers, so lcore "2" < "10", 10.0.0.9 < 10.0.0.10.
int natural_compare(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            std::size_t ie = i;
            std::size_t je = j;
            while (ie < a.size() && is_digit(a[ie])) {
                ++ie;
            }
            while (je < b.size() && is_digit(b[je])) {
                ++je;
            }
            std::string_view da = a.substr(i, ie - i);
            std::string_view db = b.substr(j, je - j);
            while (da.size() > 1 && da.front() == '0') {
                da.remove_prefix(1);
            }
            while (db.size() > 1 && db.front() == '0') {
                db.remove_prefix(1);
            }
            if (da.size() != db.size()) {
                return da.size() < db.size() ? -1 : 1;
            }
            if (const int c = da.compare(db); c != 0) {
                return c;
            }
            // Equal numbers: the one with fewer leading zeros first, so the order stays total.
            if ((ie - i) != (je - j)) {
                return (ie - i) < (je - j) ? -1 : 1;
            }
            i = ie;
            j = je;
        } else {
            if (a[i] != b[j]) {
                return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
            }
            ++i;
            ++j;
        }
    }
    if (a.size() - i != b.size() - j) {
        return (a.size() - i) < (b.size() - j) ? -1 : 1;
    }
    return 0;
}

}  // namespace

std::string_view to_string(MetricType type) noexcept {
    switch (type) {
        case MetricType::Counter:
            return "counter";
        case MetricType::Gauge:
            return "gauge";
        case MetricType::Untyped:
            return "untyped";
    }
    return "untyped";
}

void TextWriter::error(std::string message) { errors_.push_back(std::move(message)); }

void TextWriter::family(std::string_view name, std::string_view help, MetricType type) {
    current_ = nullptr;
    current_name_.assign(name);
    if (type == MetricType::Counter && !name.ends_with(kCounterSuffix)) {
        current_name_ += kCounterSuffix;
    }
    if (!valid_metric_name(current_name_)) {
        error("metric " + quoted(current_name_) +
              ": invalid name (want [a-zA-Z_:][a-zA-Z0-9_:]*); its samples are dropped");
        return;
    }
    if (help.empty()) {
        error("metric " + current_name_ + ": empty HELP text; its samples are dropped");
        return;
    }
    auto [it, inserted] = families_.try_emplace(current_name_);
    Family& f = it->second;
    if (inserted) {
        f.help.assign(help);
        f.type = type;
    } else if (f.type != type || f.help != help) {
        error("metric " + current_name_ + ": declared again as " + std::string(to_string(type)) +
              " " + quoted(help) + ", first as " + std::string(to_string(f.type)) + " " +
              quoted(f.help) + "; the new samples are dropped");
        return;
    }
    current_ = &f;
}

void TextWriter::sample(std::span<const Label> labels, double value) {
    if (value == 0) {
        value = 0;  // -0.0 prints as "-0"; a zero is a zero
    }
    std::string_view invalid;
    if (std::isnan(value)) {
        invalid = "NaN";
    } else if (value < 0) {
        invalid = "negative";
    }
    add(labels, format_double(value), invalid);
}

void TextWriter::sample_signed(std::span<const Label> labels, int64_t value) {
    add(labels, format_number(value), value < 0 ? "negative" : "");
}

void TextWriter::sample_unsigned(std::span<const Label> labels, uint64_t value) {
    add(labels, format_number(value), "");
}

void TextWriter::add(std::span<const Label> labels, std::string value,
                     std::string_view invalid_counter) {
    if (current_ == nullptr) {
        error(current_name_.empty()
                  ? "sample before any family(): dropped"
                  : "metric " + quoted(current_name_) + ": sample of an invalid family dropped");
        return;
    }
    if (current_->type == MetricType::Counter && !invalid_counter.empty()) {
        error("metric " + current_name_ + ": " + std::string(invalid_counter) + " value " + value +
              " for a counter; sample dropped");
        return;
    }
    Sample s;
    s.value = std::move(value);
    s.labels.reserve(labels.size());
    for (const Label& l : labels) {
        if (!valid_label_name(l.name)) {
            error("metric " + current_name_ + ": invalid label name " + quoted(l.name) +
                  " (want [a-zA-Z_][a-zA-Z0-9_]*, no leading __); sample dropped");
            return;
        }
        s.labels.emplace_back(l.name, l.value);
    }
    // One series per label set whatever the order the labels were given in.
    auto sorted = s.labels;
    std::sort(sorted.begin(), sorted.end());
    std::string canonical;
    for (std::size_t k = 0; k < sorted.size(); ++k) {
        if (k > 0 && sorted[k].first == sorted[k - 1].first) {
            error("metric " + current_name_ + ": label " + sorted[k].first +
                  " given twice; sample dropped");
            return;
        }
        canonical += (k > 0 ? "," : "") + sorted[k].first + "=" + quoted(sorted[k].second);
    }
    if (!current_->label_sets.insert(canonical).second) {
        error("metric " + current_name_ + ": label set {" + canonical +
              "} sampled twice; the second sample is dropped");
        return;
    }
    current_->samples.push_back(std::move(s));
}

std::string TextWriter::take() {
    std::string out;
    for (auto& [name, f] : families_) {
        if (f.samples.empty()) {
            continue;
        }
        std::stable_sort(f.samples.begin(), f.samples.end(), [](const Sample& a, const Sample& b) {
            const std::size_t n = std::min(a.labels.size(), b.labels.size());
            for (std::size_t k = 0; k < n; ++k) {
                if (const int c = a.labels[k].first.compare(b.labels[k].first); c != 0) {
                    return c < 0;
                }
                if (const int c = natural_compare(a.labels[k].second, b.labels[k].second); c != 0) {
                    return c < 0;
                }
            }
            return a.labels.size() < b.labels.size();
        });
        out += "# HELP " + name + " ";
        append_escaped(out, f.help, false);
        out += "\n# TYPE " + name + " ";
        out += to_string(f.type);
        out += '\n';
        for (const Sample& s : f.samples) {
            out += name;
            if (!s.labels.empty()) {
                out += '{';
                for (std::size_t k = 0; k < s.labels.size(); ++k) {
                    if (k > 0) {
                        out += ',';
                    }
                    out += s.labels[k].first;
                    out += '=';
                    out += quoted(s.labels[k].second);
                }
                out += '}';
            }
            out += ' ';
            out += s.value;
            out += '\n';
        }
    }
    families_.clear();
    current_ = nullptr;
    current_name_.clear();
    errors_.clear();
    return out;
}

}  // namespace director::metrics
