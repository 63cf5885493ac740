// SPDX-License-Identifier: BSD-3-Clause
// Hand-written rather than through YAML::Emitter: the output is meant to be read and edited
// by people, so it follows CONFIG.md's layout (block maps, short flow lists, durations with
// units) and quotes only what a YAML reader would otherwise take for something else.
#include "config/emit.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <string_view>

namespace director::config {
namespace {

bool is_reserved_word(const std::string& s) {
    // YAML 1.1 and 1.2 spellings of booleans and null: a plain scalar with one of these texts
    // would not read back as a string in most YAML tools.
    static const char* const kWords[] = {"true", "false", "yes", "no",   "on",
                                         "off",  "y",     "n",   "null", "~"};
    std::string low;
    for (char c : s) {
        low += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    for (const char* w : kWords) {
        if (low == w) {
            return true;
        }
    }
    return false;
}

// True when a YAML 1.1 or 1.2 tool might read the plain scalar as a number: ints (also 0x, 0o,
// 0b), floats, exponents, .inf/.nan and base-60 forms. Errs on the side of quoting. The seed's
// auth_pass 1111 must stay a string; 172.17.13.252 or 127.0.0.1:9100 are plainly not numbers.
bool looks_numeric(const std::string& s) {
    std::string_view t = s;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
        t.remove_prefix(1);
    }
    static constexpr std::string_view kSpecial[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
    for (std::string_view w : kSpecial) {
        if (t == w) {
            return true;
        }
    }
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
        return std::all_of(t.begin() + 2, t.end(),
                           [](unsigned char c) { return std::isxdigit(c) || c == '_'; });
    }
    bool digit = false;
    size_t dots = 0;
    for (char c : t) {
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c == '.') {
            ++dots;
        } else if (c != '_' && c != ':' && c != 'e' && c != 'E' && c != '+' && c != '-') {
            return false;
        }
    }
    return digit && dots <= 1;
}

bool plain_ok(const std::string& s) {
    if (s.empty() || is_reserved_word(s) || looks_numeric(s)) {
        return false;
    }
    // A plain scalar may not start with an indicator (- ? : , [ ] { } # & * ! | > ' " % @ `).
    const char first = s[0];
    const bool first_ok = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
                          (first >= '0' && first <= '9') || first == '/' || first == '_' ||
                          first == '.';
    if (!first_ok) {
        return false;
    }
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '/' ||
                        c == ':' || c == '@' || c == '+' || c == '=';
        if (!ok) {
            return false;
        }
    }
    // "a: b" would start a map; a trailing ':' reads as a key.
    return s.back() != ':';
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof(buf), "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);  // UTF-8 passes through unchanged
                }
        }
    }
    return out + "\"";
}

std::string str(const std::string& s) { return plain_ok(s) ? s : quoted(s); }

// Largest unit that represents the value exactly; the loader reads all three.
std::string duration(Duration d) {
    const auto us = d.count();
    if (us % 1000000 == 0) {
        return std::to_string(us / 1000000) + "s";
    }
    if (us % 1000 == 0) {
        return std::to_string(us / 1000) + "ms";
    }
    return std::to_string(us) + "us";
}

std::string ip(const net::IpAddress& a) { return str(a.to_string()); }

// A full-length prefix is written as the bare address, as people write a VIP.
std::string prefix(const net::Prefix& p) {
    if (p.length == p.address.max_prefix()) {
        return ip(p.address);
    }
    return str(p.to_string());
}

std::string boolean(bool b) { return b ? "true" : "false"; }

std::string status_range(const StatusRange& r) {
    if (r.first == r.last) {
        return std::to_string(r.first);
    }
    return std::to_string(r.first) + "-" + std::to_string(r.last);
}

std::string ipv4_mask(uint8_t len) {
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return net::IpAddress::v4(mask).to_string();
}

template <class T, class F>
std::string flow_list(const std::vector<T>& items, F render) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : ", ") + render(items[i]);
    }
    return out + "]";
}

