// SPDX-License-Identifier: BSD-3-Clause
// The typed, immutable form of director.yaml (shared/CONFIG.md). The loader (load.h) builds it
// from YAML and validates it completely; the keepalived.conf importer (keepalived.h) builds it
// from keepalived's syntax; the emitter (emit.h) writes it back as YAML. Every default is a
// named constant below, so the YAML loader and the importer cannot drift apart silently.
//
// Every struct compares with ==, which is what "means the same" is: two files that load to
// equal Configs configure the same director.
//
// Caller: control lcore (or any single thread before EAL starts). Never read by workers: the
// datapath sees only lb::Snapshot, which the control plane derives from this.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/addr.h"

namespace director::config {

/** All durations in the configuration, microsecond resolution (keepalived's timer unit). */
using Duration = std::chrono::microseconds;

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- defaults: keepalived's where keepalived has the notion, IPVS's for timeouts ----------
inline constexpr Duration kDefaultTcpTimeout = seconds(900);
inline constexpr Duration kDefaultTcpFinTimeout = seconds(120);
inline constexpr Duration kDefaultTcpSynTimeout = seconds(60);
inline constexpr Duration kDefaultUdpTimeout = seconds(300);
inline constexpr uint32_t kDefaultConnections = 1u << 20;
inline constexpr uint32_t kDefaultPersistence = 1u << 18;
inline constexpr uint32_t kDefaultMemoryMb = 512;
inline constexpr uint8_t kDefaultPriority = 100;
inline constexpr Duration kDefaultAdvertInt = seconds(1);
inline constexpr Duration kDefaultGarpMasterDelay = seconds(5);
inline constexpr uint32_t kDefaultGarpMasterRepeat = 5;
inline constexpr Duration kDefaultDelayLoop = seconds(60);
inline constexpr Duration kDefaultConnectTimeout = seconds(5);
inline constexpr uint32_t kDefaultRetry = 1;
inline constexpr uint32_t kDefaultMiscRetry = 0;
inline constexpr Duration kDefaultDelayBeforeRetry = seconds(1);
inline constexpr Duration kDefaultHttpDelayBeforeRetry = seconds(3);
inline constexpr Duration kDefaultPersistenceWithoutValue = seconds(360);  // keepalived
inline constexpr uint32_t kDefaultWeight = 1;
inline constexpr uint32_t kDefaultQuorum = 1;
inline constexpr uint32_t kMaxWeight = 65535;
inline constexpr uint32_t kMaxUdpReplyLength = 255;

enum class LogLevel : uint8_t { Error, Warn, Info, Debug };

struct Global {
    std::string router_id;
    std::string control_socket = "/run/director/director.sock";
    std::string metrics_listen = "127.0.0.1:9100";  ///< "" disables /metrics
    LogLevel log_level = LogLevel::Info;
    std::optional<std::string> notify;  ///< script run on VRRP / real-server state changes

    friend bool operator==(const Global&, const Global&) = default;
};

struct Dpdk {
    uint32_t control_lcore = 0;
    std::vector<uint32_t> worker_lcores{1};
    bool hugepages = true;
    uint32_t memory_mb = kDefaultMemoryMb;
    std::string file_prefix = "director";
    uint32_t idle_sleep_us = 0;  ///< worker back-off after empty polls; 0 = pure polling
    std::vector<std::string> eal_args;

    friend bool operator==(const Dpdk&, const Dpdk&) = default;
};

/** Per-worker table sizes; init-only (a reload cannot change them). */
struct Tables {
    uint32_t connections = kDefaultConnections;
    uint32_t persistence = kDefaultPersistence;

    friend bool operator==(const Tables&, const Tables&) = default;
};

/** Connection timeouts, as `ipvsadm --set tcp tcpfin udp` plus the SYN_RECV timeout. */
struct Timeouts {
    Duration tcp = kDefaultTcpTimeout;
    Duration tcp_fin = kDefaultTcpFinTimeout;
    Duration tcp_syn = kDefaultTcpSynTimeout;
    Duration udp = kDefaultUdpTimeout;

    friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

/** IPVS sysctl equivalents that change forwarding decisions (keepalived.md §3.5). */
struct Forwarding {
    /// Schedule TCP packets without SYN that have no connection entry (after a failover) by
    /// consistent hashing; false = IPVS's strict behaviour (drop). IPVS: sloppy_tcp.
    bool sloppy_tcp = true;
    /// A real server that fails or is removed loses its connections to rescheduling; false =
    /// its packets are dropped until the entry times out (IPVS default expire_nodest_conn=0).
    bool expire_nodest_conn = true;
    /// Persistence entries pointing at a weight-0 real server are invalidated on use.
    bool expire_quiescent_template = false;

    friend bool operator==(const Forwarding&, const Forwarding&) = default;
};

struct Port {
    std::string name;
    std::string device;                  ///< PCI address or vdev string
    std::string profile = "auto";        ///< drivers-conf/<profile>.yaml
    std::optional<net::Prefix> address;  ///< the director's own address on this segment
    std::optional<net::IpAddress> gateway;
    std::string exception_tap;  ///< kernel TAP for host traffic; "" disables

    friend bool operator==(const Port&, const Port&) = default;
};

enum class VrrpState : uint8_t { Master, Backup };
enum class AuthType : uint8_t { Pass, Ah };

struct Authentication {
    AuthType type = AuthType::Pass;
    std::string pass;  ///< keepalived uses the first 8 bytes

    friend bool operator==(const Authentication&, const Authentication&) = default;
};

/** One virtual_ipaddress entry: `ADDR[/LEN]`, optionally on another port, with a label. */
struct VirtualIp {
    net::Prefix address;
    std::string dev;    ///< port name; "" = the instance's interface
    std::string label;  ///< keepalived's `label` (informational)

    friend bool operator==(const VirtualIp&, const VirtualIp&) = default;
};

struct VrrpInstance {
    std::string name;
    std::string interface;  ///< a ports[].name
    VrrpState state = VrrpState::Backup;
    uint8_t virtual_router_id = 0;
    uint8_t priority = kDefaultPriority;
    Duration advert_int = kDefaultAdvertInt;
    uint8_t version = 2;
    bool preempt = true;
    Duration preempt_delay{0};
    std::optional<Authentication> authentication;
    std::vector<VirtualIp> virtual_ipaddress;
    std::optional<net::IpAddress> unicast_src_ip;
    std::vector<net::IpAddress> unicast_peers;
    Duration garp_master_delay = kDefaultGarpMasterDelay;
    uint32_t garp_master_repeat = kDefaultGarpMasterRepeat;
    Duration garp_master_refresh{0};
    std::vector<std::string> track_ports;
    bool v3_checksum_as_v2 = false;
    std::optional<std::string> notify_master;
    std::optional<std::string> notify_backup;
    std::optional<std::string> notify_fault;
    std::optional<std::string> notify_stop;
    std::optional<std::string> notify;  ///< called with INSTANCE NAME STATE PRIORITY

    friend bool operator==(const VrrpInstance&, const VrrpInstance&) = default;
};

struct VrrpSyncGroup {
    std::string name;
    std::vector<std::string> group;  ///< vrrp_instances[].name
    std::optional<std::string> notify_master;
    std::optional<std::string> notify_backup;
    std::optional<std::string> notify_fault;
    std::optional<std::string> notify;

    friend bool operator==(const VrrpSyncGroup&, const VrrpSyncGroup&) = default;
};

enum class Protocol : uint8_t { Tcp, Udp };
enum class LbAlgo : uint8_t { Rr, Wrr, Lc, Wlc, Sed, Nq, Sh, Dh, Mh };
enum class LbKind : uint8_t { Dr, Tun };
enum class CheckType : uint8_t { Tcp, HttpGet, SslGet, Misc, Udp };

/** An inclusive range of HTTP status codes; a single code has first == last. */
struct StatusRange {
    uint16_t first = 200;
    uint16_t last = 299;

    friend bool operator==(const StatusRange&, const StatusRange&) = default;
};

struct HttpUrl {
    std::string path = "/";
    std::vector<StatusRange> status_code{StatusRange{}};  ///< keepalived default 200-299
    std::string digest;       ///< MD5 of the body, lowercase hex; "" = not checked
    std::string virtualhost;  ///< Host header for this url; "" = the check's

