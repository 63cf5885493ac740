// SPDX-License-Identifier: BSD-3-Clause
#include "config/detail/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <tuple>

namespace director::config::detail {

namespace {

using Fail = Unexpected<std::string>;

/** A duration unit: one unit is `mult * 10^exp10` microseconds. */
struct Unit {
    std::string_view suffix;
    uint64_t mult;
    unsigned exp10;
};

constexpr Unit kUnits[] = {
    {"us", 1, 0}, {"ms", 1, 3}, {"s", 1, 6}, {"m", 6, 7}, {"h", 36, 8},
};

constexpr uint64_t pow10(unsigned n) {
    uint64_t v = 1;
    while (n-- > 0) {
        v *= 10;
    }
    return v;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string join(std::span<const std::string_view> names, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out += (i > 0 ? std::string(sep) : std::string()) + std::string(names[i]);
    }
    return out;
}

bool is_null_mark(const YAML::Mark& m) { return m.line < 0 || m.column < 0; }

// A value's position; a null value (`key:` with nothing after it) has the position of the
// token after it in yaml-cpp, possibly on the next line, so blame the key instead.
YAML::Mark value_mark(const YAML::Node& key, const YAML::Node& value) {
    if (value.IsNull() || is_null_mark(value.Mark())) {
        return key.Mark();
    }
    return value.Mark();
}

bool is_ancestor_path(std::string_view parent, std::string_view path) {
    return path.size() > parent.size() && path.substr(0, parent.size()) == parent &&
           (path[parent.size()] == '.' || path[parent.size()] == '[');
}

}  // namespace

// ---- pure parsers ---------------------------------------------------------------------------

Result<uint64_t, std::string> parse_unsigned(std::string_view text) {
    if (!all_digits(text)) {
        return Fail{quoted(text) + " is not an integer"};
    }
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return Fail{std::string(text) + " is too large"};
    }
    return value;
}

Result<Duration, std::string> parse_duration(std::string_view text) {
    const std::string bad = quoted(text) +
                            " is not a duration (expected e.g. 3s, 150ms, 0.5s, 1m; a bare number "
                            "is seconds)";
    if (!text.empty() && text.front() == '-') {
        return Fail{quoted(text) + " is negative; durations are >= 0"};
    }
    std::size_t unit_at = text.size();
    while (unit_at > 0 && std::isalpha(static_cast<unsigned char>(text[unit_at - 1])) != 0) {
        --unit_at;
    }
    const std::string_view number = text.substr(0, unit_at);
    const std::string_view suffix = unit_at == text.size() ? "s" : text.substr(unit_at);
    const auto unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const Unit& u) { return u.suffix == suffix; });
    if (unit == std::end(kUnits)) {
        return Fail{bad};
    }
    const std::size_t dot = number.find('.');
    const std::string_view whole = number.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? "" : number.substr(dot + 1);
    if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(frac))) {
        return Fail{bad};
    }
    while (!frac.empty() && frac.back() == '0') {
        frac.remove_suffix(1);
    }
    // mult <= 36 and exp10 <= 8: a fraction longer than exp10 + 2 digits (after trailing zeros
    // are gone) cannot be a whole number of microseconds, and shorter ones cannot overflow.
    const std::string sub_us = quoted(text) + " is finer than the microsecond resolution";
    if (frac.size() > unit->exp10 + 2) {
        return Fail{sub_us};
    }
    uint64_t frac_digits = 0;
    if (!frac.empty()) {
        std::from_chars(frac.data(), frac.data() + frac.size(), frac_digits);
    }
    uint64_t frac_us = 0;
    if (frac.size() <= unit->exp10) {
        frac_us =
            frac_digits * unit->mult * pow10(unit->exp10 - static_cast<unsigned>(frac.size()));
    } else {
        const uint64_t scaled = frac_digits * unit->mult;
        const uint64_t div = pow10(static_cast<unsigned>(frac.size()) - unit->exp10);
        if (scaled % div != 0) {
            return Fail{sub_us};
        }
        frac_us = scaled / div;
    }
    uint64_t whole_value = 0;
    const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), whole_value);
    const uint64_t per_unit = unit->mult * pow10(unit->exp10);
    const uint64_t limit = static_cast<uint64_t>(Duration::max().count());
    if (ec != std::errc{} || whole_value > (limit - frac_us) / per_unit) {
        return Fail{quoted(text) + " is too large"};
    }
    return Duration(static_cast<Duration::rep>(whole_value * per_unit + frac_us));
}

