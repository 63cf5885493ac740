// SPDX-License-Identifier: BSD-3-Clause
// Private helpers of the YAML loader (load.cc): a collector of positioned errors, a reader for
// one YAML map that rejects unknown and duplicate keys, and strict converters from YAML nodes
// to typed values. They exist so that the loader walks the document by hand and reports every
// problem of a file in one run, each at the node it concerns, instead of stopping at the first
// exception that yaml-cpp's convert<T> would throw.
//
// Nothing here throws: yaml-cpp's node accessors used below (Type, Scalar, Mark, iteration) do
// not throw on a parsed document. Only load.cc includes this header.
//
// Caller: the loader's thread; no global state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "config/load.h"
#include "net/addr.h"

namespace director::config::detail {

// ---- pure text parsers (no YAML) -----------------------------------------------------------

/**
 * Parses a duration: a decimal number with an optional fraction and a unit (us, ms, s, m, h),
 * or a bare number of seconds (keepalived's convention): "3s", "150ms", "0.5s", "1.5", "2m".
 * The result must be a whole number of microseconds and fit a Duration.
 */
Result<Duration, std::string> parse_duration(std::string_view text);

/** Parses a plain decimal unsigned integer (no sign, no spaces, no base prefix). */
Result<uint64_t, std::string> parse_unsigned(std::string_view text);

/** YAML booleans: true/false, yes/no, on/off, in lower, Capitalised or UPPER case. */
std::optional<bool> parse_bool(std::string_view text);

/** Renders a duration the way a user would write it: "3s", "150ms", "40950ms", "7us". */
std::string format_duration(Duration d);

/** Levenshtein distance, for "did you mean" hints. */
std::size_t edit_distance(std::string_view a, std::string_view b);

/**
 * The candidate closest to `word` if it is within edit distance 2 (case-insensitive), else
 * an empty view.
 */
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates);

// ---- diagnostics ----------------------------------------------------------------------------

/**
 * Collects errors, remembers where each YAML path was found (so that cross-field checks run
 * after parsing can still point at a node), and hands the errors back in file order.
 */
class Diagnostics {
public:
    explicit Diagnostics(std::string file) : file_(std::move(file)) {}

    /** Remembers that `path` was found at `mark` (yaml-cpp's 0-based position). */
    void note(const std::string& path, const YAML::Mark& mark);

    /** Reports `message` verbatim at `mark`, recording `path` as failed. */
    void report(const YAML::Mark& mark, const std::string& path, std::string message);

    /** Reports "path: problem" at where `path` (or its nearest noted ancestor) was found. */
    void error(const std::string& path, const std::string& problem);

    /** Reports "path: problem" at `mark`. */
    void error_at(const YAML::Mark& mark, const std::string& path, const std::string& problem);

    /**
     * True when an error concerns `path`, one of its ancestors or one of its descendants: a
     * cross-field check on such a value would only repeat the error in other words.
     */
    bool failed(std::string_view path) const;

    bool empty() const noexcept { return errors_.empty(); }

    /** The errors sorted by position (stable), exact duplicates removed. */
    ConfigErrors take_sorted();

private:
    YAML::Mark locate(std::string path) const;

    std::string file_;
    std::vector<std::pair<std::string, YAML::Mark>> marks_;
    std::vector<std::string> failed_paths_;
    ConfigErrors errors_;
};

// ---- YAML nodes -----------------------------------------------------------------------------

/** A YAML value together with its path in the document and the position to blame. */
struct Field {
    YAML::Node node;
    std::string path;  ///< e.g. "virtual_servers[0].real_servers[1].port"
    YAML::Mark mark;   ///< the value's position; its key's when the value is null
};

/** A name as written in YAML and the value it stands for. */
template <class E>
struct Named {
    std::string_view name;
    E value;
};

/** Whether an empty string is a valid value of a string field. */
enum class Empty : uint8_t { Allowed, Rejected };

/** "a map", "a list", "a scalar" or "null": for "expected X, got Y" messages. */
const char* describe(const YAML::Node& node);

/** The text of a scalar; reports and returns nullopt for a map or a list. */
std::optional<std::string> read_string(Diagnostics& diag, const Field& f,
                                       Empty empty = Empty::Allowed);

/** An unsigned integer within [min, max]; reports "V is out of range MIN..MAX" otherwise. */
std::optional<uint64_t> read_unsigned(Diagnostics& diag, const Field& f, uint64_t min,
                                      uint64_t max);

std::optional<bool> read_bool(Diagnostics& diag, const Field& f);