/** Writes `key: value` lines at an indentation; `- ` items open a map in a sequence. */
class Writer {
public:
    void key(int indent, const std::string& k, const std::string& value) {
        line(indent) << k << ": " << value << "\n";
    }
    void open(int indent, const std::string& k) { line(indent) << k << ":\n"; }
    // The first key of a map that is an item of a block sequence.
    void item(int indent, const std::string& k, const std::string& value) {
        line(indent) << "- " << k << ": " << value << "\n";
    }
    void item_open(int indent, const std::string& k) { line(indent) << "- " << k << ":\n"; }
    void blank() { out_ << "\n"; }
    std::string str() const { return out_.str(); }

private:
    std::ostringstream& line(int indent) {
        out_ << std::string(static_cast<size_t>(indent), ' ');
        return out_;
    }
    std::ostringstream out_;
};

void opt_key(Writer& w, int indent, const std::string& k, const std::optional<std::string>& v) {
    if (v) {
        w.key(indent, k, str(*v));
    }
}

void emit_global(Writer& w, const Config& c) {
    w.open(0, "global");
    w.key(2, "router_id", str(c.global.router_id));
    w.key(2, "control_socket", str(c.global.control_socket));
    w.key(2, "metrics_listen", str(c.global.metrics_listen));
    w.key(2, "log_level", to_string(c.global.log_level));
    opt_key(w, 2, "notify", c.global.notify);
    w.blank();

    w.open(0, "dpdk");
    w.key(2, "lcores",
          "{ control: " + std::to_string(c.dpdk.control_lcore) + ", workers: " +
              flow_list(c.dpdk.worker_lcores, [](uint32_t v) { return std::to_string(v); }) + " }");
    w.key(2, "hugepages", boolean(c.dpdk.hugepages));
    w.key(2, "memory_mb", std::to_string(c.dpdk.memory_mb));
    w.key(2, "file_prefix", str(c.dpdk.file_prefix));
    w.key(2, "idle_sleep_us", std::to_string(c.dpdk.idle_sleep_us));
    w.key(2, "eal_args", flow_list(c.dpdk.eal_args, str));
    w.blank();

    w.open(0, "tables");
    w.key(2, "connections", std::to_string(c.tables.connections));
    w.key(2, "persistence", std::to_string(c.tables.persistence));
    w.open(0, "timeouts");
    w.key(2, "tcp", duration(c.timeouts.tcp));
    w.key(2, "tcp_fin", duration(c.timeouts.tcp_fin));
    w.key(2, "tcp_syn", duration(c.timeouts.tcp_syn));
    w.key(2, "udp", duration(c.timeouts.udp));
    w.open(0, "forwarding");
    w.key(2, "sloppy_tcp", boolean(c.forwarding.sloppy_tcp));
    w.key(2, "expire_nodest_conn", boolean(c.forwarding.expire_nodest_conn));
    w.key(2, "expire_quiescent_template", boolean(c.forwarding.expire_quiescent_template));
    w.blank();
}

void emit_ports(Writer& w, const Config& c) {
    if (c.ports.empty()) {
        w.key(0, "ports", "[]");
        w.blank();
        return;
    }
    w.open(0, "ports");
    for (const Port& p : c.ports) {
        w.item(2, "name", str(p.name));
        w.key(4, "device", quoted(p.device));
        w.key(4, "profile", str(p.profile));
        if (p.address) {
            w.key(4, "address", str(p.address->to_string()));
        }
        if (p.gateway) {
            w.key(4, "gateway", ip(*p.gateway));
        }
        w.key(4, "exception_tap", str(p.exception_tap));
    }
    w.blank();
}

std::string virtual_ip(const VirtualIp& v) {
    if (v.dev.empty() && v.label.empty()) {
        return prefix(v.address);
    }
    std::string out = "{ address: " + prefix(v.address);
    if (!v.dev.empty()) {
        out += ", dev: " + str(v.dev);
    }
    if (!v.label.empty()) {
        out += ", label: " + str(v.label);
    }
    return out + " }";
}

