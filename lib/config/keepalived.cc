// SPDX-License-Identifier: BSD-3-Clause
// Maps keepalived's statement tree onto a Config. Values keepalived fills in when a keyword is
// absent are filled in the same way here (shared/reference/keepalived.md §1), because the
// imported file must behave as the keepalived it replaces did, not as a director.yaml with
// the same keys omitted would.
#include "config/keepalived.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include "config/detail/keepalived_lexer.h"

namespace director::config {

std::string ImportIssue::to_string() const {
    if (line > 0) {
        return file + ":" + std::to_string(line) + ": " + message;
    }
    return file + ": " + message;
}

namespace {

using detail::KaNode;
using detail::KaTree;

constexpr uint8_t kPriorityOwner = 255;
constexpr size_t kMaxAuthPass = 8;  // VRRPv2 authentication data field (RFC 2338 §5.3.10)
constexpr Duration kMaxPreemptDelay = seconds(1000);
constexpr Duration kCentisecond = milliseconds(10);
constexpr uint32_t kMaxGarpRepeat = 255;  // the loader's limit

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

std::optional<uint32_t> parse_u32(std::string_view s) {
    uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

// keepalived's <TIMER>: seconds with an optional fraction, microsecond resolution.
std::optional<Duration> parse_seconds(std::string_view s) {
    const auto dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    uint64_t secs = 0;
    if (!whole.empty()) {
        const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
        if (ec != std::errc{} || end != whole.data() + whole.size() || secs > 1000000000) {
            return std::nullopt;
        }
    }
    uint64_t micros = 0;
    if (dot != std::string_view::npos) {
        const std::string_view frac = s.substr(dot + 1);
        if (frac.empty() && whole.empty()) {
            return std::nullopt;
        }
        uint64_t scale = 100000;
        for (size_t i = 0; i < frac.size(); ++i) {
            if (!std::isdigit(static_cast<unsigned char>(frac[i]))) {
                return std::nullopt;
            }
            if (i < 6) {
                micros += static_cast<uint64_t>(frac[i] - '0') * scale;
                scale /= 10;
            } else if (i == 6 && frac[i] >= '5') {
                ++micros;  // round to the nearest microsecond
            }
        }
    } else if (whole.empty()) {
        return std::nullopt;
    }
    return Duration(static_cast<int64_t>(secs * 1000000 + micros));
}

std::string format_seconds(Duration d) {
    const auto us = d.count();
    std::string out = std::to_string(us / 1000000);
    int64_t frac = us % 1000000;
    if (frac != 0) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 6 - digits.size(), '0');
        while (digits.back() == '0') {
            digits.pop_back();
        }
        out += "." + digits;
    }
    return out + "s";
}

std::string where(const KaNode& n) { return n.file + ":" + std::to_string(n.line); }

/** Checker settings that keepalived inherits VS → RS → checker (check_data.c). */
struct Inherited {
    std::optional<Duration> connect_timeout;
    std::optional<uint32_t> retry;
    std::optional<Duration> delay_before_retry;
    std::optional<std::string> virtualhost;
};

class Importer {
public:
    ImportResult run(KaTree tree) {
        r_.unsupported = std::move(tree.unsupported);
        r_.notes = std::move(tree.notes);
        if (!tree.errors.empty()) {
            r_.errors = std::move(tree.errors);
            return std::move(r_);
        }
        // keepalived completes instances after the whole file is read, so global_defs applies
        // to every instance wherever it appears.
        bool have_global_defs = false;
        for (const KaNode& n : tree.nodes) {
            if (n.keyword == "global_defs") {
                have_global_defs = true;
                global_defs(n);
            }
        }
        std::vector<const KaNode*> groups;
        for (const KaNode& n : tree.nodes) {
            if (n.keyword == "global_defs") {
                continue;
            }
            if (n.keyword == "vrrp_instance" && n.has_block) {
                vrrp_instance(n);
            } else if (n.keyword == "vrrp_sync_group" && n.has_block) {
                groups.push_back(&n);
            } else if (n.keyword == "virtual_server" && n.has_block) {
                virtual_server(n);
            } else {
                unsupported(n);
            }
        }
        for (const KaNode* g : groups) {
            sync_group(*g);
        }
        if (r_.config.global.router_id.empty()) {
            r_.notes.push_back(
                std::string(have_global_defs ? "global_defs has no router_id" : "no global_defs") +
                ": keepalived uses the host name; global.router_id left empty");
        }
        make_ports();
        // Blocks are completed after their children (keepalived's order too), so reports are
        // put back in reading order; the lexer's own reports come first.
        std::stable_sort(issues_.begin(), issues_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [seq, issue] : issues_) {
            r_.unsupported.push_back(std::move(issue));
        }
        return std::move(r_);
    }

private:
    // ---- reporting -------------------------------------------------------------------------

    void issue(const KaNode& n, std::string message) {
        issues_.push_back({n.seq, {n.file, n.line, std::move(message)}});
    }

    void unsupported(const KaNode& n) { issue(n, "unsupported keyword '" + n.keyword + "'"); }

    void note(const KaNode& n, const std::string& message) {
        r_.notes.push_back(where(n) + ": " + message);
    }

    // ---- values ----------------------------------------------------------------------------

    // Checks the argument count; extra arguments are reported and ignored.
    bool want_args(const KaNode& n, size_t min, size_t max) {
        if (n.args.size() < min) {
            issue(n, "'" + n.keyword + "' needs " +
                         (min == 1 ? std::string("a value") : std::to_string(min) + " values"));
            return false;
        }
        if (n.args.size() > max) {
            issue(n, "unsupported argument '" + n.args[max] + "' of '" + n.keyword + "'");
        }
        if (n.has_block) {
            issue(n, "unexpected block after '" + n.keyword + "'");
        }
        return true;
    }

    bool want_block(const KaNode& n) {
        if (!n.has_block) {
            issue(n, "'" + n.keyword + "' needs a block { ... }");
            return false;
        }
        return true;
    }

    void invalid(const KaNode& n, const std::string& value, const std::string& expected) {
        issue(n,
              "invalid value '" + value + "' for '" + n.keyword + "' (expected " + expected + ")");
    }