/** A duration within [min, max]. */
std::optional<Duration> read_duration(Diagnostics& diag, const Field& f,
                                      Duration min = Duration::zero(),
                                      Duration max = Duration::max());

std::optional<net::IpAddress> read_ip(Diagnostics& diag, const Field& f);

/** "ADDR" or "ADDR/LEN". */
std::optional<net::Prefix> read_prefix(Diagnostics& diag, const Field& f);

/** The index of the scalar's text in `names`; reports the accepted spellings otherwise. */
std::optional<std::size_t> read_choice(Diagnostics& diag, const Field& f,
                                       std::span<const std::string_view> names);

template <class E, std::size_t N>
std::optional<E> read_enum(Diagnostics& diag, const Field& f,
                           const std::array<Named<E>, N>& table) {
    std::array<std::string_view, N> names;
    for (std::size_t i = 0; i < N; ++i) {
        names[i] = table[i].name;
    }
    if (auto i = read_choice(diag, f, names)) {
        return table[*i].value;
    }
    return std::nullopt;
}

/** The items of a list, each with its path "p[i]" noted; reports anything but a list. */
std::vector<Field> read_items(Diagnostics& diag, const Field& f);

/**
 * One map, or a list of maps: for keys where a single entry is the common case (check, url).
 * A single map keeps the key's path; list items get "p[i]".
 */
std::vector<Field> read_one_or_many(Diagnostics& diag, const Field& f);

/**
 * One YAML map of a known shape. Construction checks the node is a map, that every key is a
 * known scalar (suggesting the closest known key for a typo) and appears once, and notes where
 * each value is. Setters leave their target untouched when the key is absent or null, and
 * also when the value is invalid (after reporting it): never a silent default for a bad value.
 */
class MapReader {
public:
    MapReader(Diagnostics& diag, Field self, std::span<const std::string_view> known_keys);

    bool is_map() const noexcept { return is_map_; }
    const Field& self() const noexcept { return self_; }
    Diagnostics& diag() const noexcept { return *diag_; }

    /** True when the key is written, even with a null value. */
    bool has(std::string_view key) const;
    /** The value of `key`; nullptr when absent or null. */
    const Field* find(std::string_view key) const;
    /** Where `key` itself is written; nullptr when absent. */
    const YAML::Mark* key_mark(std::string_view key) const;
    /** Like find(), but reports "missing required key" when absent or null. */
    const Field* require(std::string_view key) const;
    /** The path of a child key, e.g. "ports[0].name". */
    std::string child_path(std::string_view key) const;

    bool set(std::string_view key, std::string& out, Empty empty = Empty::Allowed) const;
    /** An optional script or name: null leaves it unset, "" is rejected. */
    bool set(std::string_view key, std::optional<std::string>& out) const;
    bool set(std::string_view key, bool& out) const;
    bool set(std::string_view key, std::optional<bool>& out) const;
    bool set(std::string_view key, Duration& out, Duration min = Duration::zero(),
             Duration max = Duration::max()) const;
    bool set(std::string_view key, std::optional<Duration>& out, Duration min = Duration::zero(),
             Duration max = Duration::max()) const;
    bool set(std::string_view key, net::IpAddress& out) const;
    bool set(std::string_view key, std::optional<net::IpAddress>& out) const;

    template <class T>
    bool set_uint(std::string_view key, T& out, uint64_t min = 0,
                  uint64_t max = std::numeric_limits<T>::max()) const {
        if (const Field* f = find(key)) {
            if (auto v = read_unsigned(*diag_, *f, min, max)) {
                out = static_cast<T>(*v);
                return true;
            }
        }
        return false;
    }

    template <class T>
    bool set_uint(std::string_view key, std::optional<T>& out, uint64_t min = 0,
                  uint64_t max = std::numeric_limits<T>::max()) const {
        T value{};
        if (set_uint(key, value, min, max)) {
            out = value;
            return true;
        }
        return false;
    }

    template <class E, std::size_t N>
    bool set_enum(std::string_view key, E& out, const std::array<Named<E>, N>& table) const {
        if (const Field* f = find(key)) {
            if (auto v = read_enum(*diag_, *f, table)) {
                out = *v;
                return true;
            }
        }
        return false;
    }

private:
    struct Entry {
        std::string key;
        YAML::Mark key_mark;
        Field value;
    };

    const Entry* entry(std::string_view key) const;
    void add_entry(const YAML::Node& key, const YAML::Node& value,
                   std::span<const std::string_view> known_keys);

    Diagnostics* diag_;
    Field self_;
    bool is_map_ = false;
    std::vector<Entry> entries_;
};

}  // namespace director::config::detail