    friend bool operator==(const HttpUrl&, const HttpUrl&) = default;
};

/**
 * One health check. Fields that apply to one type only are ignored by the others; the loader
 * rejects them where they do not apply so that a misplaced key is never silently dropped.
 */
struct Check {
    CheckType type = CheckType::Tcp;
    Duration connect_timeout = kDefaultConnectTimeout;
    uint32_t retry = kDefaultRetry;
    Duration delay_before_retry = kDefaultDelayBeforeRetry;
    std::optional<Duration> delay_loop;  ///< overrides the virtual server's
    std::optional<net::IpAddress> connect_ip;
    std::optional<uint16_t> connect_port;  ///< default: the real server's port
    std::optional<net::IpAddress> bindto;
    std::optional<uint16_t> bind_port;
    // HTTP_GET / SSL_GET
    std::vector<HttpUrl> url;
    std::string virtualhost;
    bool enable_sni = false;
    // MISC_CHECK
    std::string misc_path;
    std::optional<Duration> misc_timeout;  ///< default: delay_loop
    bool misc_dynamic = false;
    // UDP_CHECK
    std::string payload;                ///< hex; "" = a random payload
    std::optional<std::string> require_reply;  ///< hex prefix of the expected reply ("" = any)
    uint32_t min_reply_length = 0;
    uint32_t max_reply_length = kMaxUdpReplyLength;

    friend bool operator==(const Check&, const Check&) = default;
};

struct RealServer {
    net::IpAddress address;
    uint16_t port = 0;
    uint32_t weight = kDefaultWeight;  ///< 0..65535; 0 = drain (no new connections)
    std::optional<net::MacAddress> mac;  ///< static neighbour: no ARP for this server
    std::optional<bool> inhibit_on_failure;  ///< overrides the virtual server's
    std::optional<std::string> notify_up;
    std::optional<std::string> notify_down;
    std::vector<Check> checks;  ///< all must pass for the server to be up (keepalived)

    friend bool operator==(const RealServer&, const RealServer&) = default;
};

struct SorryServer {
    net::IpAddress address;
    uint16_t port = 0;

    friend bool operator==(const SorryServer&, const SorryServer&) = default;
};

struct VirtualServer {
    net::IpAddress address;
    uint16_t port = 0;  ///< 0 = all ports (requires persistence)
    Protocol protocol = Protocol::Tcp;
    LbAlgo lb_algo = LbAlgo::Wlc;  ///< ipvsadm's and keepalived's default
    LbKind lb_kind = LbKind::Dr;
    Duration delay_loop = kDefaultDelayLoop;
    Duration persistence_timeout{0};  ///< 0 = no persistence
    uint8_t persistence_granularity = 32;  ///< prefix length (dotted mask in YAML for IPv4)
    uint32_t quorum = kDefaultQuorum;
    uint32_t hysteresis = 0;
    std::optional<std::string> quorum_up;
    std::optional<std::string> quorum_down;
    std::optional<SorryServer> sorry_server;
    bool inhibit_on_failure = false;
    bool alpha = false;  ///< real servers start down until their first successful check
    std::vector<RealServer> real_servers;

    friend bool operator==(const VirtualServer&, const VirtualServer&) = default;
};

struct Config {
    Global global;
    Dpdk dpdk;
    Tables tables;
    Timeouts timeouts;
    Forwarding forwarding;
    std::vector<Port> ports;
    std::vector<VrrpInstance> vrrp_instances;
    std::vector<VrrpSyncGroup> vrrp_sync_groups;
    std::vector<VirtualServer> virtual_servers;

    friend bool operator==(const Config&, const Config&) = default;
};

// ---- names as they appear in YAML and keepalived.conf ------------------------------------
const char* to_string(LogLevel v) noexcept;
const char* to_string(VrrpState v) noexcept;
const char* to_string(AuthType v) noexcept;
const char* to_string(Protocol v) noexcept;
const char* to_string(LbAlgo v) noexcept;
const char* to_string(LbKind v) noexcept;
const char* to_string(CheckType v) noexcept;

}  // namespace director::config
