// SPDX-License-Identifier: BSD-3-Clause
// The director.yaml loader in two passes over one Diagnostics:
//   1. Parser walks the YAML by hand, section by section, against tables of known keys, and
//      converts every value strictly (types, ranges, formats, keys valid for a check type).
//   2. Validator checks relations between values (references, uniqueness, families, the DR
//      port rule), pointing at the nodes through the positions the parser noted.
// Both passes keep going after an error, so one run reports everything; a check whose input
// already failed is skipped so that one mistake is not reported twice in other words.
#include "config/load.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "config/detail/yaml_reader.h"

namespace director::config {

namespace {

using namespace std::chrono_literals;
using detail::Diagnostics;
using detail::Empty;
using detail::Field;
using detail::MapReader;
using detail::Named;

// ---- limits that are director's own (keepalived's are in reference/keepalived.md §1) -------
constexpr uint32_t kMaxLcore = 1024;   // lcore ids stay below RTE_MAX_LCORE of every DPDK build
constexpr uint32_t kMinMemoryMb = 64;  // below this EAL cannot hold the mempools and tables
constexpr uint32_t kMaxIdleSleepUs = 1000000;  // a longer back-off would starve the RX rings
constexpr Duration kMaxPreemptDelay = 1000s;   // keepalived's range
// keepalived accepts 0 and silently raises it to 1; we reject it instead. 255 caps a burst far
// above any sane value, so that a typo cannot flood the segment with gratuitous ARPs.
constexpr uint32_t kMaxGarpRepeat = 255;
constexpr std::size_t kMaxAuthPass = 8;   // the auth-data field of a VRRPv2 advert
constexpr std::size_t kMaxIfName = 15;    // Linux IFNAMSIZ - 1, for the exception TAP
constexpr Duration kMinInterval = 1ms;    // intervals and timeouts must be positive
constexpr Duration kMaxV2Advert = 255s;   // RFC 3768: 8-bit seconds
constexpr Duration kV3AdvertUnit = 10ms;  // RFC 5798: 12-bit centiseconds
constexpr Duration kMaxV3Advert = 40950ms;
constexpr uint32_t kMinStatus = 100;
constexpr uint32_t kMaxStatus = 599;
constexpr uint32_t kMaxPort = 65535;

// ---- known keys, per map ------------------------------------------------------------------
constexpr std::string_view kTopKeys[] = {
    "global", "dpdk",           "tables",           "timeouts",       "forwarding",
    "ports",  "vrrp_instances", "vrrp_sync_groups", "virtual_servers"};
constexpr std::string_view kGlobalKeys[] = {"router_id", "control_socket", "metrics_listen",
                                            "log_level", "notify"};
constexpr std::string_view kDpdkKeys[] = {"lcores",      "hugepages",     "memory_mb",
                                          "file_prefix", "idle_sleep_us", "eal_args"};
constexpr std::string_view kLcoreKeys[] = {"control", "workers"};
constexpr std::string_view kTablesKeys[] = {"connections", "persistence"};
constexpr std::string_view kTimeoutKeys[] = {"tcp", "tcp_fin", "tcp_syn", "udp"};
constexpr std::string_view kForwardingKeys[] = {"sloppy_tcp", "expire_nodest_conn",
                                                "expire_quiescent_template"};
constexpr std::string_view kPortKeys[] = {"name",    "device",  "profile",
                                          "address", "gateway", "exception_tap"};
constexpr std::string_view kVrrpKeys[] = {"name",
                                          "interface",
                                          "state",
                                          "virtual_router_id",
                                          "priority",
                                          "advert_int",
                                          "version",
                                          "preempt",
                                          "preempt_delay",
                                          "authentication",
                                          "virtual_ipaddress",
                                          "unicast_src_ip",
                                          "unicast_peers",
                                          "garp_master_delay",
                                          "garp_master_repeat",
                                          "garp_master_refresh",
                                          "track_ports",
                                          "v3_checksum_as_v2",
                                          "notify_master",
                                          "notify_backup",
                                          "notify_fault",
                                          "notify_stop",
                                          "notify"};
constexpr std::string_view kAuthKeys[] = {"type", "pass"};
constexpr std::string_view kVipKeys[] = {"address", "dev", "label"};
constexpr std::string_view kSyncGroupKeys[] = {"name",          "group",        "notify_master",
                                               "notify_backup", "notify_fault", "notify"};
constexpr std::string_view kVirtualServerKeys[] = {"address",
                                                   "port",
                                                   "protocol",
                                                   "lb_algo",
                                                   "lb_kind",
                                                   "delay_loop",
                                                   "persistence_timeout",
                                                   "persistence_granularity",
                                                   "quorum",
                                                   "hysteresis",
                                                   "quorum_up",
                                                   "quorum_down",
                                                   "sorry_server",
                                                   "inhibit_on_failure",
                                                   "alpha",
                                                   "real_servers"};
constexpr std::string_view kSorryKeys[] = {"address", "port"};
constexpr std::string_view kRealServerKeys[] = {
    "address", "port", "weight", "mac", "inhibit_on_failure", "notify_up", "notify_down", "check"};
constexpr std::string_view kCheckKeys[] = {"type",
                                           "connect_timeout",
                                           "retry",
                                           "delay_before_retry",
                                           "delay_loop",
                                           "connect_ip",
                                           "connect_port",
                                           "bindto",
                                           "bind_port",
                                           "url",
                                           "virtualhost",
                                           "enable_sni",
                                           "misc_path",
                                           "misc_timeout",
                                           "misc_dynamic",
                                           "payload",
                                           "require_reply",
                                           "min_reply_length",
                                           "max_reply_length"};
constexpr std::string_view kUrlKeys[] = {"path", "status_code", "digest", "virtualhost"};

// ---- names of enumerations ----------------------------------------------------------------
constexpr std::array<Named<LogLevel>, 4> kLogLevels{{{"error", LogLevel::Error},
                                                     {"warn", LogLevel::Warn},
                                                     {"info", LogLevel::Info},
                                                     {"debug", LogLevel::Debug}}};
constexpr std::array<Named<VrrpState>, 2> kVrrpStates{
    {{"MASTER", VrrpState::Master}, {"BACKUP", VrrpState::Backup}}};
constexpr std::array<Named<AuthType>, 2> kAuthTypes{
    {{"PASS", AuthType::Pass}, {"AH", AuthType::Ah}}};
constexpr std::array<Named<Protocol>, 2> kProtocols{
    {{"TCP", Protocol::Tcp}, {"UDP", Protocol::Udp}}};
constexpr std::array<Named<LbAlgo>, 9> kLbAlgos{{{"rr", LbAlgo::Rr},
                                                 {"wrr", LbAlgo::Wrr},
                                                 {"lc", LbAlgo::Lc},
                                                 {"wlc", LbAlgo::Wlc},
                                                 {"sed", LbAlgo::Sed},
                                                 {"nq", LbAlgo::Nq},
                                                 {"sh", LbAlgo::Sh},
                                                 {"dh", LbAlgo::Dh},
                                                 {"mh", LbAlgo::Mh}}};
constexpr std::array<Named<LbKind>, 2> kLbKinds{{{"DR", LbKind::Dr}, {"TUN", LbKind::Tun}}};
constexpr std::array<Named<CheckType>, 5> kCheckTypes{{{"TCP_CHECK", CheckType::Tcp},
                                                       {"HTTP_GET", CheckType::HttpGet},
                                                       {"SSL_GET", CheckType::SslGet},
                                                       {"MISC_CHECK", CheckType::Misc},
                                                       {"UDP_CHECK", CheckType::Udp}}};

constexpr unsigned type_bit(CheckType t) { return 1u << static_cast<unsigned>(t); }
constexpr unsigned kHttpTypes = type_bit(CheckType::HttpGet) | type_bit(CheckType::SslGet);

/** A check key that only some check types understand. */
struct TypedKey {
    std::string_view key;
    unsigned types;
    std::string_view types_text;
};

constexpr TypedKey kTypedCheckKeys[] = {
    {"url", kHttpTypes, "HTTP_GET and SSL_GET"},
    {"virtualhost", kHttpTypes, "HTTP_GET and SSL_GET"},
    // SNI is part of the TLS handshake: it means nothing to a plain HTTP_GET.
    {"enable_sni", type_bit(CheckType::SslGet), "SSL_GET"},
    {"misc_path", type_bit(CheckType::Misc), "MISC_CHECK"},
    {"misc_timeout", type_bit(CheckType::Misc), "MISC_CHECK"},
    {"misc_dynamic", type_bit(CheckType::Misc), "MISC_CHECK"},
    {"payload", type_bit(CheckType::Udp), "UDP_CHECK"},
    {"require_reply", type_bit(CheckType::Udp), "UDP_CHECK"},
    {"min_reply_length", type_bit(CheckType::Udp), "UDP_CHECK"},
    {"max_reply_length", type_bit(CheckType::Udp), "UDP_CHECK"},
};

// ---- small helpers ------------------------------------------------------------------------

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string item_path(std::string_view list, std::size_t i) {
    return std::string(list) + "[" + std::to_string(i) + "]";
}

const char* family_name(net::Family f) { return f == net::Family::V4 ? "IPv4" : "IPv6"; }

bool is_hex_digit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

/** Hex bytes, two digits each; `wildcard` also accepts keepalived's X nibble. */
bool is_hex_bytes(std::string_view s, bool wildcard) {
    return s.size() % 2 == 0 && std::all_of(s.begin(), s.end(), [&](char c) {
               return is_hex_digit(c) || (wildcard && (c == 'x' || c == 'X'));
           });
}

std::string to_lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

/** "HOST:PORT" with an IPv4 host or a bracketed IPv6 one, port 1..65535. */
bool is_listen_address(std::string_view s) {
    std::string_view host;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        const std::size_t close = s.find("]:");
        if (close == std::string_view::npos) {
            return false;
        }
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
        auto ip = net::IpAddress::parse(host);
        if (!ip || !ip->is_v6()) {
            return false;
        }
    } else {
        const std::size_t colon = s.rfind(':');
        if (colon == std::string_view::npos) {
            return false;
        }
        auto ip = net::IpAddress::parse(s.substr(0, colon));
        if (!ip || !ip->is_v4()) {
            return false;
        }
        port = s.substr(colon + 1);
    }
    auto value = detail::parse_unsigned(port);
    return value && *value >= 1 && *value <= kMaxPort;
}

bool is_usable(const net::IpAddress& a) { return !a.is_multicast() && !a.is_unspecified(); }

// ---- pass 1: parsing --------------------------------------------------------------------

/** Builds a Config from the YAML tree, reporting every malformed value. */
class Parser {
public:
    explicit Parser(Diagnostics& diag) : diag_(diag) {}