std::optional<bool> parse_bool(std::string_view text) {
    static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                                 "YES",  "on",   "On",   "ON"};
    static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                  "NO",    "off",   "Off",   "OFF"};
    if (std::find(std::begin(kTrue), std::end(kTrue), text) != std::end(kTrue)) {
        return true;
    }
    if (std::find(std::begin(kFalse), std::end(kFalse), text) != std::end(kFalse)) {
        return false;
    }
    return std::nullopt;
}

std::string format_duration(Duration d) {
    const auto us = d.count();
    if (us % 1000000 == 0) {
        return std::to_string(us / 1000000) + "s";
    }
    if (us % 1000 == 0) {
        return std::to_string(us / 1000) + "ms";
    }
    return std::to_string(us) + "us";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string_view closest(std::string_view word, std::span<const std::string_view> candidates) {
    const std::string w = lower(word);
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only within distance 2
    for (std::string_view c : candidates) {
        const std::size_t d = edit_distance(w, lower(c));
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

// ---- diagnostics ----------------------------------------------------------------------------

void Diagnostics::note(const std::string& path, const YAML::Mark& mark) {
    if (!is_null_mark(mark)) {
        marks_.emplace_back(path, mark);
    }
}

void Diagnostics::report(const YAML::Mark& mark, const std::string& path, std::string message) {
    const YAML::Mark at = is_null_mark(mark) ? locate(path) : mark;
    errors_.push_back(ConfigError{.file = file_,
                                  .line = at.line + 1,
                                  .column = at.column + 1,
                                  .message = std::move(message)});
    failed_paths_.push_back(path);
}

void Diagnostics::error(const std::string& path, const std::string& problem) {
    report(locate(path), path, path + ": " + problem);
}

void Diagnostics::error_at(const YAML::Mark& mark, const std::string& path,
                           const std::string& problem) {
    report(mark, path, path.empty() ? problem : path + ": " + problem);
}

bool Diagnostics::failed(std::string_view path) const {
    return std::any_of(failed_paths_.begin(), failed_paths_.end(), [&](const std::string& p) {
        return p == path || is_ancestor_path(p, path) || is_ancestor_path(path, p);
    });
}

YAML::Mark Diagnostics::locate(std::string path) const {
    for (;;) {
        // The latest note wins: paths are unique, but a re-noted path is the more precise one.
        for (auto it = marks_.rbegin(); it != marks_.rend(); ++it) {
            if (it->first == path) {
                return it->second;
            }
        }
        const std::size_t cut = path.find_last_of(".[");
        if (path.empty() || cut == std::string::npos) {
            break;
        }
        path.resize(cut);
    }
    for (const auto& [p, m] : marks_) {
        if (p.empty()) {
            return m;
        }
    }
    return YAML::Mark{};  // 0:0, reported as 1:1
}

ConfigErrors Diagnostics::take_sorted() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    errors_.erase(std::unique(errors_.begin(), errors_.end()), errors_.end());
    return std::move(errors_);
}

// ---- node converters ------------------------------------------------------------------------

const char* describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return "a scalar";
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            break;
    }
    return "null";
}

std::optional<std::string> read_string(Diagnostics& diag, const Field& f, Empty empty) {
    if (!f.node.IsScalar()) {
        diag.error_at(f.mark, f.path, std::string("expected a string, got ") + describe(f.node));
        return std::nullopt;
    }
    if (empty == Empty::Rejected && f.node.Scalar().empty()) {
        diag.error_at(f.mark, f.path, "must not be empty");
        return std::nullopt;
    }
    return f.node.Scalar();
}

std::optional<uint64_t> read_unsigned(Diagnostics& diag, const Field& f, uint64_t min,
                                      uint64_t max) {
    if (!f.node.IsScalar()) {
        diag.error_at(f.mark, f.path, std::string("expected an integer, got ") + describe(f.node));
        return std::nullopt;
    }
    const std::string& text = f.node.Scalar();
    const std::string range =
        " is out of range " + std::to_string(min) + ".." + std::to_string(max);
    // A well-formed negative or oversized integer is a range error, which says what is valid.
    const bool negative = text.size() > 1 && text[0] == '-' && all_digits(text.substr(1));
    if (negative) {
        diag.error_at(f.mark, f.path, text + range);
        return std::nullopt;
    }
    auto value = parse_unsigned(text);
    if (!value && all_digits(text)) {
        diag.error_at(f.mark, f.path, text + range);
        return std::nullopt;
    }
    if (!value) {
        diag.error_at(f.mark, f.path, value.error());
        return std::nullopt;
    }
    if (*value < min || *value > max) {
        diag.error_at(f.mark, f.path, text + range);
        return std::nullopt;
    }
    return *value;
}