void emit_vrrp(Writer& w, const Config& c) {
    if (c.vrrp_instances.empty()) {
        w.key(0, "vrrp_instances", "[]");
    } else {
        w.open(0, "vrrp_instances");
    }
    for (const VrrpInstance& v : c.vrrp_instances) {
        w.item(2, "name", str(v.name));
        w.key(4, "interface", str(v.interface));
        w.key(4, "state", to_string(v.state));
        w.key(4, "virtual_router_id", std::to_string(v.virtual_router_id));
        w.key(4, "priority", std::to_string(v.priority));
        w.key(4, "advert_int", duration(v.advert_int));
        w.key(4, "version", std::to_string(v.version));
        w.key(4, "preempt", boolean(v.preempt));
        w.key(4, "preempt_delay", duration(v.preempt_delay));
        if (v.authentication) {
            w.key(4, "authentication",
                  std::string("{ type: ") + to_string(v.authentication->type) +
                      ", pass: " + quoted(v.authentication->pass) + " }");
        }
        w.key(4, "virtual_ipaddress", flow_list(v.virtual_ipaddress, virtual_ip));
        if (v.unicast_src_ip) {
            w.key(4, "unicast_src_ip", ip(*v.unicast_src_ip));
        }
        w.key(4, "unicast_peers", flow_list(v.unicast_peers, ip));
        w.key(4, "garp_master_delay", duration(v.garp_master_delay));
        w.key(4, "garp_master_repeat", std::to_string(v.garp_master_repeat));
        w.key(4, "garp_master_refresh", duration(v.garp_master_refresh));
        w.key(4, "track_ports", flow_list(v.track_ports, str));
        w.key(4, "v3_checksum_as_v2", boolean(v.v3_checksum_as_v2));
        opt_key(w, 4, "notify_master", v.notify_master);
        opt_key(w, 4, "notify_backup", v.notify_backup);
        opt_key(w, 4, "notify_fault", v.notify_fault);
        opt_key(w, 4, "notify_stop", v.notify_stop);
        opt_key(w, 4, "notify", v.notify);
    }
    w.blank();
    if (c.vrrp_sync_groups.empty()) {
        w.key(0, "vrrp_sync_groups", "[]");
    } else {
        w.open(0, "vrrp_sync_groups");
    }
    for (const VrrpSyncGroup& g : c.vrrp_sync_groups) {
        w.item(2, "name", str(g.name));
        w.key(4, "group", flow_list(g.group, str));
        opt_key(w, 4, "notify_master", g.notify_master);
        opt_key(w, 4, "notify_backup", g.notify_backup);
        opt_key(w, 4, "notify_fault", g.notify_fault);
        opt_key(w, 4, "notify", g.notify);
    }
    w.blank();
}

void emit_url(Writer& w, int indent, const HttpUrl& u, bool as_item) {
    if (as_item) {
        w.item(indent, "path", str(u.path));
        indent += 2;
    } else {
        w.key(indent, "path", str(u.path));
    }
    if (u.status_code.size() == 1) {
        w.key(indent, "status_code", status_range(u.status_code[0]));
    } else {
        w.key(indent, "status_code", flow_list(u.status_code, status_range));
    }
    if (!u.digest.empty()) {
        w.key(indent, "digest", str(u.digest));
    }
    if (!u.virtualhost.empty()) {
        w.key(indent, "virtualhost", str(u.virtualhost));
    }
}