    Config parse(const YAML::Node& root);

private:
    void read_global(const Field& f);
    void read_dpdk(const Field& f);
    void read_lcores(const Field& f);
    void read_tables(const Field& f);
    void read_timeouts(const Field& f);
    void read_forwarding(const Field& f);
    void read_port(const Field& f, Port& p);
    void read_vrrp_instance(const Field& f, VrrpInstance& v);
    void read_vrrp_lists(const MapReader& m, VrrpInstance& v);
    void read_authentication(const Field& f, VrrpInstance& v);
    void read_virtual_ip(const Field& f, VirtualIp& vip);
    void read_sync_group(const Field& f, VrrpSyncGroup& g);
    void read_virtual_server(const Field& f, VirtualServer& vs);
    void read_lb_kind(const MapReader& m, LbKind& out);
    void read_granularity(const MapReader& m, VirtualServer& vs);
    void read_sorry_server(const Field& f, VirtualServer& vs);
    void read_real_server(const Field& f, uint16_t vs_port, RealServer& rs);
    void read_mac(const MapReader& m, RealServer& rs);
    void read_check(const Field& f, const std::optional<net::IpAddress>& rs_address, Check& c);
    void check_key_scopes(const MapReader& m, CheckType type);
    void read_http_fields(const MapReader& m, bool required, Check& c);
    void read_http_url(const Field& f, HttpUrl& u);
    void read_status_codes(const Field& f, HttpUrl& u);
    std::optional<StatusRange> read_status_range(const Field& f);
    void read_udp_fields(const MapReader& m, Check& c);
    void read_strings(const MapReader& m, std::string_view key, std::vector<std::string>& out);
    void whole_seconds(const MapReader& m, std::string_view key, Duration value);