std::optional<bool> read_bool(Diagnostics& diag, const Field& f) {
    std::optional<bool> v;
    if (f.node.IsScalar()) {
        v = parse_bool(f.node.Scalar());
    }
    if (!v) {
        const std::string got = f.node.IsScalar() ? quoted(f.node.Scalar()) : describe(f.node);
        diag.error_at(f.mark, f.path, "expected true or false, got " + got);
    }
    return v;
}

std::optional<Duration> read_duration(Diagnostics& diag, const Field& f, Duration min,
                                      Duration max) {
    if (!f.node.IsScalar()) {
        diag.error_at(f.mark, f.path, std::string("expected a duration, got ") + describe(f.node));
        return std::nullopt;
    }
    auto d = parse_duration(f.node.Scalar());
    if (!d) {
        diag.error_at(f.mark, f.path, d.error());
        return std::nullopt;
    }
    if (*d < min || *d > max) {
        const std::string problem =
            max == Duration::max()
                ? " is too short: the minimum is " + format_duration(min)
                : " is out of range " + format_duration(min) + ".." + format_duration(max);
        diag.error_at(f.mark, f.path, f.node.Scalar() + problem);
        return std::nullopt;
    }
    return *d;
}

std::optional<net::IpAddress> read_ip(Diagnostics& diag, const Field& f) {
    auto text = read_string(diag, f);
    if (!text) {
        return std::nullopt;
    }
    auto ip = net::IpAddress::parse(*text);
    if (!ip) {
        diag.error_at(f.mark, f.path, quoted(*text) + " is not an IPv4 or IPv6 address");
    }
    return ip;
}

std::optional<net::Prefix> read_prefix(Diagnostics& diag, const Field& f) {
    auto text = read_string(diag, f);
    if (!text) {
        return std::nullopt;
    }
    auto prefix = net::Prefix::parse(*text);
    if (!prefix) {
        std::string problem = quoted(*text) + " is not an address or ADDRESS/LENGTH";
        if (text->find(' ') != std::string::npos) {
            // keepalived's "ADDR dev IF label L" line syntax: point at the YAML form.
            problem += " (write {address: ..., dev: ..., label: ...} for the other fields)";
        }
        diag.error_at(f.mark, f.path, problem);
    }
    return prefix;
}

std::optional<std::size_t> read_choice(Diagnostics& diag, const Field& f,
                                       std::span<const std::string_view> names) {
    if (!f.node.IsScalar()) {
        diag.error_at(f.mark, f.path,
                      "expected one of " + join(names, "|") + ", got " + describe(f.node));
        return std::nullopt;
    }
    const std::string& text = f.node.Scalar();
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == text) {
            return i;
        }
    }
    std::string problem = quoted(text) + " is not one of " + join(names, "|");
    if (auto hint = closest(text, names); !hint.empty()) {
        problem += "; did you mean " + quoted(hint) + "?";
    }
    diag.error_at(f.mark, f.path, problem);
    return std::nullopt;
}

std::vector<Field> read_items(Diagnostics& diag, const Field& f) {
    std::vector<Field> items;
    if (!f.node.IsSequence()) {
        diag.error_at(f.mark, f.path, std::string("expected a list, got ") + describe(f.node));
        return items;
    }
    std::size_t i = 0;
    for (const YAML::Node& item : f.node) {
        Field field{item, f.path + "[" + std::to_string(i++) + "]", item.Mark()};
        if (item.IsNull() || is_null_mark(field.mark)) {
            field.mark = f.mark;  // "- " with nothing after it: blame the list
        }
        diag.note(field.path, field.mark);
        items.push_back(std::move(field));
    }
    return items;
}

std::vector<Field> read_one_or_many(Diagnostics& diag, const Field& f) {
    if (f.node.IsMap()) {
        return {f};
    }
    if (f.node.IsSequence()) {
        return read_items(diag, f);
    }
    diag.error_at(f.mark, f.path,
                  std::string("expected a map or a list of maps, got ") + describe(f.node));
    return {};
}

// ---- MapReader ------------------------------------------------------------------------------

MapReader::MapReader(Diagnostics& diag, Field self, std::span<const std::string_view> known_keys)
    : diag_(&diag), self_(std::move(self)) {
    if (!self_.node.IsMap()) {
        diag.error_at(self_.mark, self_.path,
                      std::string("expected a map, got ") + describe(self_.node));
        return;
    }
    is_map_ = true;
    diag.note(self_.path, self_.mark);
    for (auto it = self_.node.begin(); it != self_.node.end(); ++it) {
        add_entry(it->first, it->second, known_keys);
    }
}