    std::optional<uint32_t> uint_value(const KaNode& n, uint32_t lo, uint32_t hi,
                                       std::optional<size_t> at = std::nullopt) {
        if (!at && !want_args(n, 1, 1)) {
            return std::nullopt;
        }
        const std::string& text = n.args[at.value_or(0)];
        const auto v = parse_u32(text);
        if (!v || *v < lo || *v > hi) {
            invalid(n, text, "an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
            return std::nullopt;
        }
        return v;
    }

    std::optional<Duration> timer_value(const KaNode& n) {
        if (!want_args(n, 1, 1)) {
            return std::nullopt;
        }
        const auto v = parse_seconds(n.args[0]);
        if (!v) {
            invalid(n, n.args[0], "seconds");
        }
        return v;
    }

    // keepalived raises a repeat of 0 to 1; more than 255 GARPs per burst is a typo.
    std::optional<uint32_t> garp_repeat_value(const KaNode& n) {
        auto v = uint_value(n, 0, kMaxGarpRepeat);
        if (v && *v == 0) {
            note(n, "'" + n.keyword + " 0' raised to 1, as keepalived does");
            v = 1;
        }
        return v;
    }

    // Intervals and timeouts: 0 would mean "immediately, forever".
    std::optional<Duration> interval_value(const KaNode& n) {
        auto v = timer_value(n);
        if (v && *v == Duration{0}) {
            invalid(n, n.args[0], "seconds > 0");
            return std::nullopt;
        }
        return v;
    }

    std::optional<net::IpAddress> ip_value(const KaNode& n,
                                           std::optional<size_t> at = std::nullopt) {
        if (!at && !want_args(n, 1, 1)) {
            return std::nullopt;
        }
        const std::string& text = n.args[at.value_or(0)];
        const auto v = net::IpAddress::parse(text);
        if (!v) {
            invalid(n, text, "an IP address");
        }
        return v;
    }

    std::optional<uint16_t> port_value(const KaNode& n, std::optional<size_t> at = std::nullopt) {
        const auto v = uint_value(n, 0, 65535, at);
        if (!v) {
            return std::nullopt;
        }
        return static_cast<uint16_t>(*v);
    }

    // keepalived's <BOOL>: a bare keyword means true.
    std::optional<bool> bool_value(const KaNode& n) {
        if (!want_args(n, 0, 1)) {
            return std::nullopt;
        }
        if (n.args.empty()) {
            return true;
        }
        const std::string v = lower(n.args[0]);
        if (v == "on" || v == "true" || v == "yes") {
            return true;
        }
        if (v == "off" || v == "false" || v == "no") {
            return false;
        }
        invalid(n, n.args[0], "on|off|true|false|yes|no");
        return std::nullopt;
    }

    std::optional<std::string> string_value(const KaNode& n) {
        if (!want_args(n, 1, 1)) {
            return std::nullopt;
        }
        return n.args[0];
    }

    // Script keywords take one (usually quoted) command line; anything after it names the user
    // and group to run it as, which the director does not do.
    std::optional<std::string> script_value(const KaNode& n) {
        if (n.args.empty()) {
            issue(n, "'" + n.keyword + "' needs a script");
            return std::nullopt;
        }
        if (n.args.size() > 1) {
            issue(n, "unsupported keyword '" + n.keyword + " ... " + n.args[1] +
                         "' (script user/group)");
        }
        return n.args[0];
    }

    // ---- global_defs ------------------------------------------------------------------------

    void global_defs(const KaNode& block) {
        if (!want_block(block)) {
            return;
        }
        for (const KaNode& n : block.children) {
            const std::string& k = n.keyword;
            if (k == "router_id") {
                if (auto v = string_value(n)) {
                    r_.config.global.router_id = *v;
                }
            } else if (k == "vrrp_version") {
                if (auto v = uint_value(n, 2, 3)) {
                    vrrp_version_ = static_cast<uint8_t>(*v);
                }
            } else if (k == "vrrp_garp_master_delay") {
                if (auto v = timer_value(n)) {
                    garp_delay_ = *v;
                }
            } else if (k == "vrrp_garp_master_repeat") {
                if (auto v = garp_repeat_value(n)) {
                    garp_repeat_ = *v;
                }
            } else if (k == "vrrp_garp_master_refresh") {
                if (auto v = timer_value(n)) {
                    garp_refresh_ = *v;
                }
            } else if (k == "lvs_timeouts") {
                lvs_timeouts(n);
            } else {
                unsupported(n);
            }
        }
    }

    void lvs_timeouts(const KaNode& n) {
        if (n.args.empty() || n.args.size() % 2 != 0) {
            issue(n, "'lvs_timeouts' takes pairs: [tcp S] [tcpfin S] [udp S]");
            return;
        }
        Timeouts& t = r_.config.timeouts;
        for (size_t i = 0; i < n.args.size(); i += 2) {
            const auto v = uint_value(n, 1, 86400 * 365, i + 1);
            if (!v) {
                continue;
            }
            const Duration d = seconds(*v);
            const std::string what = lower(n.args[i]);
            if (what == "tcp") {
                t.tcp = d;
            } else if (what == "tcpfin") {
                t.tcp_fin = d;
            } else if (what == "udp") {
                t.udp = d;
            } else {
                issue(n, "unsupported keyword 'lvs_timeouts " + n.args[i] + "'");
            }
        }
    }

    // ---- vrrp_instance ----------------------------------------------------------------------

    void vrrp_instance(const KaNode& block) {
        if (block.args.size() != 1) {
            issue(block, "'vrrp_instance' needs exactly one name");
            return;
        }
        VrrpInstance vi;
        vi.name = block.args[0];
        vi.garp_master_delay = garp_delay_;
        vi.garp_master_repeat = garp_repeat_;
        vi.garp_master_refresh = garp_refresh_;
        std::optional<VrrpState> state;
        std::optional<uint8_t> priority;
        std::optional<uint8_t> version;
        std::optional<uint8_t> vrid;
        bool nopreempt = false;
        std::optional<net::IpAddress> src_ip;  // keepalived: unicast_src_ip == mcast_src_ip
        const KaNode* src_ip_node = nullptr;
        const KaNode* advert_node = nullptr;
        const KaNode* auth_node = nullptr;
        std::vector<std::string> devs;

        for (const KaNode& n : block.children) {
            const std::string& k = n.keyword;
            if (k == "state") {
                if (auto v = string_value(n)) {
                    const std::string s = upper(*v);
                    if (s == "MASTER") {
                        state = VrrpState::Master;
                    } else if (s == "BACKUP") {
                        state = VrrpState::Backup;
                    } else {
                        invalid(n, *v, "MASTER or BACKUP");
                    }
                }
            } else if (k == "interface") {
                if (auto v = string_value(n)) {
                    vi.interface = *v;
                }
            } else if (k == "virtual_router_id") {
                if (auto v = uint_value(n, 1, 255)) {
                    vrid = static_cast<uint8_t>(*v);
                }
            } else if (k == "priority") {
                if (auto v = uint_value(n, 1, 255)) {
                    priority = static_cast<uint8_t>(*v);
                }
            } else if (k == "advert_int") {
                if (auto v = timer_value(n)) {
                    vi.advert_int = *v;
                    advert_node = &n;
                }
            } else if (k == "version") {
                if (auto v = uint_value(n, 2, 3)) {
                    version = static_cast<uint8_t>(*v);
                }
            } else if (k == "nopreempt") {
                if (want_args(n, 0, 0)) {
                    nopreempt = true;
                }
            } else if (k == "preempt") {
                // keepalived keeps it as a no-op for old configurations: preempting is the default.
                want_args(n, 0, 0);
            } else if (k == "preempt_delay") {
                if (auto v = timer_value(n)) {
                    if (*v > kMaxPreemptDelay) {
                        invalid(n, n.args[0], "0..1000 seconds");
                    } else {
                        vi.preempt_delay = *v;
                    }
                }
            } else if (k == "authentication") {
                auth_node = &n;
                authentication(n, vi);
            } else if (k == "virtual_ipaddress") {
                virtual_ipaddress(n, vi);
            } else if (k == "unicast_src_ip" || k == "mcast_src_ip") {
                if (auto v = ip_value(n)) {
                    src_ip = *v;
                    src_ip_node = &n;
                }
            } else if (k == "unicast_peer") {
                unicast_peer(n, vi);
            } else if (k == "garp_master_delay") {
                if (auto v = timer_value(n)) {
                    vi.garp_master_delay = *v;
                }
            } else if (k == "garp_master_repeat") {
                if (auto v = garp_repeat_value(n)) {
                    vi.garp_master_repeat = *v;
                }
            } else if (k == "garp_master_refresh") {
                if (auto v = timer_value(n)) {
                    vi.garp_master_refresh = *v;
                }
            } else if (k == "track_interface") {
                track_interface(n, vi);
            } else if (k == "notify_master") {
                vi.notify_master = script_value(n);
            } else if (k == "notify_backup") {
                vi.notify_backup = script_value(n);
            } else if (k == "notify_fault") {
                vi.notify_fault = script_value(n);
            } else if (k == "notify_stop") {
                vi.notify_stop = script_value(n);
            } else if (k == "notify") {
                vi.notify = script_value(n);
            } else if (k == "v3_checksum_as_v2") {
                if (auto v = bool_value(n)) {
                    vi.v3_checksum_as_v2 = *v;
                }
            } else {
                unsupported(n);
            }
        }

        // What follows is keepalived's vrrp_complete_instance(), in its order.
        if (!vrid) {
            issue(block, "vrrp_instance '" + vi.name +
                             "' has no virtual_router_id; keepalived ignores the instance");
            return;
        }
        vi.virtual_router_id = *vrid;
        if (vi.interface.empty()) {
            issue(block, "vrrp_instance '" + vi.name +
                             "' has no interface (unicast without interface is not supported)");
            return;
        }
        const bool v6 =
            !vi.virtual_ipaddress.empty() && vi.virtual_ipaddress[0].address.address.is_v6();
        if (version) {
            vi.version = *version;
        } else if (v6) {
            vi.version = 3;  // keepalived: IPv6 instances default to VRRPv3 whatever vrrp_version
        } else {
            vi.version = vrrp_version_.value_or(2);
        }
        if (vi.virtual_ipaddress.empty()) {
            // keepalived tolerates it in v2 (an instance that only elects); the director needs
            // an address to take over.
            issue(block, "vrrp_instance '" + vi.name + "' has no virtual_ipaddress; not imported");
            return;
        }
        if (src_ip) {
            // keepalived treats both keywords alike: the advert's source address. With unicast
            // peers that is unicast_src_ip; in multicast the director sends from its port's
            // address, so the value only hints at what ports[].address should be.
            if (!vi.unicast_peers.empty()) {
                vi.unicast_src_ip = src_ip;
            } else {
                issue(*src_ip_node, "unsupported keyword '" + src_ip_node->keyword +
                                        "' without unicast_peer (the source of multicast "
                                        "adverts is the port's address)");
            }
            src_hints_[vi.interface].push_back(src_ip->to_string() + " (" + src_ip_node->keyword +
                                               " of " + vi.name + ")");
        }
        if (priority) {
            vi.priority = *priority;
        } else if (state == VrrpState::Master) {
            vi.priority = kPriorityOwner;
            note(block, "vrrp_instance '" + vi.name +
                            "': state MASTER without priority; keepalived makes it the address "
                            "owner, priority 255");
        } else {
            vi.priority = kDefaultPriority;
        }
        if (state) {
            vi.state = *state;
        } else {
            vi.state = vi.priority == kPriorityOwner ? VrrpState::Master : VrrpState::Backup;
        }
        if (vi.authentication) {
            std::string why;
            if (vi.version == 3) {
                why = "VRRP version 3 has no authentication";
            } else if (vi.authentication->pass.empty()) {
                why = "no auth_pass given";
            } else if (v6 && vi.authentication->type == AuthType::Ah) {
                why = "AH authentication does not work with IPv6";
            }
            if (!why.empty()) {
                note(*auth_node, "vrrp_instance '" + vi.name + "': authentication ignored, as " +
                                     "keepalived does: " + why);
                vi.authentication.reset();
            }
        }
        if (nopreempt && vi.priority == kPriorityOwner) {
            note(block, "vrrp_instance '" + vi.name +
                            "': nopreempt is incompatible with priority 255; cleared, as "
                            "keepalived does");
            nopreempt = false;
        }
        if (vi.state == VrrpState::Master) {
            if (nopreempt) {
                note(block, "vrrp_instance '" + vi.name +
                                "': nopreempt does not work with state MASTER; cleared, as "
                                "keepalived does");
                nopreempt = false;
            }
            if (vi.preempt_delay != Duration{0}) {
                note(block, "vrrp_instance '" + vi.name +
                                "': preempt_delay does not work with state MASTER; cleared, as "
                                "keepalived does");
                vi.preempt_delay = Duration{0};
            }
        }
        if (nopreempt && vi.preempt_delay != Duration{0}) {
            note(block, "vrrp_instance '" + vi.name +
                            "': preempt_delay is incompatible with nopreempt; cleared, as "
                            "keepalived does");
            vi.preempt_delay = Duration{0};
        }
        vi.preempt = !nopreempt;
        round_advert_int(vi, advert_node != nullptr ? *advert_node : block);

        // Ports: the advert interface, then VIP devices, then tracked interfaces.
        use_port(vi.interface);
        for (const VirtualIp& vip : vi.virtual_ipaddress) {
            if (!vip.dev.empty()) {
                use_port(vip.dev);
            }
        }
        for (const std::string& t : vi.track_ports) {
            use_port(t);
        }
        r_.config.vrrp_instances.push_back(std::move(vi));
    }

    // keepalived rounds what the wire format cannot carry: whole seconds in v2 (RFC 3768
    // §5.3.7), centiseconds in v3 (RFC 5798 §5.2.7), and clamps to the field's range.
    void round_advert_int(VrrpInstance& vi, const KaNode& at) {
        const Duration before = vi.advert_int;
        if (vi.advert_int == Duration{0}) {
            vi.advert_int = kDefaultAdvertInt;
        }
        if (vi.version == 2) {
            if (vi.advert_int >= seconds(256)) {
                vi.advert_int = seconds(255);
            } else if (vi.advert_int % seconds(1) != Duration{0}) {
                const auto rounded = (vi.advert_int + milliseconds(500)) / seconds(1);
                vi.advert_int = seconds(std::max<int64_t>(rounded, 1));
            }
        } else {
            if (vi.advert_int >= kCentisecond * 4096) {
                vi.advert_int = kCentisecond * 4095;
            } else if (vi.advert_int % kCentisecond != Duration{0}) {
                const auto rounded = (vi.advert_int + milliseconds(5)) / kCentisecond;
                vi.advert_int = kCentisecond * std::max<int64_t>(rounded, 1);
            }
        }
        if (vi.advert_int != before) {
            note(at, "vrrp_instance '" + vi.name + "': advert_int " + format_seconds(before) +
                         " is not valid for VRRP version " + std::to_string(vi.version) +
                         "; rounded to " + format_seconds(vi.advert_int) + ", as keepalived does");
        }
    }

    void authentication(const KaNode& block, VrrpInstance& vi) {
        if (!want_block(block)) {
            return;
        }
        Authentication auth;
        for (const KaNode& n : block.children) {
            if (n.keyword == "auth_type") {
                if (auto v = string_value(n)) {
                    const std::string t = upper(*v);
                    if (t == "PASS") {
                        auth.type = AuthType::Pass;
                    } else if (t == "AH") {
                        auth.type = AuthType::Ah;
                    } else {
                        invalid(n, *v, "PASS or AH");
                    }
                }
            } else if (n.keyword == "auth_pass") {
                if (auto v = string_value(n)) {
                    auth.pass = *v;
                    if (auth.pass.size() > kMaxAuthPass) {
                        auth.pass.resize(kMaxAuthPass);
                        note(n, "auth_pass truncated to its first 8 characters '" + auth.pass +
                                    "', the only ones keepalived sends");
                    }
                }
            } else {
                unsupported(n);
            }
        }
        vi.authentication = auth;
    }

    void virtual_ipaddress(const KaNode& block, VrrpInstance& vi) {
        if (!want_block(block)) {
            return;
        }
        for (const KaNode& n : block.children) {
            if (n.has_block) {
                unsupported(n);
                continue;
            }
            const auto prefix = net::Prefix::parse(n.keyword);
            if (!prefix) {
                issue(n, "invalid virtual_ipaddress '" + n.keyword + "'");
                continue;
            }
            VirtualIp vip{*prefix, "", ""};
            for (size_t i = 0; i < n.args.size(); ++i) {
                const std::string& opt = n.args[i];
                const bool has_value = i + 1 < n.args.size();
                if ((opt == "dev" || opt == "label") && has_value) {
                    (opt == "dev" ? vip.dev : vip.label) = n.args[++i];
                    continue;
                }
                // Everything else changes how the kernel would hold the address; the director
                // has no kernel address to shape.
                static const std::set<std::string> kWithValue = {"brd", "scope", "peer",
                                                                 "preferred_lft", "use_vmac"};
                std::string shown = opt;
                if (kWithValue.count(opt) != 0 && has_value) {
                    shown += " " + n.args[++i];
                }
                issue(n, "unsupported keyword '" + shown + "' (virtual_ipaddress option)");
            }
            if (!vi.virtual_ipaddress.empty() &&
                vi.virtual_ipaddress[0].address.address.family() != vip.address.address.family()) {
                issue(n, "virtual_ipaddress " + n.keyword +
                             ": address family differs from the instance's first VIP; ignored");
                continue;
            }
            vi.virtual_ipaddress.push_back(std::move(vip));
        }
    }

    void unicast_peer(const KaNode& block, VrrpInstance& vi) {
        if (!want_block(block)) {
            return;
        }
        for (const KaNode& n : block.children) {
            const auto ip = net::IpAddress::parse(n.keyword);
            if (!ip || n.has_block) {
                issue(n, "invalid unicast_peer '" + n.keyword + "'");
                continue;
            }
            if (!n.args.empty()) {
                issue(n, "unsupported keyword '" + n.args[0] + "' (unicast_peer option)");
            }
            vi.unicast_peers.push_back(*ip);
        }
    }

    void track_interface(const KaNode& block, VrrpInstance& vi) {
        if (!want_block(block)) {
            return;
        }
        for (const KaNode& n : block.children) {
            if (n.has_block) {
                unsupported(n);
                continue;
            }
            // `IF [weight W [reverse|noreverse]]`: weight 0 (the default) means FAULT while down,
            // which is what track_ports does; a weight changes the priority instead.
            bool weighted = false;
            if (!n.args.empty()) {
                if (n.args[0] == "weight" && n.args.size() >= 2) {
                    const auto w =
                        parse_u32(n.args[1].starts_with('-') ? n.args[1].substr(1) : n.args[1]);
                    weighted = !w || *w != 0 || n.args.size() > 2;
                } else {
                    weighted = true;
                }
            }
            if (weighted) {
                std::string shown;
                for (const std::string& a : n.args) {
                    shown += (shown.empty() ? "" : " ") + a;
                }
                issue(n, "unsupported keyword '" + shown + "' (track_interface " + n.keyword +
                             " with a weight: only weight 0, FAULT while down, is supported)");
                continue;
            }
            if (n.keyword == vi.interface) {
                note(n, "vrrp_instance '" + vi.name + "': track_interface " + n.keyword +
                            " is the instance's own interface; ignored, as keepalived does");
                continue;
            }
            if (std::find(vi.track_ports.begin(), vi.track_ports.end(), n.keyword) ==
                vi.track_ports.end()) {
                vi.track_ports.push_back(n.keyword);
            }
        }
    }

    // ---- vrrp_sync_group --------------------------------------------------------------------

    void sync_group(const KaNode& block) {
        if (block.args.size() != 1) {
            issue(block, "'vrrp_sync_group' needs exactly one name");
            return;
        }
        VrrpSyncGroup g;
        g.name = block.args[0];
        for (const KaNode& n : block.children) {
            const std::string& k = n.keyword;
            if (k == "group") {
                if (!want_block(n)) {
                    continue;
                }
                for (const KaNode& m : n.children) {
                    std::vector<std::string> names{m.keyword};
                    names.insert(names.end(), m.args.begin(), m.args.end());
                    for (const std::string& name : names) {
                        group_member(m, g, name);
                    }
                }
            } else if (k == "notify_master") {
                g.notify_master = script_value(n);
            } else if (k == "notify_backup") {
                g.notify_backup = script_value(n);
            } else if (k == "notify_fault") {
                g.notify_fault = script_value(n);
            } else if (k == "notify") {
                g.notify = script_value(n);
            } else {
                unsupported(n);
            }
        }
        r_.config.vrrp_sync_groups.push_back(std::move(g));
    }

    void group_member(const KaNode& at, VrrpSyncGroup& g, const std::string& name) {
        const auto& vis = r_.config.vrrp_instances;
        const bool known = std::any_of(vis.begin(), vis.end(),
                                       [&](const VrrpInstance& vi) { return vi.name == name; });
        if (!known) {
            issue(at, "vrrp_sync_group '" + g.name + "': no vrrp_instance '" + name +
                          "' was imported; left out of the group");
            return;
        }
        if (grouped_.count(name) != 0) {
            issue(at, "vrrp_sync_group '" + g.name + "': vrrp_instance '" + name +
                          "' is already in vrrp_sync_group '" + grouped_[name] +
                          "'; keepalived allows one group per instance");
            return;
        }
        grouped_[name] = g.name;
        g.group.push_back(name);
    }

    // ---- virtual_server ---------------------------------------------------------------------

    void virtual_server(const KaNode& block) {
        if (block.args.empty() || block.args[0] == "fwmark" || block.args[0] == "group") {
            issue(block, "unsupported keyword 'virtual_server" +
                             (block.args.empty() ? std::string() : " " + block.args[0]) + "'");
            return;
        }
        const auto addr = net::IpAddress::parse(block.args[0]);
        if (!addr) {
            invalid(block, block.args[0], "an IP address, fwmark N or group NAME");
            return;
        }
        if (block.args.size() > 2) {
            issue(block, "unsupported argument '" + block.args[2] + "' of 'virtual_server'");
        }
        VirtualServer vs;
        vs.address = *addr;
        vs.persistence_granularity = static_cast<uint8_t>(addr->max_prefix());
        if (block.args.size() >= 2) {
            const auto port = parse_u32(block.args[1]);
            if (!port || *port > 65535) {
                invalid(block, block.args[1], "a port 0..65535");
                return;
            }
            vs.port = static_cast<uint16_t>(*port);
        }
        const std::string label = block.args[0] + " " + std::to_string(vs.port);

        Inherited inh;
        std::optional<uint32_t> default_weight;
        std::optional<Protocol> protocol;
        bool have_algo = false;
        bool have_kind = false;
        bool have_persistence = false;
        bool have_granularity = false;
        std::optional<std::pair<net::IpAddress, std::optional<uint16_t>>> sorry;
        const KaNode* sorry_node = nullptr;
        std::vector<const KaNode*> reals;

        for (const KaNode& n : block.children) {
            const std::string& k = n.keyword;
            if (k == "real_server") {
                reals.push_back(&n);
            } else if (k == "lb_algo" || k == "lvs_sched") {
                have_algo = true;
                lb_algo(n, vs);
            } else if (k == "lb_kind" || k == "lvs_method") {
                have_kind = true;
                lb_kind(n, vs);
            } else if (k == "protocol") {
                if (auto v = string_value(n)) {
                    const std::string p = upper(*v);
                    if (p == "TCP") {
                        protocol = Protocol::Tcp;
                    } else if (p == "UDP") {
                        protocol = Protocol::Udp;
                    } else if (p == "SCTP") {
                        issue(n, "unsupported keyword 'protocol SCTP'");
                    } else {
                        invalid(n, *v, "TCP, UDP or SCTP");
                    }
                }
            } else if (k == "delay_loop") {
                if (auto v = interval_value(n)) {
                    vs.delay_loop = *v;
                }
            } else if (k == "persistence_timeout") {
                // keepalived: the keyword alone means 360 s (ipvsadm's -p alone would be 300 s).
                if (n.args.empty()) {
                    want_args(n, 0, 0);
                    vs.persistence_timeout = kDefaultPersistenceWithoutValue;
                    have_persistence = true;
                } else if (auto v = uint_value(n, 0, 86400 * 365)) {
                    vs.persistence_timeout = seconds(*v);
                    have_persistence = true;
                }
            } else if (k == "persistence_granularity") {
                if (granularity(n, vs)) {
                    have_granularity = true;
                }
            } else if (k == "quorum") {
                if (auto v = uint_value(n, 1, 0x7fffffff)) {
                    vs.quorum = *v;
                }
            } else if (k == "hysteresis") {
                if (auto v = uint_value(n, 0, 0x7fffffff)) {
                    vs.hysteresis = *v;
                }
            } else if (k == "quorum_up") {
                vs.quorum_up = script_value(n);
            } else if (k == "quorum_down") {
                vs.quorum_down = script_value(n);
            } else if (k == "sorry_server") {
                if (want_args(n, 1, 2)) {
                    const auto ip = ip_value(n, 0);
                    std::optional<uint16_t> port;
                    bool ok = ip.has_value();
                    if (n.args.size() >= 2) {
                        port = port_value(n, 1);
                        ok = ok && port.has_value();
                    }
                    if (ok) {
                        sorry.emplace(*ip, port);
                        sorry_node = &n;
                    }
                }
            } else if (k == "inhibit_on_failure") {
                if (auto v = bool_value(n)) {
                    vs.inhibit_on_failure = *v;
                }
            } else if (k == "alpha") {
                if (auto v = bool_value(n)) {
                    vs.alpha = *v;
                }
            } else if (k == "virtualhost") {
                inh.virtualhost = string_value(n);
            } else if (k == "weight") {
                if (auto v = weight_value(n)) {
                    default_weight = *v;
                }
            } else if (!common_timing(n, inh)) {
                unsupported(n);
            }
        }

        if (!have_kind) {
            issue(block,
                  "lb_kind NAT is not supported (keepalived's default when lb_kind is "
                  "absent)");
        }
        if (!have_algo) {
            note(block, "virtual_server " + label + " has no lb_algo: keepalived's default wlc");
        }
        if (protocol) {
            vs.protocol = *protocol;
        } else {
            vs.protocol = Protocol::Udp;
            note(block,
                 "virtual_server " + label + " has no protocol: keepalived's default UDP applied");
        }
        if (have_granularity && !have_persistence) {
            vs.persistence_timeout = kDefaultPersistenceWithoutValue;
            note(block, "virtual_server " + label +
                            ": persistence_granularity without persistence_timeout; keepalived "
                            "makes the service persistent for 360s");
        }
        if (vs.port == 0 && vs.persistence_timeout == Duration{0}) {
            vs.persistence_timeout = kDefaultPersistenceWithoutValue;
            note(block, "virtual_server " + label +
                            ": port 0 (all ports) needs persistence; keepalived sets 360s");
        }
        if (vs.hysteresis >= vs.quorum && vs.hysteresis > 0) {
            note(block, "virtual_server " + label + ": hysteresis " +
                            std::to_string(vs.hysteresis) + " reduced to quorum-1 = " +
                            std::to_string(vs.quorum - 1) + ", as keepalived does");
            vs.hysteresis = vs.quorum - 1;
        }
        if (sorry) {
            // DR and TUN cannot change the destination port: keepalived forces the VS port.
            if (sorry->second && *sorry->second != vs.port) {
                note(*sorry_node, "sorry_server port " + std::to_string(*sorry->second) +
                                      " reset to the virtual_server port " +
                                      std::to_string(vs.port) + ", as keepalived does for " +
                                      to_string(vs.lb_kind));
            }
            vs.sorry_server = SorryServer{sorry->first, vs.port};
        }
        for (const KaNode* rs : reals) {
            real_server(*rs, vs, inh, default_weight.value_or(kDefaultWeight));
        }
        r_.config.virtual_servers.push_back(std::move(vs));
    }

    void lb_algo(const KaNode& n, VirtualServer& vs) {
        const auto v = string_value(n);
        if (!v) {
            return;
        }
        static const std::map<std::string, LbAlgo> kAlgos = {
            {"rr", LbAlgo::Rr},   {"wrr", LbAlgo::Wrr}, {"lc", LbAlgo::Lc},
            {"wlc", LbAlgo::Wlc}, {"sed", LbAlgo::Sed}, {"nq", LbAlgo::Nq},
            {"sh", LbAlgo::Sh},   {"dh", LbAlgo::Dh},   {"mh", LbAlgo::Mh},
        };
        static const std::set<std::string> kUnsupported = {"lblc", "lblcr", "fo", "ovf", "twos"};
        const std::string a = lower(*v);
        if (auto it = kAlgos.find(a); it != kAlgos.end()) {
            vs.lb_algo = it->second;
        } else if (kUnsupported.count(a) != 0) {
            issue(n, "unsupported keyword '" + n.keyword + " " + *v + "'");
        } else {
            invalid(n, *v, "rr wrr lc wlc lblc lblcr dh sh mh fo ovf sed nq twos");
        }
    }

    void lb_kind(const KaNode& n, VirtualServer& vs) {
        if (n.args.empty()) {
            want_args(n, 1, 1);
            return;
        }
        const std::string kind = upper(n.args[0]);
        if (kind == "DR") {
            vs.lb_kind = LbKind::Dr;
            want_args(n, 1, 1);
        } else if (kind == "TUN") {
            // The datapath has no encapsulation yet: reported, and the service stays DR in the
            // output, which the user must not deploy as is (exit status 2 says so).
            issue(n, "unsupported keyword '" + n.keyword + " TUN' (director forwards in DR mode)");
        } else if (kind == "NAT") {
            issue(n,
                  "lb_kind NAT is not supported (keepalived's default when lb_kind is "
                  "absent)");
        } else {
            invalid(n, n.args[0], "NAT, DR or TUN");
        }
    }

    bool granularity(const KaNode& n, VirtualServer& vs) {
        const auto v = string_value(n);
        if (!v) {
            return false;
        }
        if (vs.address.is_v4()) {
            if (auto len = net::netmask_to_prefix(*v)) {
                vs.persistence_granularity = *len;
                return true;
            }
            invalid(n, *v, "a dotted IPv4 netmask");
            return false;
        }
        const auto len = parse_u32(*v);
        if (!len || *len < 1 || *len > 128) {
            invalid(n, *v, "an IPv6 prefix length 1..128");
            return false;
        }
        vs.persistence_granularity = static_cast<uint8_t>(*len);
        return true;
    }

    std::optional<uint32_t> weight_value(const KaNode& n) {
        if (!want_args(n, 1, 1)) {
            return std::nullopt;
        }
        const auto v = parse_u32(n.args[0]);
        if (v && *v > kMaxWeight && *v <= 0x7fffffff) {
            issue(n, "unsupported keyword 'weight " + n.args[0] + "' (weights above " +
                         std::to_string(kMaxWeight) + " are not supported)");
            return std::nullopt;
        }
        if (!v || *v > kMaxWeight) {
            invalid(n, n.args[0], "an integer in 0.." + std::to_string(kMaxWeight));
            return std::nullopt;
        }
        return v;
    }

    // The checker timing keywords that VS, RS and checkers all accept (check_data.c).
    bool common_timing(const KaNode& n, Inherited& inh) {
        const std::string& k = n.keyword;
        if (k == "connect_timeout") {
            if (auto v = interval_value(n)) {
                inh.connect_timeout = *v;
            }
        } else if (k == "retry" || k == "nb_get_retry") {
            if (auto v = uint_value(n, 0, 0x7fffffff)) {
                inh.retry = *v;
            }
        } else if (k == "delay_before_retry") {
            if (auto v = timer_value(n)) {
                inh.delay_before_retry = *v;
            }
        } else {
            return false;
        }
        return true;
    }

    // ---- real_server ------------------------------------------------------------------------

    void real_server(const KaNode& block, VirtualServer& vs, const Inherited& parent,
                     uint32_t default_weight) {
        if (block.args.empty() || block.args.size() > 2) {
            issue(block, "'real_server' needs an address and an optional port");
            return;
        }
        const auto addr = net::IpAddress::parse(block.args[0]);
        if (!addr) {
            invalid(block, block.args[0], "an IP address");
            return;
        }
        RealServer rs;
        rs.address = *addr;
        rs.weight = default_weight;
        // DR and TUN forward without touching the destination port, so keepalived forces the
        // real server's port to the virtual server's ("ports don't match - resetting").
        rs.port = vs.port;
        if (block.args.size() == 2) {
            const auto port = parse_u32(block.args[1]);
            if (!port || *port > 65535) {
                invalid(block, block.args[1], "a port 0..65535");
                return;
            }
            if (*port != vs.port) {
                note(block, "real_server " + block.args[0] + " port " + block.args[1] +
                                " reset to the virtual_server port " + std::to_string(vs.port) +
                                ", as keepalived does for " + to_string(vs.lb_kind));
            }
        }
        Inherited inh = parent;
        std::optional<Duration> rs_delay_loop;  // a checker's own delay_loop overrides the VS's
        std::vector<const KaNode*> checkers;
        for (const KaNode& n : block.children) {
            const std::string& k = n.keyword;
            if (k == "weight") {
                if (auto v = weight_value(n)) {
                    rs.weight = *v;
                }
            } else if (k == "inhibit_on_failure") {
                if (auto v = bool_value(n)) {
                    rs.inhibit_on_failure = *v;
                }
            } else if (k == "notify_up") {
                rs.notify_up = script_value(n);
            } else if (k == "notify_down") {
                rs.notify_down = script_value(n);
            } else if (k == "delay_loop") {
                if (auto v = interval_value(n)) {
                    rs_delay_loop = *v;
                }
            } else if (k == "alpha") {
                if (auto v = bool_value(n)) {
                    alpha_matches(n, *v, vs.alpha);
                }
            } else if (k == "virtualhost") {
                inh.virtualhost = string_value(n);
            } else if (k == "lb_kind" || k == "lvs_method") {
                if (!n.args.empty() && upper(n.args[0]) == to_string(vs.lb_kind) &&
                    n.args.size() == 1) {
                    continue;
                }
                issue(n, "unsupported keyword '" + k +
                             (n.args.empty() ? std::string() : " " + n.args[0]) +
                             "' (a real_server forwarding method other than its "
                             "virtual_server's)");
            } else if (k == "TCP_CHECK" || k == "HTTP_GET" || k == "SSL_GET" || k == "MISC_CHECK" ||
                       k == "UDP_CHECK") {
                if (want_block(n)) {
                    checkers.push_back(&n);
                }
            } else if (!common_timing(n, inh)) {
                unsupported(n);
            }
        }
        for (const KaNode* c : checkers) {
            if (auto check = checker(*c, inh, rs_delay_loop, vs.alpha)) {
                rs.checks.push_back(std::move(*check));
            }
        }
        vs.real_servers.push_back(std::move(rs));
    }

    // alpha is a virtual_server property in director.yaml; a real server or checker may only
    // repeat it.
    void alpha_matches(const KaNode& n, bool value, bool vs_alpha) {
        if (value != vs_alpha) {
            issue(n, std::string("unsupported keyword '") + n.keyword +
                         "' (alpha differing from the virtual_server's)");
        }
    }

    // ---- checkers ---------------------------------------------------------------------------

    std::optional<Check> checker(const KaNode& block, const Inherited& parent,
                                 std::optional<Duration> rs_delay_loop, bool vs_alpha) {
        Check c;
        const std::string& k = block.keyword;
        c.type = k == "TCP_CHECK"    ? CheckType::Tcp
                 : k == "HTTP_GET"   ? CheckType::HttpGet
                 : k == "SSL_GET"    ? CheckType::SslGet
                 : k == "MISC_CHECK" ? CheckType::Misc
                                     : CheckType::Udp;
        const bool http = c.type == CheckType::HttpGet || c.type == CheckType::SslGet;
        const bool misc = c.type == CheckType::Misc;
        Inherited inh = parent;
        std::optional<Duration> delay_loop = rs_delay_loop;
        std::optional<std::string> virtualhost;
        bool have_url_keyword = false;

        for (const KaNode& n : block.children) {
            const std::string& key = n.keyword;
            if (key == "delay_loop") {
                if (auto v = interval_value(n)) {
                    delay_loop = *v;
                }
            } else if (key == "alpha") {
                if (auto v = bool_value(n)) {
                    alpha_matches(n, *v, vs_alpha);
                }
            } else if (key == "retry" || key == "nb_get_retry" || key == "delay_before_retry") {
                common_timing(n, inh);
            } else if (!misc && key == "connect_timeout") {
                common_timing(n, inh);
            } else if (!misc && key == "connect_ip") {
                c.connect_ip = ip_value(n);
            } else if (!misc && key == "connect_port") {
                c.connect_port = port_value(n);
            } else if (!misc && key == "bindto") {
                c.bindto = ip_value(n);
            } else if (!misc && key == "bind_port") {
                c.bind_port = port_value(n);
            } else if (http && key == "url") {
                have_url_keyword = true;
                if (auto u = url(n)) {
                    c.url.push_back(std::move(*u));
                }
            } else if (http && key == "virtualhost") {
                virtualhost = string_value(n);
            } else if (c.type == CheckType::SslGet && key == "enable_sni") {
                if (auto v = bool_value(n)) {
                    c.enable_sni = *v;
                }
            } else if (misc && key == "misc_path") {
                if (auto v = script_value(n)) {
                    c.misc_path = *v;
                }
            } else if (misc && key == "misc_timeout") {
                c.misc_timeout = interval_value(n);
            } else if (misc && key == "misc_dynamic") {
                if (auto v = bool_value(n)) {
                    c.misc_dynamic = *v;
                }
            } else if (c.type == CheckType::Udp && key == "payload") {
                if (auto v = hex_value(n)) {
                    c.payload = *v;
                }
            } else if (c.type == CheckType::Udp && key == "require_reply") {
                if (n.args.empty()) {
                    want_args(n, 0, 0);
                    c.require_reply = "";
                } else if (auto v = hex_value(n, /*wildcards=*/true)) {
                    c.require_reply = *v;
                }
            } else if (c.type == CheckType::Udp && key == "min_reply_length") {
                if (auto v = uint_value(n, 0, kMaxUdpReplyLength)) {
                    c.min_reply_length = *v;
                }
            } else if (c.type == CheckType::Udp && key == "max_reply_length") {
                if (auto v = uint_value(n, 0, kMaxUdpReplyLength)) {
                    c.max_reply_length = *v;
                }
            } else {
                unsupported(n);
            }
        }

        if (http && c.url.empty()) {
            issue(block, std::string(k) + " has no " + (have_url_keyword ? "valid " : "") +
                             "url; keepalived ignores the checker");
            return std::nullopt;
        }
        if (misc && c.misc_path.empty()) {
            issue(block, "MISC_CHECK has no misc_path; keepalived ignores the checker");
            return std::nullopt;
        }
        if (!misc) {
            c.connect_timeout = inh.connect_timeout.value_or(kDefaultConnectTimeout);
        }
        c.retry = inh.retry.value_or(misc ? kDefaultMiscRetry : kDefaultRetry);
        c.delay_before_retry = inh.delay_before_retry.value_or(http ? kDefaultHttpDelayBeforeRetry
                                                                    : kDefaultDelayBeforeRetry);
        c.delay_loop = delay_loop;
        if (http) {
            c.virtualhost = virtualhost ? *virtualhost : inh.virtualhost.value_or("");
        }
        return c;
    }

    std::optional<std::string> hex_value(const KaNode& n, bool wildcards = false) {
        const auto v = string_value(n);
        if (!v) {
            return std::nullopt;
        }
        std::string s = lower(*v);
        const bool ok = std::all_of(s.begin(), s.end(), [&](unsigned char c) {
            return std::isxdigit(c) || (wildcards && c == 'x');
        });
        if (!ok || s.empty() || s.size() % 2 != 0) {
            invalid(n, *v, wildcards ? "hex bytes, X = any nibble" : "hex bytes");
            return std::nullopt;
        }
        if (wildcards) {
            // keepalived writes the wildcard nibble as X; keep its spelling.
            std::replace(s.begin(), s.end(), 'x', 'X');
        }
        return s;
    }

    std::optional<HttpUrl> url(const KaNode& block) {
        if (!want_block(block)) {
            return std::nullopt;
        }
        HttpUrl u;
        bool have_path = false;
        for (const KaNode& n : block.children) {
            const std::string& k = n.keyword;
            if (k == "path") {
                if (auto v = string_value(n)) {
                    if (v->starts_with('/')) {
                        u.path = *v;
                        have_path = true;
                    } else {
                        invalid(n, *v, "a path starting with '/'");
                    }
                }
            } else if (k == "status_code") {
                if (auto codes = status_codes(n)) {
                    u.status_code = std::move(*codes);
                }
            } else if (k == "digest") {
                if (auto v = string_value(n)) {
                    if (v->size() == 32 && is_hex(*v)) {
                        u.digest = lower(*v);
                    } else {
                        invalid(n, *v, "an MD5 digest of 32 hex digits");
                    }
                }
            } else if (k == "virtualhost") {
                if (auto v = string_value(n)) {
                    u.virtualhost = *v;
                }
            } else {
                unsupported(n);
            }
        }
        if (!have_path) {
            issue(block, "url has no path; keepalived ignores it");
            return std::nullopt;
        }
        return u;
    }

    // `status_code 200`, `status_code 200-299 400-499`, also comma-separated.
    std::optional<std::vector<StatusRange>> status_codes(const KaNode& n) {
        if (n.args.empty()) {
            want_args(n, 1, 1);
            return std::nullopt;
        }
        std::vector<StatusRange> out;
        for (const std::string& arg : n.args) {
            size_t start = 0;
            while (start <= arg.size()) {
                const size_t comma = arg.find(',', start);
                const std::string item = arg.substr(
                    start, comma == std::string::npos ? std::string::npos : comma - start);
                start = comma == std::string::npos ? arg.size() + 1 : comma + 1;
                if (item.empty()) {
                    continue;
                }
                const size_t dash = item.find('-');
                const auto first = parse_u32(item.substr(0, dash));
                const auto last =
                    dash == std::string::npos ? first : parse_u32(item.substr(dash + 1));
                if (!first || !last || *first < 100 || *last > 599 || *first > *last) {
                    invalid(n, item, "HTTP status codes 100..599, or ranges like 200-299");
                    return std::nullopt;
                }
                out.push_back(
                    StatusRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)});
            }
        }
        return out;
    }