    Diagnostics& diag_;
    Config config_;
};

Config Parser::parse(const YAML::Node& root) {
    const MapReader top(diag_, Field{root, "", root.Mark()}, kTopKeys);
    if (const Field* f = top.find("global")) {
        read_global(*f);
    }
    if (const Field* f = top.find("dpdk")) {
        read_dpdk(*f);
    }
    if (const Field* f = top.find("tables")) {
        read_tables(*f);
    }
    if (const Field* f = top.find("timeouts")) {
        read_timeouts(*f);
    }
    if (const Field* f = top.find("forwarding")) {
        read_forwarding(*f);
    }
    // List items that fail still take their slot, so that indices in later messages match
    // the file; the validator skips whatever failed here.
    if (const Field* f = top.find("ports")) {
        for (const Field& item : detail::read_items(diag_, *f)) {
            read_port(item, config_.ports.emplace_back());
        }
    }
    if (const Field* f = top.find("vrrp_instances")) {
        for (const Field& item : detail::read_items(diag_, *f)) {
            read_vrrp_instance(item, config_.vrrp_instances.emplace_back());
        }
    }
    if (const Field* f = top.find("vrrp_sync_groups")) {
        for (const Field& item : detail::read_items(diag_, *f)) {
            read_sync_group(item, config_.vrrp_sync_groups.emplace_back());
        }
    }
    if (const Field* f = top.find("virtual_servers")) {
        for (const Field& item : detail::read_items(diag_, *f)) {
            read_virtual_server(item, config_.virtual_servers.emplace_back());
        }
    }
    return std::move(config_);
}

void Parser::read_strings(const MapReader& m, std::string_view key, std::vector<std::string>& out) {
    if (const Field* f = m.find(key)) {
        for (const Field& item : detail::read_items(diag_, *f)) {
            out.push_back(detail::read_string(diag_, item, Empty::Rejected).value_or(""));
        }
    }
}

// IPVS and the datapath's coarse clock count whole seconds.
void Parser::whole_seconds(const MapReader& m, std::string_view key, Duration value) {
    if (value % 1s != 0us) {
        diag_.error(m.child_path(key), detail::format_duration(value) +
                                           " is not a whole number of seconds (IPVS resolution)");
    }
}

void Parser::read_global(const Field& f) {
    const MapReader m(diag_, f, kGlobalKeys);
    Global& g = config_.global;
    m.set("router_id", g.router_id);
    m.set("control_socket", g.control_socket, Empty::Rejected);
    std::string listen;
    if (m.set("metrics_listen", listen)) {
        if (listen.empty() || is_listen_address(listen)) {
            g.metrics_listen = listen;
        } else {
            diag_.error(m.child_path("metrics_listen"),
                        quoted(listen) + " is not ADDRESS:PORT (e.g. 127.0.0.1:9100 or " +
                            "[::1]:9100); \"\" disables /metrics");
        }
    }
    m.set_enum("log_level", g.log_level, kLogLevels);
    m.set("notify", g.notify);
}

void Parser::read_dpdk(const Field& f) {
    const MapReader m(diag_, f, kDpdkKeys);
    Dpdk& d = config_.dpdk;
    if (const Field* l = m.find("lcores")) {
        read_lcores(*l);
    }
    m.set("hugepages", d.hugepages);
    m.set_uint("memory_mb", d.memory_mb, kMinMemoryMb);
    m.set("file_prefix", d.file_prefix, Empty::Rejected);
    m.set_uint("idle_sleep_us", d.idle_sleep_us, 0, kMaxIdleSleepUs);
    read_strings(m, "eal_args", d.eal_args);
}

void Parser::read_lcores(const Field& f) {
    const MapReader m(diag_, f, kLcoreKeys);
    Dpdk& d = config_.dpdk;
    const bool control_ok =
        !m.has("control") || m.set_uint("control", d.control_lcore, 0, kMaxLcore - 1);
    const Field* workers = m.find("workers");
    if (workers == nullptr) {
        const auto& w = d.worker_lcores;  // the default workers
        if (control_ok && std::find(w.begin(), w.end(), d.control_lcore) != w.end()) {
            diag_.error(m.child_path("control"),
                        "lcore " + std::to_string(d.control_lcore) +
                            " is also a worker (workers default to [1]); list the workers");
        }
        return;
    }
    d.worker_lcores.clear();
    const std::vector<Field> items = detail::read_items(diag_, *workers);
    if (workers->node.IsSequence() && items.empty()) {
        diag_.error_at(workers->mark, workers->path, "needs at least one worker lcore");
    }
    for (const Field& item : items) {
        auto id = detail::read_unsigned(diag_, item, 0, kMaxLcore - 1);
        if (!id) {
            continue;
        }
        const auto lcore = static_cast<uint32_t>(*id);
        if (std::find(d.worker_lcores.begin(), d.worker_lcores.end(), lcore) !=
            d.worker_lcores.end()) {
            diag_.error_at(item.mark, item.path,
                           "lcore " + std::to_string(lcore) + " is listed twice");
        } else if (control_ok && lcore == d.control_lcore) {
            diag_.error_at(item.mark, item.path,
                           "lcore " + std::to_string(lcore) +
                               " is the control lcore; workers need lcores of their own");
        }
        d.worker_lcores.push_back(lcore);
    }
}

void Parser::read_tables(const Field& f) {
    const MapReader m(diag_, f, kTablesKeys);
    m.set_uint("connections", config_.tables.connections, 1);
    m.set_uint("persistence", config_.tables.persistence, 1);
}

void Parser::read_timeouts(const Field& f) {
    const MapReader m(diag_, f, kTimeoutKeys);
    Timeouts& t = config_.timeouts;
    for (auto [key, out] : {std::pair{"tcp", &t.tcp}, std::pair{"tcp_fin", &t.tcp_fin},
                            std::pair{"tcp_syn", &t.tcp_syn}, std::pair{"udp", &t.udp}}) {
        if (m.set(key, *out, 1s)) {
            whole_seconds(m, key, *out);
        }
    }
}

void Parser::read_forwarding(const Field& f) {
    const MapReader m(diag_, f, kForwardingKeys);
    m.set("sloppy_tcp", config_.forwarding.sloppy_tcp);
    m.set("expire_nodest_conn", config_.forwarding.expire_nodest_conn);
    m.set("expire_quiescent_template", config_.forwarding.expire_quiescent_template);
}

void Parser::read_port(const Field& f, Port& p) {
    const MapReader m(diag_, f, kPortKeys);
    if (!m.is_map()) {
        return;
    }
    m.require("name");
    m.set("name", p.name, Empty::Rejected);
    m.require("device");
    m.set("device", p.device, Empty::Rejected);
    m.set("profile", p.profile, Empty::Rejected);
    if (const Field* a = m.find("address")) {
        p.address = detail::read_prefix(diag_, *a);
    }
    m.set("gateway", p.gateway);
    if (m.set("exception_tap", p.exception_tap) && p.exception_tap.size() > kMaxIfName) {
        diag_.error(m.child_path("exception_tap"),
                    quoted(p.exception_tap) + " is longer than " + std::to_string(kMaxIfName) +
                        " characters, the Linux interface name limit");
    }
}

void Parser::read_vrrp_instance(const Field& f, VrrpInstance& v) {
    const MapReader m(diag_, f, kVrrpKeys);
    if (!m.is_map()) {
        return;
    }
    m.require("name");
    m.set("name", v.name, Empty::Rejected);
    m.require("interface");
    m.set("interface", v.interface, Empty::Rejected);
    m.set_enum("state", v.state, kVrrpStates);
    m.require("virtual_router_id");
    m.set_uint("virtual_router_id", v.virtual_router_id, 1, 255);
    m.set_uint("priority", v.priority, 1, 255);
    m.set("advert_int", v.advert_int, kV3AdvertUnit);  // the version-dependent range: Validator
    m.set_uint("version", v.version, 2, 3);
    m.set("preempt", v.preempt);
    m.set("preempt_delay", v.preempt_delay, 0s, kMaxPreemptDelay);
    if (const Field* a = m.find("authentication")) {
        read_authentication(*a, v);
    }
    read_vrrp_lists(m, v);
    m.set("unicast_src_ip", v.unicast_src_ip);
    m.set("garp_master_delay", v.garp_master_delay);
    m.set_uint("garp_master_repeat", v.garp_master_repeat, 1, kMaxGarpRepeat);
    m.set("garp_master_refresh", v.garp_master_refresh);
    m.set("v3_checksum_as_v2", v.v3_checksum_as_v2);
    m.set("notify_master", v.notify_master);
    m.set("notify_backup", v.notify_backup);
    m.set("notify_fault", v.notify_fault);
    m.set("notify_stop", v.notify_stop);
    m.set("notify", v.notify);
    // keepalived's default: VRRPv2 has no IPv6, so an IPv6 instance speaks version 3.
    const std::string first_vip = m.child_path("virtual_ipaddress") + "[0]";
    if (!m.has("version") && !v.virtual_ipaddress.empty() && !diag_.failed(first_vip) &&
        v.virtual_ipaddress.front().address.address.is_v6()) {
        v.version = 3;
    }
}

void Parser::read_vrrp_lists(const MapReader& m, VrrpInstance& v) {
    if (const Field* vips = m.require("virtual_ipaddress")) {
        const std::vector<Field> items = detail::read_items(diag_, *vips);
        if (vips->node.IsSequence() && items.empty()) {
            diag_.error_at(vips->mark, vips->path, "needs at least one address");
        }
        for (const Field& item : items) {
            read_virtual_ip(item, v.virtual_ipaddress.emplace_back());
        }
    }
    if (const Field* peers = m.find("unicast_peers")) {
        for (const Field& item : detail::read_items(diag_, *peers)) {
            v.unicast_peers.push_back(detail::read_ip(diag_, item).value_or(net::IpAddress{}));
        }
    }
    read_strings(m, "track_ports", v.track_ports);
}

void Parser::read_authentication(const Field& f, VrrpInstance& v) {
    const MapReader m(diag_, f, kAuthKeys);
    if (!m.is_map()) {
        return;
    }
    Authentication auth;
    m.require("type");
    m.set_enum("type", auth.type, kAuthTypes);
    m.require("pass");
    if (m.set("pass", auth.pass, Empty::Rejected) && auth.pass.size() > kMaxAuthPass) {
        // keepalived silently sends the first 8 bytes; a peer configured with the full string
        // would then never agree with us.
        diag_.error(m.child_path("pass"),
                    "is " + std::to_string(auth.pass.size()) +
                        " characters; VRRPv2 authentication carries at most 8");
    }
    v.authentication = std::move(auth);
}

void Parser::read_virtual_ip(const Field& f, VirtualIp& vip) {
    if (f.node.IsScalar()) {
        if (auto p = detail::read_prefix(diag_, f)) {
            vip.address = *p;
        }
        return;
    }
    if (!f.node.IsMap()) {
        diag_.error_at(f.mark, f.path,
                       std::string("expected ADDRESS[/LEN] or {address, dev, label}, got ") +
                           detail::describe(f.node));
        return;
    }
    const MapReader m(diag_, f, kVipKeys);
    if (const Field* a = m.require("address")) {
        if (auto p = detail::read_prefix(diag_, *a)) {
            vip.address = *p;
        }
    }
    m.set("dev", vip.dev);  // "" = the instance's interface
    m.set("label", vip.label);
}

void Parser::read_sync_group(const Field& f, VrrpSyncGroup& g) {
    const MapReader m(diag_, f, kSyncGroupKeys);
    if (!m.is_map()) {
        return;
    }
    m.require("name");
    m.set("name", g.name, Empty::Rejected);
    if (const Field* group = m.require("group")) {
        if (group->node.IsSequence() && group->node.size() == 0) {
            diag_.error_at(group->mark, group->path, "needs at least one vrrp instance");
        }
        read_strings(m, "group", g.group);
    }
    m.set("notify_master", g.notify_master);
    m.set("notify_backup", g.notify_backup);
    m.set("notify_fault", g.notify_fault);
    m.set("notify", g.notify);
}

void Parser::read_virtual_server(const Field& f, VirtualServer& vs) {
    const MapReader m(diag_, f, kVirtualServerKeys);
    if (!m.is_map()) {
        return;
    }
    m.require("address");
    m.set("address", vs.address);
    m.require("port");
    m.set_uint("port", vs.port);
    m.set_enum("protocol", vs.protocol, kProtocols);
    m.set_enum("lb_algo", vs.lb_algo, kLbAlgos);
    read_lb_kind(m, vs.lb_kind);
    m.set("delay_loop", vs.delay_loop, kMinInterval);
    if (m.set("persistence_timeout", vs.persistence_timeout)) {
        whole_seconds(m, "persistence_timeout", vs.persistence_timeout);
    }
    read_granularity(m, vs);
    m.set_uint("quorum", vs.quorum, 1);
    m.set_uint("hysteresis", vs.hysteresis);
    m.set("quorum_up", vs.quorum_up);
    m.set("quorum_down", vs.quorum_down);
    if (const Field* s = m.find("sorry_server")) {
        read_sorry_server(*s, vs);
    }
    m.set("inhibit_on_failure", vs.inhibit_on_failure);
    m.set("alpha", vs.alpha);
    if (const Field* list = m.find("real_servers")) {
        for (const Field& item : detail::read_items(diag_, *list)) {
            read_real_server(item, vs.port, vs.real_servers.emplace_back());
        }
    }
}

void Parser::read_lb_kind(const MapReader& m, LbKind& out) {
    const Field* f = m.find("lb_kind");
    if (f != nullptr && f->node.IsScalar() && f->node.Scalar() == "NAT") {
        diag_.error_at(f->mark, f->path,
                       "lb_kind NAT is not supported: director forwards in DR mode (MAC rewrite)");
        return;
    }
    // TUN (IPIP) is part of the schema as a planned extension; the datapath has no
    // encapsulation yet, and forwarding TUN services as DR would be a silent change of mode.
    if (f != nullptr && f->node.IsScalar() && f->node.Scalar() == "TUN") {
        diag_.error_at(f->mark, f->path,
                       "lb_kind TUN is not supported yet: director forwards in DR mode (MAC "
                       "rewrite)");
        return;
    }
    m.set_enum("lb_kind", out, kLbKinds);
}

void Parser::read_granularity(const MapReader& m, VirtualServer& vs) {
    const unsigned width = vs.address.max_prefix();
    const Field* f = m.find("persistence_granularity");
    if (f == nullptr) {
        vs.persistence_granularity = static_cast<uint8_t>(width);  // one client address
        return;
    }
    auto text = detail::read_string(diag_, *f);
    if (!text || diag_.failed(m.child_path("address"))) {
        return;  // without the address family the width is unknown
    }
    std::optional<uint8_t> length;
    if (text->find('.') != std::string::npos) {
        if (vs.address.is_v6()) {
            diag_.error_at(f->mark, f->path, "a dotted netmask is IPv4 only; write /N for IPv6");
            return;
        }
        length = net::netmask_to_prefix(*text);
    } else {
        auto n =
            detail::parse_unsigned(std::string_view(*text).substr(text->starts_with('/') ? 1 : 0));
        if (n && *n <= 255) {
            length = static_cast<uint8_t>(*n);
        }
    }
    if (!length) {
        diag_.error_at(f->mark, f->path, quoted(*text) + " is not a contiguous netmask, /N or N");
    } else if (*length > width) {
        diag_.error_at(f->mark, f->path,
                       "/" + std::to_string(*length) + " is longer than the " +
                           std::to_string(width) + " bits of the " +
                           family_name(vs.address.family()) + " virtual server address");
    } else {
        vs.persistence_granularity = *length;
    }
}

void Parser::read_sorry_server(const Field& f, VirtualServer& vs) {
    const MapReader m(diag_, f, kSorryKeys);
    if (!m.is_map()) {
        return;
    }
    SorryServer sorry;
    m.require("address");
    m.set("address", sorry.address);
    m.set_uint("port", sorry.port);  // 0 = the virtual server's port
    vs.sorry_server = sorry;
}

void Parser::read_real_server(const Field& f, uint16_t vs_port, RealServer& rs) {
    const MapReader m(diag_, f, kRealServerKeys);
    if (!m.is_map()) {
        return;
    }
    m.require("address");
    const bool address_ok = m.set("address", rs.address);
    // DR and TUN cannot change the destination port, so the virtual server's port is the one
    // sensible default. Port 0 only makes sense for a port-0 ("all ports") virtual server.
    rs.port = vs_port;
    m.set_uint("port", rs.port, vs_port == 0 ? 0 : 1, kMaxPort);
    m.set_uint("weight", rs.weight, 0, kMaxWeight);
    read_mac(m, rs);
    m.set("inhibit_on_failure", rs.inhibit_on_failure);
    m.set("notify_up", rs.notify_up);
    m.set("notify_down", rs.notify_down);
    if (const Field* checks = m.find("check")) {
        for (const Field& item : detail::read_one_or_many(diag_, *checks)) {
            read_check(item, address_ok ? std::optional(rs.address) : std::nullopt,
                       rs.checks.emplace_back());
        }
    }
}

void Parser::read_mac(const MapReader& m, RealServer& rs) {
    const Field* f = m.find("mac");
    if (f == nullptr) {
        return;
    }
    auto text = detail::read_string(diag_, *f);
    if (!text) {
        return;
    }
    auto mac = net::MacAddress::parse(*text);
    if (!mac) {
        diag_.error_at(f->mark, f->path,
                       quoted(*text) + " is not a MAC address (aa:bb:cc:dd:ee:ff)");
    } else if (mac->is_zero() || mac->is_multicast()) {
        diag_.error_at(f->mark, f->path,
                       quoted(*text) + " is not a unicast MAC; frames to a real server need one");
    } else {
        rs.mac = mac;
    }
}

void Parser::check_key_scopes(const MapReader& m, CheckType type) {
    for (const TypedKey& k : kTypedCheckKeys) {
        if (m.has(k.key) && (k.types & type_bit(type)) == 0) {
            diag_.error_at(
                *m.key_mark(k.key), m.child_path(k.key),
                "applies to " + std::string(k.types_text) + " only, not " + to_string(type));
        }
    }
}

void Parser::read_check(const Field& f, const std::optional<net::IpAddress>& rs_address, Check& c) {
    const MapReader m(diag_, f, kCheckKeys);
    if (!m.is_map()) {
        return;
    }
    m.require("type");
    const bool typed = m.set_enum("type", c.type, kCheckTypes);
    // keepalived's type-dependent defaults, before the explicit values that override them.
    c.retry = c.type == CheckType::Misc ? kDefaultMiscRetry : kDefaultRetry;
    c.delay_before_retry = (type_bit(c.type) & kHttpTypes) != 0 ? kDefaultHttpDelayBeforeRetry
                                                                : kDefaultDelayBeforeRetry;
    if (typed) {
        check_key_scopes(m, c.type);
    }
    m.set("connect_timeout", c.connect_timeout, kMinInterval);
    m.set_uint("retry", c.retry);
    m.set("delay_before_retry", c.delay_before_retry);
    m.set("delay_loop", c.delay_loop, kMinInterval);
    m.set("connect_ip", c.connect_ip);
    m.set_uint("connect_port", c.connect_port, 1, kMaxPort);
    const bool bind_ok = m.set("bindto", c.bindto);
    m.set_uint("bind_port", c.bind_port, 1, kMaxPort);
    read_http_fields(m, typed && (type_bit(c.type) & kHttpTypes) != 0, c);
    if (typed && c.type == CheckType::Misc) {
        m.require("misc_path");
    }
    m.set("misc_path", c.misc_path, Empty::Rejected);
    m.set("misc_timeout", c.misc_timeout, kMinInterval);
    m.set("misc_dynamic", c.misc_dynamic);
    read_udp_fields(m, c);
    const auto target = c.connect_ip ? c.connect_ip : rs_address;
    if (bind_ok && target && !diag_.failed(m.child_path("connect_ip")) &&
        c.bindto->family() != target->family()) {
        diag_.error(m.child_path("bindto"), std::string("is ") + family_name(c.bindto->family()) +
                                                " but the check connects to " +
                                                family_name(target->family()) + " " +
                                                target->to_string());
    }
}

void Parser::read_http_fields(const MapReader& m, bool required, Check& c) {
    const Field* urls = required ? m.require("url") : m.find("url");
    if (urls != nullptr) {
        const std::vector<Field> items = detail::read_one_or_many(diag_, *urls);
        if (urls->node.IsSequence() && items.empty()) {
            diag_.error_at(urls->mark, urls->path, "needs at least one url");
        }
        for (const Field& item : items) {
            read_http_url(item, c.url.emplace_back());
        }
    }
    m.set("virtualhost", c.virtualhost);
    m.set("enable_sni", c.enable_sni);
}

void Parser::read_http_url(const Field& f, HttpUrl& u) {
    const MapReader m(diag_, f, kUrlKeys);
    if (m.set("path", u.path, Empty::Rejected) && !u.path.starts_with('/')) {
        diag_.error(m.child_path("path"), quoted(u.path) + " does not start with '/'");
    }
    if (const Field* codes = m.find("status_code")) {
        read_status_codes(*codes, u);
    }
    std::string digest;
    if (m.set("digest", digest)) {
        if (digest.empty() || (digest.size() == 32 && is_hex_bytes(digest, false))) {
            u.digest = to_lower(digest);
        } else {
            diag_.error(m.child_path("digest"),
                        quoted(digest) + " is not an MD5 digest (32 hex digits)");
        }
    }
    m.set("virtualhost", u.virtualhost);
}

void Parser::read_status_codes(const Field& f, HttpUrl& u) {
    std::vector<Field> items{f};
    if (f.node.IsSequence()) {
        items = detail::read_items(diag_, f);
        if (items.empty()) {
            diag_.error_at(f.mark, f.path, "needs at least one status code");
        }
    }
    u.status_code.clear();
    for (const Field& item : items) {
        if (auto range = read_status_range(item)) {
            u.status_code.push_back(*range);
        }
    }
}

std::optional<StatusRange> Parser::read_status_range(const Field& f) {
    auto text = detail::read_string(diag_, f);
    if (!text) {
        return std::nullopt;
    }
    const std::size_t dash = text->find('-', 1);
    auto first = detail::parse_unsigned(std::string_view(*text).substr(0, dash));
    auto last = dash == std::string::npos
                    ? first
                    : detail::parse_unsigned(std::string_view(*text).substr(dash + 1));
    if (!first || !last) {
        diag_.error_at(f.mark, f.path,
                       quoted(*text) + " is not a status code or range (e.g. 200, 200-299)");
        return std::nullopt;
    }
    const auto in_range = [](uint64_t v) { return v >= kMinStatus && v <= kMaxStatus; };
    if (!in_range(*first) || !in_range(*last) || *first > *last) {
        diag_.error_at(f.mark, f.path,
                       *text + " is out of range " + std::to_string(kMinStatus) + ".." +
                           std::to_string(kMaxStatus));
        return std::nullopt;
    }
    return StatusRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

void Parser::read_udp_fields(const MapReader& m, Check& c) {
    std::string payload;
    if (m.set("payload", payload)) {
        if (is_hex_bytes(payload, false)) {
            c.payload = payload;
        } else {
            diag_.error(m.child_path("payload"), quoted(payload) + " is not hex bytes (e.g. 0a1b)");
        }
    }
    std::string reply;
    if (m.set("require_reply", reply)) {
        if (is_hex_bytes(reply, true)) {
            c.require_reply = reply;  // "" = any reply
        } else {
            diag_.error(m.child_path("require_reply"),
                        quoted(reply) + " is not hex bytes with X wildcards (e.g. 0aXX)");
        }
    }
    const bool min_ok = m.set_uint("min_reply_length", c.min_reply_length, 0, kMaxUdpReplyLength);
    const bool max_ok = m.set_uint("max_reply_length", c.max_reply_length, 0, kMaxUdpReplyLength);
    if ((min_ok || max_ok) && c.min_reply_length > c.max_reply_length) {
        diag_.error(m.child_path(min_ok ? "min_reply_length" : "max_reply_length"),
                    "min_reply_length " + std::to_string(c.min_reply_length) +
                        " exceeds max_reply_length " + std::to_string(c.max_reply_length));
    }
}

// ---- pass 2: relations between values ---------------------------------------------------

/** Checks what no single value shows: references, uniqueness, families, the DR port rule. */
class Validator {
public:
    Validator(const Config& config, Diagnostics& diag) : config_(config), diag_(diag) {}

    void run();

private:
    bool ok(const std::string& path) const { return !diag_.failed(path); }
    void check_ports();
    void check_port_ref(const std::string& name, const std::string& path);
    void check_vrrp_instances();
    void check_vrrp_addresses(const VrrpInstance& v, const std::string& base);
    void check_vrrp_version(const VrrpInstance& v, const std::string& base);
    void check_unicast(const VrrpInstance& v, const std::string& base);
    void check_sync_groups();
    void check_virtual_servers();
    void check_virtual_server(const VirtualServer& vs, const std::string& base);
    void check_real_servers(const VirtualServer& vs, const std::string& base);
    void check_port_rule(const VirtualServer& vs, uint16_t port, const std::string& base,
                         const std::string& path, std::string_view what);
    /** The family of an instance: its first VIP's, when that one parsed. */
    std::optional<net::Family> vrrp_family(const VrrpInstance& v, const std::string& base) const;

    const Config& config_;
    Diagnostics& diag_;
};

void Validator::run() {
    check_ports();
    check_vrrp_instances();
    check_sync_groups();
    check_virtual_servers();
}

void Validator::check_ports() {
    std::map<std::string, std::string> names;
    std::map<std::string, std::string> devices;
    for (std::size_t i = 0; i < config_.ports.size(); ++i) {
        const Port& p = config_.ports[i];
        const std::string base = item_path("ports", i);
        if (ok(base + ".name") && !names.emplace(p.name, base).second) {
            diag_.error(base + ".name",
                        "duplicate port name " + quoted(p.name) + " (also " + names[p.name] + ")");
        }
        if (ok(base + ".device") && !devices.emplace(p.device, base).second) {
            diag_.error(base + ".device",
                        "device " + quoted(p.device) + " is already used by " + devices[p.device]);
        }
        if (p.address && ok(base + ".address") && !is_usable(p.address->address)) {
            diag_.error(base + ".address", p.address->to_string() + " is not a unicast address");
        }
        if (!p.gateway || !ok(base + ".gateway") || !ok(base + ".address")) {
            continue;
        }
        if (!p.address) {
            diag_.error(base + ".gateway", "needs the port's address, to know its subnet");
        } else if (!p.address->contains(*p.gateway)) {
            diag_.error(base + ".gateway",
                        p.gateway->to_string() + " is not inside " + p.address->to_string());
        }
    }
}

void Validator::check_port_ref(const std::string& name, const std::string& path) {
    if (!ok(path)) {
        return;
    }
    std::vector<std::string_view> names;
    for (const Port& p : config_.ports) {
        if (p.name == name) {
            return;
        }
        names.push_back(p.name);
    }
    std::string problem = "no port named " + quoted(name) + " in ports";
    if (auto hint = detail::closest(name, names); !hint.empty()) {
        problem += "; did you mean " + quoted(hint) + "?";
    }
    diag_.error(path, problem);
}

std::optional<net::Family> Validator::vrrp_family(const VrrpInstance& v,
                                                  const std::string& base) const {
    if (v.virtual_ipaddress.empty() || !ok(base + ".virtual_ipaddress[0]")) {
        return std::nullopt;
    }
    return v.virtual_ipaddress.front().address.address.family();
}

void Validator::check_vrrp_instances() {
    std::map<std::string, std::string> names;
    std::map<std::tuple<std::string, uint8_t, net::Family>, std::string> routers;
    for (std::size_t i = 0; i < config_.vrrp_instances.size(); ++i) {
        const VrrpInstance& v = config_.vrrp_instances[i];
        const std::string base = item_path("vrrp_instances", i);
        if (ok(base + ".name") && !names.emplace(v.name, base).second) {
            diag_.error(base + ".name", "duplicate vrrp instance name " + quoted(v.name) +
                                            " (also " + names[v.name] + ")");
        }
        check_port_ref(v.interface, base + ".interface");
        for (std::size_t j = 0; j < v.track_ports.size(); ++j) {
            check_port_ref(v.track_ports[j], item_path(base + ".track_ports", j));
        }
        check_vrrp_addresses(v, base);
        check_vrrp_version(v, base);
        check_unicast(v, base);
        const auto family = vrrp_family(v, base);
        if (!family || !ok(base + ".interface") || !ok(base + ".virtual_router_id")) {
            continue;
        }
        const auto key = std::tuple{v.interface, v.virtual_router_id, *family};
        if (!routers.emplace(key, base).second) {
            diag_.error(base + ".virtual_router_id",
                        "virtual_router_id " + std::to_string(v.virtual_router_id) + " (" +
                            family_name(*family) + ") on port " + quoted(v.interface) +
                            " is already used by " + routers[key]);
        }
    }
}

void Validator::check_vrrp_addresses(const VrrpInstance& v, const std::string& base) {
    const auto family = vrrp_family(v, base);
    for (std::size_t j = 0; j < v.virtual_ipaddress.size(); ++j) {
        const VirtualIp& vip = v.virtual_ipaddress[j];
        const std::string path = item_path(base + ".virtual_ipaddress", j);
        if (!ok(path)) {
            continue;
        }
        const net::IpAddress& a = vip.address.address;
        if (!is_usable(a)) {
            diag_.error(path, a.to_string() + " is not a unicast address");
        } else if (family && a.family() != *family) {
            diag_.error(path, a.to_string() + " is " + family_name(a.family()) +
                                  " but the instance's first address is " + family_name(*family) +
                                  "; one instance carries one family");
        }
        if (!vip.dev.empty()) {
            check_port_ref(vip.dev, path + ".dev");
        }
    }
}

void Validator::check_vrrp_version(const VrrpInstance& v, const std::string& base) {
    const auto family = vrrp_family(v, base);
    if (!ok(base + ".version")) {
        return;
    }
    if (family == net::Family::V6 && v.version == 2) {
        diag_.error(base + ".version", "an IPv6 instance needs version 3 (VRRPv2 is IPv4 only)");
    }
    if (v.version == 3 && v.authentication) {
        diag_.error(base + ".authentication",
                    "is VRRPv2 only (RFC 5798 removed it); remove it or set version: 2");
    }
    if (!ok(base + ".advert_int")) {
        return;
    }
    const std::string advert = detail::format_duration(v.advert_int);
    if (v.version == 2 && v.advert_int % 1s != 0us) {
        diag_.error(base + ".advert_int", advert +
                                              " is not whole seconds, as VRRP version 2 "
                                              "requires (version 3 allows 10ms steps)");
    } else if (v.version == 2 && v.advert_int > kMaxV2Advert) {
        diag_.error(base + ".advert_int", advert + " is out of range 1s..255s for version 2");
    } else if (v.version == 3 && v.advert_int % kV3AdvertUnit != 0us) {
        diag_.error(base + ".advert_int",
                    advert + " is not a multiple of 10ms, as VRRP version 3 requires");
    } else if (v.version == 3 && v.advert_int > kMaxV3Advert) {
        diag_.error(base + ".advert_int", advert + " is out of range 10ms..40.95s for version 3");
    }
}

void Validator::check_unicast(const VrrpInstance& v, const std::string& base) {
    const auto family = vrrp_family(v, base);
    if (v.unicast_src_ip && v.unicast_peers.empty() && ok(base + ".unicast_peers")) {
        diag_.error(base + ".unicast_src_ip",
                    "is set but unicast_peers is empty; adverts "
                    "would go to the multicast group");
    }
    if (v.unicast_src_ip && family && ok(base + ".unicast_src_ip") &&
        v.unicast_src_ip->family() != *family) {
        diag_.error(base + ".unicast_src_ip", std::string("is ") +
                                                  family_name(v.unicast_src_ip->family()) +
                                                  " but the instance is " + family_name(*family));
    }
    std::set<net::IpAddress> seen;
    for (std::size_t j = 0; j < v.unicast_peers.size(); ++j) {
        const std::string path = item_path(base + ".unicast_peers", j);
        const net::IpAddress& peer = v.unicast_peers[j];
        if (!ok(path)) {
            continue;
        }
        if (family && peer.family() != *family) {
            diag_.error(path, peer.to_string() + " is " + family_name(peer.family()) +
                                  " but the instance is " + family_name(*family));
        } else if (!seen.insert(peer).second) {
            diag_.error(path, peer.to_string() + " is listed twice");
        }
    }
}

void Validator::check_sync_groups() {
    std::vector<std::string_view> instances;
    for (const VrrpInstance& v : config_.vrrp_instances) {
        instances.push_back(v.name);
    }
    std::map<std::string, std::string> names;
    std::map<std::string, std::string> member_of;  // instance -> group path
    for (std::size_t i = 0; i < config_.vrrp_sync_groups.size(); ++i) {
        const VrrpSyncGroup& g = config_.vrrp_sync_groups[i];
        const std::string base = item_path("vrrp_sync_groups", i);
        if (ok(base + ".name") && !names.emplace(g.name, base).second) {
            diag_.error(base + ".name", "duplicate sync group name " + quoted(g.name) + " (also " +
                                            names[g.name] + ")");
        }
        for (std::size_t j = 0; j < g.group.size(); ++j) {
            const std::string& member = g.group[j];
            const std::string path = item_path(base + ".group", j);
            if (!ok(path)) {
                continue;
            }
            if (std::find(instances.begin(), instances.end(), member) == instances.end()) {
                std::string problem = "no vrrp instance named " + quoted(member);
                if (auto hint = detail::closest(member, instances); !hint.empty()) {
                    problem += "; did you mean " + quoted(hint) + "?";
                }
                diag_.error(path, problem);
            } else if (auto [it, added] = member_of.emplace(member, base); !added) {
                diag_.error(path, quoted(member) + " is already in " + it->second +
                                      "; an instance belongs to at most one sync group");
            }
        }
    }
}

void Validator::check_virtual_servers() {
    std::map<std::tuple<net::IpAddress, uint16_t, Protocol>, std::string> services;
    for (std::size_t i = 0; i < config_.virtual_servers.size(); ++i) {
        const VirtualServer& vs = config_.virtual_servers[i];
        const std::string base = item_path("virtual_servers", i);
        check_virtual_server(vs, base);
        check_real_servers(vs, base);
        if (!ok(base + ".address") || !ok(base + ".port") || !ok(base + ".protocol")) {
            continue;
        }
        const auto key = std::tuple{vs.address, vs.port, vs.protocol};
        if (!services.emplace(key, base).second) {
            diag_.error(base + ".address", "virtual server " + vs.address.to_string() + " port " +
                                               std::to_string(vs.port) + " " +
                                               to_string(vs.protocol) + " is already defined by " +
                                               services[key]);
        }
    }
}

void Validator::check_virtual_server(const VirtualServer& vs, const std::string& base) {
    const bool address_ok = ok(base + ".address");
    if (address_ok && !is_usable(vs.address)) {
        diag_.error(base + ".address", vs.address.to_string() + " is not a unicast address");
    }
    const bool persistence_ok = ok(base + ".persistence_timeout");
    if (vs.port == 0 && ok(base + ".port") && persistence_ok && vs.persistence_timeout == 0s) {
        diag_.error(base + ".port",
                    "port 0 (all ports) needs persistence_timeout > 0, as IPVS requires");
    }
    if (vs.persistence_timeout == 0s && persistence_ok && address_ok &&
        ok(base + ".persistence_granularity") &&
        vs.persistence_granularity != vs.address.max_prefix()) {
        diag_.error(base + ".persistence_granularity",
                    "has no effect without persistence_timeout > 0");
    }
    if (vs.hysteresis > 0 && vs.hysteresis >= vs.quorum && ok(base + ".hysteresis") &&
        ok(base + ".quorum")) {
        diag_.error(base + ".hysteresis", std::to_string(vs.hysteresis) +
                                              " must be less than quorum " +
                                              std::to_string(vs.quorum));
    }
    if (!vs.sorry_server) {
        return;
    }
    const std::string sorry = base + ".sorry_server";
    if (address_ok && ok(sorry + ".address") &&
        vs.sorry_server->address.family() != vs.address.family()) {
        diag_.error(sorry + ".address", vs.sorry_server->address.to_string() + " is " +
                                            family_name(vs.sorry_server->address.family()) +
                                            " but the virtual server is " +
                                            family_name(vs.address.family()));
    }
    if (vs.sorry_server->port != 0) {
        check_port_rule(vs, vs.sorry_server->port, base, sorry + ".port", "sorry server");
    }
}

void Validator::check_real_servers(const VirtualServer& vs, const std::string& base) {
    std::map<std::pair<net::IpAddress, uint16_t>, std::string> seen;
    for (std::size_t j = 0; j < vs.real_servers.size(); ++j) {
        const RealServer& rs = vs.real_servers[j];
        const std::string path = item_path(base + ".real_servers", j);
        const bool address_ok = ok(path + ".address");
        if (address_ok && !is_usable(rs.address)) {
            diag_.error(path + ".address", rs.address.to_string() + " is not a unicast address");
        } else if (address_ok && ok(base + ".address") &&
                   rs.address.family() != vs.address.family()) {
            diag_.error(path + ".address",
                        rs.address.to_string() + " is " + family_name(rs.address.family()) +
                            " but the virtual server is " + family_name(vs.address.family()));
        }
        check_port_rule(vs, rs.port, base, path + ".port", "real server");
        if (!address_ok || !ok(path + ".port")) {
            continue;
        }
        if (auto [it, added] = seen.emplace(std::pair{rs.address, rs.port}, path); !added) {
            diag_.error(path + ".address", "real server " + rs.address.to_string() + " port " +
                                               std::to_string(rs.port) + " is already in " +
                                               it->second);
        }
    }
}

// DR rewrites only the MAC and TUN only encapsulates: neither can change the destination
// port. IPVS and keepalived silently force the real server's port to the virtual server's;
// we reject the mismatch instead, so that the file says what actually happens.
void Validator::check_port_rule(const VirtualServer& vs, uint16_t port, const std::string& base,
                                const std::string& path, std::string_view what) {
    if (vs.port == 0 || port == vs.port || !ok(path) || !ok(base + ".port") ||
        !ok(base + ".lb_kind")) {
        return;
    }
    diag_.error(path, std::string(to_string(vs.lb_kind)) + " cannot change the port: " +
                          std::string(what) + " port " + std::to_string(port) +
                          " differs from virtual server port " + std::to_string(vs.port));
}

ConfigErrors fail(const std::string& file, int line, std::string message) {
    return {ConfigError{.file = file, .line = line, .column = 0, .message = std::move(message)}};
}

/** Parses and validates one YAML document; exceptions from yaml-cpp are the caller's. */
std::optional<Config> load_document(const std::vector<YAML::Node>& docs, Diagnostics& diag) {
    if (docs.empty() || docs.front().IsNull()) {
        diag.report(YAML::Mark{}, "", "empty configuration");
        return std::nullopt;
    }
    const YAML::Node& root = docs.front();
    if (docs.size() > 1) {
        diag.report(docs[1].Mark(), "", "a second YAML document: director.yaml holds exactly one");
    }
    if (!root.IsMap()) {
        diag.report(root.Mark(), "",
                    std::string("the top level must be a map of sections (global, ports, "
                                "vrrp_instances, virtual_servers, ...), got ") +
                        detail::describe(root));
        return std::nullopt;
    }
    Config config = Parser(diag).parse(root);
    Validator(config, diag).run();
    if (!diag.empty()) {
        return std::nullopt;
    }
    return config;
}

}  // namespace

std::string ConfigError::to_string() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) {
            out += ":" + std::to_string(column);
        }
    }
    return out + ": " + message;
}