void MapReader::add_entry(const YAML::Node& key, const YAML::Node& value,
                          std::span<const std::string_view> known_keys) {
    const std::string where = self_.path.empty() ? "at top level" : "in " + self_.path;
    if (!key.IsScalar()) {
        // Blamed on a pseudo child, so that the rest of the map is still checked.
        diag_->report(key.Mark(), child_path("?"),
                      std::string("keys must be plain names, got ") + describe(key) + " " + where);
        return;
    }
    const std::string& name = key.Scalar();
    if (std::find(known_keys.begin(), known_keys.end(), name) == known_keys.end()) {
        std::string message = "unknown key " + quoted(name) + " " + where;
        if (auto hint = closest(name, known_keys); !hint.empty()) {
            message += "; did you mean " + quoted(hint) + "?";
        }
        diag_->report(key.Mark(), child_path(name), message);
        return;
    }
    if (const Entry* first = entry(name)) {
        diag_->report(key.Mark(), child_path(name),
                      "duplicate key " + quoted(name) + " " + where + " (first at line " +
                          std::to_string(first->key_mark.line + 1) + ")");
        return;
    }
    Field field{value, child_path(name), value_mark(key, value)};
    diag_->note(field.path, field.mark);
    entries_.push_back(Entry{.key = name, .key_mark = key.Mark(), .value = std::move(field)});
}

const MapReader::Entry* MapReader::entry(std::string_view key) const {
    for (const Entry& e : entries_) {
        if (e.key == key) {
            return &e;
        }
    }
    return nullptr;
}

bool MapReader::has(std::string_view key) const { return entry(key) != nullptr; }

const Field* MapReader::find(std::string_view key) const {
    const Entry* e = entry(key);
    if (e == nullptr || e->value.node.IsNull()) {
        return nullptr;
    }
    return &e->value;
}

const YAML::Mark* MapReader::key_mark(std::string_view key) const {
    const Entry* e = entry(key);
    return e == nullptr ? nullptr : &e->key_mark;
}

const Field* MapReader::require(std::string_view key) const {
    const Field* f = find(key);
    if (f == nullptr && is_map_) {
        // Blame the key when it is written without a value, else the map that lacks it.
        const YAML::Mark* at = key_mark(key);
        const std::string problem = at != nullptr ? "key " + quoted(key) + " needs a value"
                                                  : "missing required key " + quoted(key);
        diag_->report(at != nullptr ? *at : self_.mark, child_path(key),
                      self_.path.empty() ? problem : self_.path + ": " + problem);
    }
    return f;
}

std::string MapReader::child_path(std::string_view key) const {
    return self_.path.empty() ? std::string(key) : self_.path + "." + std::string(key);
}

bool MapReader::set(std::string_view key, std::string& out, Empty empty) const {
    if (const Field* f = find(key)) {
        if (auto v = read_string(*diag_, *f, empty)) {
            out = std::move(*v);
            return true;
        }
    }
    return false;
}

bool MapReader::set(std::string_view key, std::optional<std::string>& out) const {
    std::string value;
    if (set(key, value, Empty::Rejected)) {
        out = std::move(value);
        return true;
    }
    return false;
}

bool MapReader::set(std::string_view key, bool& out) const {
    if (const Field* f = find(key)) {
        if (auto v = read_bool(*diag_, *f)) {
            out = *v;
            return true;
        }
    }
    return false;
}

bool MapReader::set(std::string_view key, std::optional<bool>& out) const {
    bool value = false;
    if (set(key, value)) {
        out = value;
        return true;
    }
    return false;
}

bool MapReader::set(std::string_view key, Duration& out, Duration min, Duration max) const {
    if (const Field* f = find(key)) {
        if (auto v = read_duration(*diag_, *f, min, max)) {
            out = *v;
            return true;
        }
    }
    return false;
}

bool MapReader::set(std::string_view key, std::optional<Duration>& out, Duration min,
                    Duration max) const {
    Duration value{};
    if (set(key, value, min, max)) {
        out = value;
        return true;
    }
    return false;
}

bool MapReader::set(std::string_view key, net::IpAddress& out) const {
    if (const Field* f = find(key)) {
        if (auto v = read_ip(*diag_, *f)) {
            out = *v;
            return true;
        }
    }
    return false;
}

bool MapReader::set(std::string_view key, std::optional<net::IpAddress>& out) const {
    net::IpAddress value;
    if (set(key, value)) {
        out = value;
        return true;
    }
    return false;
}

}  // namespace director::config::detail