    // ---- ports ------------------------------------------------------------------------------

    void use_port(const std::string& name) {
        if (std::find(port_names_.begin(), port_names_.end(), name) == port_names_.end()) {
            port_names_.push_back(name);
        }
    }

    // keepalived ran on kernel interfaces; the director owns NICs through DPDK. An AF_PACKET
    // vdev on the same interface keeps the imported file valid and runnable as it stands.
    void make_ports() {
        for (size_t i = 0; i < port_names_.size(); ++i) {
            Port p;
            p.name = port_names_[i];
            p.device = "net_af_packet" + std::to_string(i) + ",iface=" + p.name;
            std::string msg = "port '" + p.name + "': device set to \"" + p.device +
                              "\" (AF_PACKET on the kernel interface, slow); replace it with "
                              "the NIC's PCI address (e.g. \"0000:01:00.0\") for DPDK line rate, "
                              "and fill 'address' with the director's own address on that "
                              "segment (keepalived took it from the interface)";
            if (auto it = src_hints_.find(p.name); it != src_hints_.end()) {
                msg += "; keepalived advertised from ";
                for (size_t j = 0; j < it->second.size(); ++j) {
                    msg += (j == 0 ? "" : ", ") + it->second[j];
                }
                msg += ", which is probably that address (add its prefix length)";
            }
            r_.notes.push_back(msg);
            r_.config.ports.push_back(std::move(p));
        }
    }

    ImportResult r_;
    std::vector<std::pair<uint32_t, ImportIssue>> issues_;  // with KaNode::seq
    std::optional<uint8_t> vrrp_version_;
    Duration garp_delay_ = kDefaultGarpMasterDelay;
    uint32_t garp_repeat_ = kDefaultGarpMasterRepeat;
    Duration garp_refresh_{0};
    std::vector<std::string> port_names_;
    std::map<std::string, std::vector<std::string>> src_hints_;
    std::map<std::string, std::string> grouped_;  // instance name -> its sync group
};

}  // namespace

ImportResult import_keepalived_file(const std::string& path) {
    return Importer().run(detail::parse_keepalived_file(path));
}

namespace detail {

ImportResult import_keepalived_text(std::string_view text, const std::string& filename) {
    return Importer().run(parse_keepalived_text(text, filename));
}

}  // namespace detail

}  // namespace director::config