Result<Config, ConfigErrors> load_string(std::string_view text, const std::string& filename) {
    Diagnostics diag(filename);
    try {
        const std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
        if (auto config = load_document(docs, diag)) {
            return std::move(*config);
        }
    } catch (const YAML::Exception& e) {
        // ParserException and friends: yaml-cpp's own message at its (0-based) mark.
        diag.report(e.mark, "", "YAML syntax error: " + e.msg);
    } catch (const std::exception& e) {
        return Unexpected{fail(filename, 0, std::string("internal error: ") + e.what())};
    }
    return Unexpected{diag.take_sorted()};
}

Result<Config, ConfigErrors> load_file(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return Unexpected{fail(path, 0, std::string("cannot open: ") + std::strerror(errno))};
    }
    std::string text;
    char buf[8192];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), file)) > 0;) {
        text.append(buf, n);
    }
    const bool read_error = std::ferror(file) != 0;
    const int saved_errno = errno;
    std::fclose(file);
    if (read_error) {
        return Unexpected{fail(path, 0, std::string("cannot read: ") + std::strerror(saved_errno))};
    }
    return load_string(text, path);
}

std::vector<std::string> warnings(const Config& config) {
    std::vector<std::string> out;
    for (const VrrpInstance& v : config.vrrp_instances) {
        if (v.unicast_src_ip) {
            continue;
        }
        for (std::size_t i = 0; i < config.ports.size(); ++i) {
            const Port& p = config.ports[i];
            if (p.name == v.interface && !p.address) {
                out.push_back("port " + quoted(p.name) + " has no address: VRRP instance " +
                              quoted(v.name) + " needs one as advert source; fill " +
                              item_path("ports", i) + ".address");
            }
        }
    }
    return out;
}

}  // namespace director::config
