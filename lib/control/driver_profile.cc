// SPDX-License-Identifier: BSD-3-Clause
#include "control/driver_profile.h"

#include <rte_ethdev.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace director::ctl {

namespace {

namespace fs = std::filesystem;

std::string where(const std::string& path, const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": ";
}

const std::map<std::string, uint64_t>& rss_names() {
    static const std::map<std::string, uint64_t> names = {
        {"ipv4", RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER},
        {"ipv6", RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER},
        {"tcp", RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP},
        {"udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV6_UDP},
    };
    return names;
}

const std::map<std::string, uint64_t>& tx_offload_names() {
    static const std::map<std::string, uint64_t> names = {
        {"mbuf_fast_free", RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE},
        {"multi_segs", RTE_ETH_TX_OFFLOAD_MULTI_SEGS},
    };
    return names;
}

Result<uint64_t> flag_list(const std::string& path, const YAML::Node& n,
                           const std::map<std::string, uint64_t>& names) {
    if (!n.IsSequence()) {
        return make_error(where(path, n) + "expected a list");
    }
    uint64_t flags = 0;
    for (const auto& item : n) {
        const auto it = names.find(item.as<std::string>());
        if (it == names.end()) {
            return make_error(where(path, item) + "unknown name '" + item.as<std::string>() + "'");
        }
        flags |= it->second;
    }
    return flags;
}

// A descriptor count: digits only, 0..65535 (no silent truncation, no fallback to a default).
Result<uint16_t> u16_value(const std::string& path, const YAML::Node& n) {
    const std::string text = n.IsScalar() ? n.Scalar() : "";
    auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    const bool digits =
        !text.empty() && text.size() <= 5 && std::all_of(text.begin(), text.end(), digit);
    if (!digits || std::stoul(text) > 65535) {
        return make_error(where(path, n) + "expected a number from 0 to 65535");
    }
    return static_cast<uint16_t>(std::stoul(text));
}

Result<std::vector<uint8_t>> hex_key(const std::string& path, const YAML::Node& n) {
    const std::string text = n.as<std::string>();
    std::vector<uint8_t> key;
    if (text == "default") {
        return key;
    }
    if (text.size() % 2 != 0 || (text.size() != 80 && text.size() != 104)) {
        return make_error(where(path, n) + "rss key must be 'default' or 40/52 bytes of hex");
    }
    for (size_t i = 0; i < text.size(); i += 2) {
        char* end = nullptr;
        const std::string byte = text.substr(i, 2);
        const unsigned long v = std::strtoul(byte.c_str(), &end, 16);
        // strtoul alone would take " f", "+f" and "-1" (as 0xff...).
        if (end != byte.c_str() + 2 || !std::isxdigit(static_cast<unsigned char>(byte[0])) ||
            !std::isxdigit(static_cast<unsigned char>(byte[1]))) {
            return make_error(where(path, n) + "rss key: '" + byte + "' is not hex");
        }
        key.push_back(static_cast<uint8_t>(v));
    }
    return key;
}

Result<DriverProfile> parse(const std::string& path, const YAML::Node& root) {
    DriverProfile p;
    p.name = fs::path(path).stem();
    static const char* const kKeys[] = {"match", "rx_descriptors", "tx_descriptors", "rss",
                                        "tx_offloads", "vdev_queue_arg"};
    for (const auto& kv : root) {
        const std::string key = kv.first.as<std::string>();
        bool known = false;
        for (const char* k : kKeys) {
            known = known || key == k;
        }
        if (!known) {
            return make_error(where(path, kv.first) + "unknown key '" + key + "'");
        }
    }
    if (root["match"]) {
        p.match = root["match"].as<std::vector<std::string>>();
    }
    // as<T>(fallback) would turn a bad value into the default silently: convert explicitly.
    for (auto [key, out] : {std::pair{"rx_descriptors", &p.rx_descriptors},
                            std::pair{"tx_descriptors", &p.tx_descriptors}}) {
        if (const YAML::Node n = root[key]) {
            auto v = u16_value(path, n);
            if (!v) {
                return Unexpected{v.error()};
            }
            *out = *v;
        }
    }
    if (const YAML::Node n = root["vdev_queue_arg"]) {
        p.vdev_queue_arg = n.as<std::string>();
    }
    if (const YAML::Node rss = root["rss"]; rss && !(rss.IsScalar() && rss.Scalar() == "none")) {
        if (!rss.IsMap()) {
            return make_error(where(path, rss) + "rss must be 'none' or a map");
        }
        p.rss = true;
        auto key = hex_key(path, rss["key"] ? rss["key"] : YAML::Node("default"));
        if (!key) {
            return Unexpected{key.error()};
        }
        p.rss_key = *key;
        for (const char* list : {"fields", "persistent_fields"}) {
            if (!rss[list]) {
                return make_error(where(path, rss) + "rss needs '" + list +
                                  "' (a list of ipv4, ipv6, tcp, udp)");
            }
        }
        auto fields = flag_list(path, rss["fields"], rss_names());
        if (!fields) {
            return Unexpected{fields.error()};
        }
        auto pfields = flag_list(path, rss["persistent_fields"], rss_names());
        if (!pfields) {
            return Unexpected{pfields.error()};
        }
        p.rss_fields = *fields;
        p.rss_persistent_fields = *pfields;
    }
    if (root["tx_offloads"]) {
        auto tx = flag_list(path, root["tx_offloads"], tx_offload_names());
        if (!tx) {
            return Unexpected{tx.error()};
        }
        p.tx_offloads = *tx;
    }
    return p;
}

}  // namespace

Result<DriverProfile> load_driver_profile(const std::string& path) {
    try {
        return parse(path, YAML::LoadFile(path));
    } catch (const YAML::BadFile&) {
        return make_error(path + ": cannot read driver profile");
    } catch (const YAML::Exception& e) {
        return make_error(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
}

Result<DriverProfile> select_driver_profile(const std::string& dir, const std::string& name,
                                            const std::string& driver_name) {
    if (name != "auto") {
        return load_driver_profile(dir + "/" + name + ".yaml");
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        auto profile = load_driver_profile(entry.path());
        if (!profile) {
            return profile;
        }
        for (const auto& m : profile->match) {
            if (m == driver_name) {
                return profile;
            }
        }
    }
    if (ec) {
        return make_error(dir + ": cannot list driver profiles: " + ec.message());
    }
    return load_driver_profile(dir + "/default.yaml");
}

std::string default_drivers_conf_dir() {
    if (const char* env = std::getenv("DIRECTOR_DRIVERS_CONF")) {
        return env;
    }
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // build/app/director/director -> <source>/drivers-conf, via the build tree's parent.
        for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
             dir = dir.parent_path()) {
            if (fs::exists(dir / "drivers-conf" / "default.yaml")) {
                return dir / "drivers-conf";
            }
        }
    }
    return "/usr/share/director/drivers-conf";
}

}  // namespace director::ctl