// Only the keys that apply to the check's type: the loader rejects the others.
void emit_check(Writer& w, int indent, const Check& k, bool as_item) {
    if (as_item) {
        w.item(indent, "type", to_string(k.type));
        indent += 2;
    } else {
        w.key(indent, "type", to_string(k.type));
    }
    const bool misc = k.type == CheckType::Misc;
    const bool http = k.type == CheckType::HttpGet || k.type == CheckType::SslGet;
    if (http) {
        if (k.url.size() == 1) {
            w.open(indent, "url");
            emit_url(w, indent + 2, k.url[0], false);
        } else {
            w.open(indent, "url");
            for (const HttpUrl& u : k.url) {
                emit_url(w, indent + 2, u, true);
            }
        }
        if (!k.virtualhost.empty()) {
            w.key(indent, "virtualhost", str(k.virtualhost));
        }
        if (k.type == CheckType::SslGet) {
            w.key(indent, "enable_sni", boolean(k.enable_sni));
        }
    }
    if (misc) {
        w.key(indent, "misc_path", str(k.misc_path));
        if (k.misc_timeout) {
            w.key(indent, "misc_timeout", duration(*k.misc_timeout));
        }
        w.key(indent, "misc_dynamic", boolean(k.misc_dynamic));
    }
    if (k.type == CheckType::Udp) {
        if (!k.payload.empty()) {
            w.key(indent, "payload", str(k.payload));
        }
        if (k.require_reply) {
            w.key(indent, "require_reply", quoted(*k.require_reply));
        }
        w.key(indent, "min_reply_length", std::to_string(k.min_reply_length));
        w.key(indent, "max_reply_length", std::to_string(k.max_reply_length));
    }
    if (!misc) {
        w.key(indent, "connect_timeout", duration(k.connect_timeout));
    }
    w.key(indent, "retry", std::to_string(k.retry));
    w.key(indent, "delay_before_retry", duration(k.delay_before_retry));
    if (k.delay_loop) {
        w.key(indent, "delay_loop", duration(*k.delay_loop));
    }
    if (!misc) {
        if (k.connect_ip) {
            w.key(indent, "connect_ip", ip(*k.connect_ip));
        }
        if (k.connect_port) {
            w.key(indent, "connect_port", std::to_string(*k.connect_port));
        }
        if (k.bindto) {
            w.key(indent, "bindto", ip(*k.bindto));
        }
        if (k.bind_port) {
            w.key(indent, "bind_port", std::to_string(*k.bind_port));
        }
    }
}

void emit_real_server(Writer& w, const RealServer& r) {
    w.item(6, "address", ip(r.address));
    w.key(8, "port", std::to_string(r.port));
    w.key(8, "weight", std::to_string(r.weight));
    if (r.mac) {
        w.key(8, "mac", str(r.mac->to_string()));
    }
    if (r.inhibit_on_failure) {
        w.key(8, "inhibit_on_failure", boolean(*r.inhibit_on_failure));
    }
    opt_key(w, 8, "notify_up", r.notify_up);
    opt_key(w, 8, "notify_down", r.notify_down);
    if (r.checks.size() == 1) {
        w.open(8, "check");
        emit_check(w, 10, r.checks[0], false);
    } else if (!r.checks.empty()) {
        w.open(8, "check");
        for (const Check& k : r.checks) {
            emit_check(w, 10, k, true);
        }
    }
}

void emit_virtual_servers(Writer& w, const Config& c) {
    if (c.virtual_servers.empty()) {
        w.key(0, "virtual_servers", "[]");
        return;
    }
    w.open(0, "virtual_servers");
    for (const VirtualServer& v : c.virtual_servers) {
        w.item(2, "address", ip(v.address));
        w.key(4, "port", std::to_string(v.port));
        w.key(4, "protocol", to_string(v.protocol));
        w.key(4, "lb_algo", to_string(v.lb_algo));
        w.key(4, "lb_kind", to_string(v.lb_kind));
        w.key(4, "delay_loop", duration(v.delay_loop));
        w.key(4, "persistence_timeout", duration(v.persistence_timeout));
        w.key(4, "persistence_granularity",
              v.address.is_v4() ? ipv4_mask(v.persistence_granularity)
                                : std::to_string(v.persistence_granularity));
        w.key(4, "quorum", std::to_string(v.quorum));
        w.key(4, "hysteresis", std::to_string(v.hysteresis));
        opt_key(w, 4, "quorum_up", v.quorum_up);
        opt_key(w, 4, "quorum_down", v.quorum_down);
        if (v.sorry_server) {
            w.key(4, "sorry_server",
                  "{ address: " + ip(v.sorry_server->address) +
                      ", port: " + std::to_string(v.sorry_server->port) + " }");
        }
        w.key(4, "inhibit_on_failure", boolean(v.inhibit_on_failure));
        w.key(4, "alpha", boolean(v.alpha));
        if (v.real_servers.empty()) {
            w.key(4, "real_servers", "[]");
            continue;
        }
        w.open(4, "real_servers");
        for (const RealServer& r : v.real_servers) {
            emit_real_server(w, r);
        }
    }
}

}  // namespace

std::string to_yaml(const Config& config) {
    Writer w;
    emit_global(w, config);
    emit_ports(w, config);
    emit_vrrp(w, config);
    emit_virtual_servers(w, config);
    return w.str();
}

}  // namespace director::config
