// SPDX-License-Identifier: BSD-3-Clause
// Tests of the keepalived.conf importer: the lexer (lib/config/keepalived_lexer.cc) on its own,
// the mapping of every supported keyword, keepalived's defaults, the reporting of what cannot
// be mapped (with file and line), the seed's own keepalived.conf against config/ds1.yaml, and
// realistic fixtures (test/fixtures/keepalived/) that must survive import -> YAML -> load.
#include "config/keepalived.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/detail/keepalived_lexer.h"
#include "config/emit.h"
#include "config/load.h"

namespace director::config {
namespace {

using namespace std::chrono_literals;
using detail::KaNode;
using detail::KaTree;

const std::string kRoot = DIRECTOR_SOURCE_ROOT;
const std::string kFixtures = kRoot + "/test/fixtures/keepalived";

/** Raw strings start with a newline for readability; line 1 is the line after it. */
std::string text(std::string_view t) {
    if (!t.empty() && t.front() == '\n') {
        t.remove_prefix(1);
    }
    return std::string(t);
}

KaTree lex(std::string_view t) { return detail::parse_keepalived_text(text(t), "t.conf"); }

ImportResult import(std::string_view t) {
    return detail::import_keepalived_text(text(t), "t.conf");
}

std::string join(const std::vector<ImportIssue>& issues) {
    std::string out;
    for (const ImportIssue& i : issues) {
        out += i.to_string() + "\n";
    }
    return out;
}

std::string join(const std::vector<std::string>& notes) {
    std::string out;
    for (const std::string& n : notes) {
        out += n + "\n";
    }
    return out;
}

bool has_note(const ImportResult& r, std::string_view part) {
    for (const std::string& n : r.notes) {
        if (n.find(part) != std::string::npos) {
            return true;
        }
    }
    return false;
}

/** The import must be clean: no fatal error and nothing unsupported. */
Config import_ok(std::string_view t) {
    ImportResult r = import(t);
    EXPECT_TRUE(r.errors.empty()) << join(r.errors);
    EXPECT_TRUE(r.unsupported.empty()) << join(r.unsupported);
    return r.config;
}

net::IpAddress ip(std::string_view t) { return *net::IpAddress::parse(t); }
net::Prefix prefix(std::string_view t) { return *net::Prefix::parse(t); }

/** One VRRP instance wrapped around `body`, for keyword tests. */
std::string instance(std::string_view body) {
    return "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 7\n"
           "    virtual_ipaddress {\n        192.0.2.1\n    }\n" +
           std::string(body) + "}\n";
}

/** One DR virtual server with one real server, for keyword tests. */
std::string vs(std::string_view vs_body, std::string_view rs_body = "") {
    return "virtual_server 192.0.2.1 80 {\n    lb_kind DR\n    protocol TCP\n" +
           std::string(vs_body) + "    real_server 10.0.0.1 80 {\n" + std::string(rs_body) +
           "    }\n}\n";
}

/** A scratch directory with files, removed at the end of the test. */
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ka_test.XXXXXX").string();
        path_ = mkdtemp(tmpl.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string write(const std::string& rel, std::string_view body) const {
        const std::filesystem::path p = std::filesystem::path(path_) / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text(body);
        return p.string();
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// ---- lexer ----------------------------------------------------------------------------------

TEST(KeepalivedLexer, HashAndBangStartCommentsAnywhereOnALine) {
    const KaTree t = lex(R"(
! a whole-line comment
# another
router_id LVS_1   # trailing
priority 100! glued trailing
)");
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    ASSERT_EQ(t.nodes.size(), 2u);
    EXPECT_EQ(t.nodes[0].keyword, "router_id");
    EXPECT_EQ(t.nodes[0].args, std::vector<std::string>{"LVS_1"});
    EXPECT_EQ(t.nodes[1].args, std::vector<std::string>{"100"});
}

TEST(KeepalivedLexer, CommentCharactersInsideQuotesAreKept) {
    const KaTree t = lex(R"(
notify_master "/bin/notify.sh # not a comment ! either"   # but this is
notify_backup '/bin/x.sh {b} "in"'
)");
    ASSERT_EQ(t.nodes.size(), 2u);
    EXPECT_EQ(t.nodes[0].args, std::vector<std::string>{"/bin/notify.sh # not a comment ! either"});
    EXPECT_EQ(t.nodes[1].args, std::vector<std::string>{"/bin/x.sh {b} \"in\""});
}

TEST(KeepalivedLexer, BackslashEscapesCommentCharactersOutsideQuotes) {
    const KaTree t = lex("auth_pass pa\\#ss\\!\n");
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_EQ(t.nodes[0].args, std::vector<std::string>{"pa#ss!"});
}

TEST(KeepalivedLexer, QuotedStringsDecodeEscapes) {
    const KaTree t = lex(R"(x "a\tb\x41\101\"q\"\\" 'it''s')");
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_EQ(t.nodes[0].args, (std::vector<std::string>{"a\tbAA\"q\"\\", "its"}));
}

TEST(KeepalivedLexer, Utf8CommentsAndTabsAreHarmless) {
    const KaTree t =
        lex("vrrp_instance VI_1 {\n"
            "\tstate MASTER            # 两个 DS,一个为 MASTER 一个为 BACKUP\n"
            "\t interface enp1s0\t\t# 当前 IP 对应的网络接口\n"
            "}\n");
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    ASSERT_EQ(t.nodes.size(), 1u);
    ASSERT_EQ(t.nodes[0].children.size(), 2u);
    EXPECT_EQ(t.nodes[0].children[0].args, std::vector<std::string>{"MASTER"});
    EXPECT_EQ(t.nodes[0].children[1].args, std::vector<std::string>{"enp1s0"});
}

TEST(KeepalivedLexer, BraceMayOpenOnTheNextLine) {
    const KaTree t = lex(R"(
virtual_ipaddress
{
    192.0.2.1
}
)");
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_TRUE(t.nodes[0].has_block);
    ASSERT_EQ(t.nodes[0].children.size(), 1u);
    EXPECT_EQ(t.nodes[0].children[0].keyword, "192.0.2.1");
}

TEST(KeepalivedLexer, BracesGluedToWordsAreTokens) {
    const KaTree t = lex(R"(
real_server 10.0.0.1 80{
    weight 1}
group { VI_1 VI_2 }
)");
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    ASSERT_EQ(t.nodes.size(), 2u);
    EXPECT_EQ(t.nodes[0].args, (std::vector<std::string>{"10.0.0.1", "80"}));
    ASSERT_EQ(t.nodes[0].children.size(), 1u);
    EXPECT_EQ(t.nodes[0].children[0].args, std::vector<std::string>{"1"});
    ASSERT_EQ(t.nodes[1].children.size(), 1u);
    EXPECT_EQ(t.nodes[1].children[0].keyword, "VI_1");
    EXPECT_EQ(t.nodes[1].children[0].args, std::vector<std::string>{"VI_2"});
}

TEST(KeepalivedLexer, EmptyBlockIsABlock) {
    const KaTree t = lex("TCP_CHECK {\n}\n");
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_TRUE(t.nodes[0].has_block);
    EXPECT_TRUE(t.nodes[0].children.empty());
}

TEST(KeepalivedLexer, TrailingBackslashJoinsLines) {
    const KaTree t = lex("lvs_timeouts tcp 7200 \\\n    tcpfin 60\nnext 1\n");
    ASSERT_EQ(t.nodes.size(), 2u);
    EXPECT_EQ(t.nodes[0].args, (std::vector<std::string>{"tcp", "7200", "tcpfin", "60"}));
    EXPECT_EQ(t.nodes[1].keyword, "next");
    EXPECT_EQ(t.nodes[1].line, 3);  // line numbers count physical lines
}

TEST(KeepalivedLexer, ContinuationInsideQuotes) {
    const KaTree t = lex("misc_path \"/bin/check.sh \\\n--deep\"\n");
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_EQ(t.nodes[0].args, std::vector<std::string>{"/bin/check.sh --deep"});
}

TEST(KeepalivedLexer, EveryStatementKeepsFileAndLine) {
    const KaTree t = lex(R"(
global_defs {

    router_id X
}
)");
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_EQ(t.nodes[0].file, "t.conf");
    EXPECT_EQ(t.nodes[0].line, 1);
    EXPECT_EQ(t.nodes[0].children[0].line, 3);
}

TEST(KeepalivedLexer, UnclosedBlockIsFatalAtItsKeyword) {
    const KaTree t = lex(R"(
global_defs {
    router_id X
vrrp_instance VI_1 {
}
)");
    ASSERT_EQ(t.errors.size(), 1u);
    EXPECT_EQ(t.errors[0].line, 1);
    EXPECT_NE(t.errors[0].message.find("never closed"), std::string::npos) << t.errors[0].message;
    EXPECT_TRUE(t.nodes.empty());
}

TEST(KeepalivedLexer, StrayClosingBraceIsFatal) {
    const KaTree t = lex("a 1\n}\n");
    ASSERT_EQ(t.errors.size(), 1u);
    EXPECT_EQ(t.errors[0].to_string(), "t.conf:2: unbalanced '}': no block is open");
}

TEST(KeepalivedLexer, OpeningBraceWithoutKeywordIsFatal) {
    const KaTree t = lex("{\n}\n");
    ASSERT_EQ(t.errors.size(), 1u);
    EXPECT_EQ(t.errors[0].line, 1);
}

TEST(KeepalivedLexer, UnterminatedQuoteIsFatal) {
    const KaTree t = lex("notify \"/bin/x.sh\nnext 1\n");
    ASSERT_EQ(t.errors.size(), 1u);
    EXPECT_EQ(t.errors[0].line, 1);
}

TEST(KeepalivedLexer, ConditionalsAndParametersAreReportedNotExpanded) {
    const KaTree t = lex(R"(
$IF=eth0
@lb1 router_id LB1
~SEQ(i, 1, 1, 3)
router_id X
)");
    ASSERT_TRUE(t.errors.empty());
    ASSERT_EQ(t.nodes.size(), 1u);
    ASSERT_EQ(t.unsupported.size(), 3u) << join(t.unsupported);
    EXPECT_EQ(t.unsupported[0].to_string(), "t.conf:1: unsupported keyword '$IF=eth0'");
    EXPECT_EQ(t.unsupported[1].line, 2);
    EXPECT_EQ(t.unsupported[2].line, 3);
}

TEST(KeepalivedLexer, IncludeGlobsResolveAgainstTheIncludingFile) {
    TempDir d;
    const std::string main = d.write("main.conf", R"(
include conf.d/*.conf
include extra/{b,a}.conf
)");
    d.write("conf.d/10-first.conf", "first 1\ninclude ../nested/n.conf\n");
    d.write("conf.d/20-second.conf", "second 2\n");
    d.write("nested/n.conf", "nested 3\n");
    d.write("extra/a.conf", "a 4\n");
    d.write("extra/b.conf", "b 5\n");
    const KaTree t = detail::parse_keepalived_file(main);
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    std::vector<std::string> order;
    for (const KaNode& n : t.nodes) {
        order.push_back(n.keyword);
    }
    // Sorted within a glob, braces in their written order (glob(3) with GLOB_BRACE).
    EXPECT_EQ(order, (std::vector<std::string>{"first", "nested", "second", "b", "a"}));
    EXPECT_EQ(t.nodes[1].file, d.path() + "/conf.d/../nested/n.conf");
    EXPECT_EQ(t.nodes[1].line, 1);
}

TEST(KeepalivedLexer, IncludeWorksInsideABlock) {
    TempDir d;
    const std::string main = d.write("main.conf", R"(
virtual_ipaddress {
    include vips.txt
}
)");
    d.write("vips.txt", "192.0.2.1\n192.0.2.2\n");
    const KaTree t = detail::parse_keepalived_file(main);
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    ASSERT_EQ(t.nodes.size(), 1u);
    EXPECT_EQ(t.nodes[0].children.size(), 2u);
}

TEST(KeepalivedLexer, IncludeMatchingNothingIsIgnored) {
    TempDir d;
    const std::string main = d.write("main.conf", "include missing.conf\nrouter_id X\n");
    const KaTree t = detail::parse_keepalived_file(main);
    ASSERT_TRUE(t.errors.empty()) << join(t.errors);
    EXPECT_EQ(t.nodes.size(), 1u);
    ASSERT_EQ(t.notes.size(), 1u);
    EXPECT_NE(t.notes[0].find("missing.conf"), std::string::npos);
}

TEST(KeepalivedLexer, IncludeCycleIsFatal) {
    TempDir d;
    const std::string a = d.write("a.conf", "x 1\ninclude b.conf\n");
    const std::string b = d.write("b.conf", "y 2\n\ninclude a.conf\n");
    const KaTree t = detail::parse_keepalived_file(a);
    ASSERT_EQ(t.errors.size(), 1u);
    EXPECT_EQ(t.errors[0].file, d.path() + "/b.conf");
    EXPECT_EQ(t.errors[0].line, 3);
    EXPECT_NE(t.errors[0].message.find("include cycle"), std::string::npos);
}

TEST(KeepalivedLexer, SelfIncludeIsFatal) {
    TempDir d;
    const std::string a = d.write("a.conf", "include *.conf\n");
    EXPECT_EQ(detail::parse_keepalived_file(a).errors.size(), 1u);
}

TEST(KeepalivedLexer, UnreadableTopLevelFileIsFatal) {
    const KaTree t = detail::parse_keepalived_file("/nonexistent/keepalived.conf");
    ASSERT_EQ(t.errors.size(), 1u);
    EXPECT_EQ(t.errors[0].line, 0);
    EXPECT_NE(t.errors[0].to_string().find("/nonexistent/keepalived.conf: cannot read"),
              std::string::npos);
}

// ---- the seed -------------------------------------------------------------------------------

// The seed's keepalived.conf and config/ds1.yaml describe the same director; ds1.yaml adds what
// keepalived cannot say (the NIC, the director's own address, sockets, DPDK, tables).
TEST(KeepalivedImport, SeedEqualsDs1) {
    const ImportResult r = import_keepalived_file(kRoot + "/config/seed/keepalived.conf");
    ASSERT_TRUE(r.errors.empty()) << join(r.errors);
    EXPECT_TRUE(r.unsupported.empty()) << join(r.unsupported);
    auto ds1 = load_file(kRoot + "/config/ds1.yaml");
    ASSERT_TRUE(ds1.has_value());
    Config imported = r.config;
    imported.global.control_socket = ds1->global.control_socket;
    imported.global.metrics_listen = ds1->global.metrics_listen;
    imported.global.log_level = ds1->global.log_level;
    imported.global.notify = ds1->global.notify;
    imported.dpdk = ds1->dpdk;
    imported.tables = ds1->tables;
    imported.forwarding = ds1->forwarding;
    ASSERT_EQ(imported.ports.size(), ds1->ports.size());
    for (size_t i = 0; i < imported.ports.size(); ++i) {
        EXPECT_EQ(imported.ports[i].name, ds1->ports[i].name);
        EXPECT_EQ(imported.ports[i].device, "net_af_packet0,iface=enp1s0");
        EXPECT_FALSE(imported.ports[i].address.has_value());
        imported.ports[i] = ds1->ports[i];
    }
    EXPECT_EQ(imported, *ds1);
    // Field by field too, so that a failure says where.
    EXPECT_EQ(imported.global, ds1->global);
    EXPECT_EQ(imported.timeouts, ds1->timeouts);
    EXPECT_EQ(imported.vrrp_instances, ds1->vrrp_instances);
    EXPECT_EQ(imported.virtual_servers, ds1->virtual_servers);
}

TEST(KeepalivedImport, SeedRoundTripsThroughYaml) {
    const ImportResult r = import_keepalived_file(kRoot + "/config/seed/keepalived.conf");
    auto back = load_string(to_yaml(r.config), "seed.yaml");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, r.config);
}

// ---- realistic fixtures: import -> YAML -> load gives the same Config ------------------------

class KeepalivedFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(KeepalivedFixture, ImportsCleanlyAndRoundTrips) {
    const std::string path = kFixtures + "/" + GetParam();
    const ImportResult r = import_keepalived_file(path);
    ASSERT_TRUE(r.errors.empty()) << join(r.errors);
    EXPECT_TRUE(r.unsupported.empty()) << join(r.unsupported);
    const std::string yaml = to_yaml(r.config);
    auto back = load_string(yaml, GetParam());
    ASSERT_TRUE(back.has_value()) << yaml;
    EXPECT_EQ(*back, r.config) << yaml;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, KeepalivedFixture,
                         ::testing::Values("sync_group.conf", "http_get.conf", "misc_check.conf",
                                           "udp.conf", "vrrp3_ipv6.conf",
                                           "includes/keepalived.conf"),
                         [](const auto& info) {
                             std::string name = info.param;
                             for (char& c : name) {
                                 c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             }
                             return name;
                         });

TEST(KeepalivedImport, SyncGroupFixtureContent) {
    const ImportResult r = import_keepalived_file(kFixtures + "/sync_group.conf");
    const Config& c = r.config;
    ASSERT_EQ(c.vrrp_sync_groups.size(), 1u);
    const VrrpSyncGroup& g = c.vrrp_sync_groups[0];
    EXPECT_EQ(g.name, "G_LB");
    EXPECT_EQ(g.group, (std::vector<std::string>{"VI_FRONT", "VI_BACK"}));
    EXPECT_EQ(g.notify_master, "/etc/keepalived/notify.sh GROUP G_LB MASTER");
    EXPECT_EQ(g.notify_backup, "/etc/keepalived/notify.sh GROUP G_LB BACKUP");
    EXPECT_EQ(g.notify_fault, "/etc/keepalived/notify.sh GROUP G_LB FAULT");
    EXPECT_EQ(g.notify, "/etc/keepalived/notify_all.sh");
    ASSERT_EQ(c.vrrp_instances.size(), 2u);
    const VrrpInstance& front = c.vrrp_instances[0];
    EXPECT_EQ(front.authentication, (Authentication{AuthType::Pass, "s3cr3t"}));
    EXPECT_FALSE(front.preempt);
    EXPECT_EQ(front.garp_master_delay, 2s);     // instance value
    EXPECT_EQ(front.garp_master_repeat, 3u);    // global_defs value
    EXPECT_EQ(front.garp_master_refresh, 60s);  // global_defs value
    EXPECT_EQ(front.track_ports, (std::vector<std::string>{"eth1", "eth2"}));
    ASSERT_EQ(front.virtual_ipaddress.size(), 2u);
    EXPECT_EQ(front.virtual_ipaddress[0], (VirtualIp{prefix("192.0.2.10/24"), "eth0", "eth0:vip"}));
    const VrrpInstance& back = c.vrrp_instances[1];
    EXPECT_EQ(back.unicast_src_ip, ip("10.1.0.2"));
    EXPECT_EQ(back.unicast_peers, std::vector<net::IpAddress>{ip("10.1.0.3")});
    EXPECT_EQ(back.authentication, (Authentication{AuthType::Ah, "back pw"}));
    // One port per distinct interface, in order of mention.
    ASSERT_EQ(c.ports.size(), 3u);
    EXPECT_EQ(c.ports[0].device, "net_af_packet0,iface=eth0");
    EXPECT_EQ(c.ports[1].device, "net_af_packet1,iface=eth1");
    EXPECT_EQ(c.ports[2].device, "net_af_packet2,iface=eth2");
    EXPECT_TRUE(has_note(r, "10.1.0.2 (unicast_src_ip of VI_BACK)")) << join(r.notes);
}

TEST(KeepalivedImport, HttpGetFixtureContent) {
    const ImportResult r = import_keepalived_file(kFixtures + "/http_get.conf");
    ASSERT_EQ(r.config.virtual_servers.size(), 2u);
    const VirtualServer& web = r.config.virtual_servers[0];
    ASSERT_EQ(web.real_servers.size(), 2u);
    const Check& c1 = web.real_servers[0].checks.at(0);
    EXPECT_EQ(c1.type, CheckType::HttpGet);
    ASSERT_EQ(c1.url.size(), 3u);
    EXPECT_EQ(c1.url[0].status_code, (std::vector<StatusRange>{{200, 200}}));
    EXPECT_EQ(c1.url[1].digest, "9b3a0c85a887a256d6939da88aabd8cd");
    EXPECT_EQ(c1.url[1].status_code, (std::vector<StatusRange>{{200, 299}, {304, 304}}));
    EXPECT_EQ(c1.url[2].path, "/api/v1/ping?deep=1");
    EXPECT_EQ(c1.url[2].status_code, (std::vector<StatusRange>{{200, 299}}));  // default
    EXPECT_EQ(c1.url[2].virtualhost, "api.example.com");
    EXPECT_EQ(c1.virtualhost, "www.example.com");  // from the virtual server
    EXPECT_EQ(c1.connect_timeout, 4s);             // from the virtual server
    EXPECT_EQ(c1.retry, 2u);                       // from the virtual server
    EXPECT_EQ(c1.delay_before_retry, 2s);          // the checker's own
    const Check& c2 = web.real_servers[1].checks.at(0);
    EXPECT_EQ(c2.retry, 4u);               // checker's nb_get_retry beats the real server's retry 5
    EXPECT_EQ(c2.delay_before_retry, 3s);  // HTTP_GET default
    EXPECT_EQ(c2.delay_loop, 10s);
    const VirtualServer& tls = r.config.virtual_servers[1];
    EXPECT_EQ(tls.persistence_timeout, 360s);  // bare persistence_timeout
    const Check& s1 = tls.real_servers[0].checks.at(0);
    EXPECT_EQ(s1.type, CheckType::SslGet);
    EXPECT_TRUE(s1.enable_sni);
    EXPECT_EQ(s1.virtualhost, "secure.example.com");
    EXPECT_EQ(s1.connect_port, 443);
}

TEST(KeepalivedImport, IncludesFixtureReadsEveryFile) {
    const ImportResult r = import_keepalived_file(kFixtures + "/includes/keepalived.conf");
    ASSERT_TRUE(r.errors.empty()) << join(r.errors);
    const Config& c = r.config;
    EXPECT_EQ(c.global.router_id, "SPLIT_LB");
    ASSERT_EQ(c.vrrp_instances.size(), 2u);
    EXPECT_EQ(c.vrrp_instances[0].name, "VI_1");  // {front,back}: written order
    EXPECT_EQ(c.vrrp_instances[0].virtual_ipaddress.size(), 2u);
    ASSERT_EQ(c.virtual_servers.size(), 2u);
    EXPECT_EQ(c.virtual_servers[0].real_servers.size(), 2u);
    EXPECT_EQ(c.virtual_servers[1].port, 25);
    EXPECT_TRUE(has_note(r, "optional/*.conf")) << join(r.notes);
}

TEST(KeepalivedImport, UnsupportedKeywordInAnIncludedFileNamesThatFile) {
    TempDir d;
    const std::string main = d.write("main.conf", "global_defs {\n    include more.conf\n}\n");
    d.write("more.conf", "router_id X\n\nenable_script_security\n");
    const ImportResult r = import_keepalived_file(main);
    ASSERT_EQ(r.unsupported.size(), 1u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(),
              d.path() + "/more.conf:3: unsupported keyword 'enable_script_security'");
}

TEST(KeepalivedImport, UnbalancedBracesGiveNoConfig) {
    const ImportResult r = import("global_defs {\n    router_id X\n");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, 1);
}

// ---- global_defs ----------------------------------------------------------------------------

TEST(KeepalivedImport, GlobalDefs) {
    const Config c = import_ok(R"(
global_defs {
    router_id LVS_DEVEL
    vrrp_version 3
    vrrp_garp_master_delay 7
    vrrp_garp_master_repeat 2
    vrrp_garp_master_refresh 30
    lvs_timeouts tcp 7200 tcpfin 60 udp 20
}
)" + instance(""));
    EXPECT_EQ(c.global.router_id, "LVS_DEVEL");
    EXPECT_EQ(c.timeouts.tcp, 7200s);
    EXPECT_EQ(c.timeouts.tcp_fin, 60s);
    EXPECT_EQ(c.timeouts.udp, 20s);
    EXPECT_EQ(c.timeouts.tcp_syn, kDefaultTcpSynTimeout);
    ASSERT_EQ(c.vrrp_instances.size(), 1u);
    EXPECT_EQ(c.vrrp_instances[0].version, 3);
    EXPECT_EQ(c.vrrp_instances[0].garp_master_delay, 7s);
    EXPECT_EQ(c.vrrp_instances[0].garp_master_repeat, 2u);
    EXPECT_EQ(c.vrrp_instances[0].garp_master_refresh, 30s);
}

TEST(KeepalivedImport, GlobalDefsApplyWhereverTheyAppear) {
    const Config c = import_ok(instance("") + "global_defs {\n    vrrp_version 3\n}\n");
    EXPECT_EQ(c.vrrp_instances.at(0).version, 3);
}

TEST(KeepalivedImport, UnknownGlobalBlockIsReportedOnceAndSkipped) {
    const ImportResult r = import(R"(
global_defs {
    notification_email {
        admin@example.com
    }
    router_id X
    vrrp_strict
}
)");
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:2: unsupported keyword 'notification_email'");
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:6: unsupported keyword 'vrrp_strict'");
    EXPECT_EQ(r.config.global.router_id, "X");
}

TEST(KeepalivedImport, UnknownTopLevelBlocksAreReported) {
    const ImportResult r = import(R"(
vrrp_script chk_nginx {
    script "pidof nginx"
}
virtual_server_group VSG {
    192.0.2.1 80
}
virtual_server fwmark 1 {
    lb_kind DR
}
virtual_server group VSG {
}
static_ipaddress {
}
)");
    ASSERT_EQ(r.unsupported.size(), 5u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:1: unsupported keyword 'vrrp_script'");
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:4: unsupported keyword 'virtual_server_group'");
    EXPECT_EQ(r.unsupported[2].to_string(),
              "t.conf:7: unsupported keyword 'virtual_server fwmark'");
    EXPECT_EQ(r.unsupported[3].to_string(),
              "t.conf:10: unsupported keyword 'virtual_server group'");
    EXPECT_EQ(r.unsupported[4].line, 12);
    EXPECT_TRUE(r.config.virtual_servers.empty());
}

// ---- vrrp_instance --------------------------------------------------------------------------

TEST(KeepalivedImport, VrrpInstanceEveryKeyword) {
    const Config c = import_ok(R"(
vrrp_instance VI_9 {
    state BACKUP
    interface eth0
    virtual_router_id 99
    priority 150
    advert_int 3
    version 2
    preempt
    preempt_delay 12
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        192.0.2.9/24 dev eth1 label eth1:9
        192.0.2.10
    }
    unicast_src_ip 192.0.2.2
    unicast_peer {
        192.0.2.3
        192.0.2.4
    }
    garp_master_delay 1
    garp_master_repeat 9
    garp_master_refresh 120
    track_interface {
        eth2
    }
    notify_master "/bin/n.sh master"
    notify_backup /bin/backup.sh
    notify_fault /bin/fault.sh
    notify_stop /bin/stop.sh
    notify /bin/all.sh
    v3_checksum_as_v2 yes
}
)");
    ASSERT_EQ(c.vrrp_instances.size(), 1u);
    VrrpInstance want;
    want.name = "VI_9";
    want.interface = "eth0";
    want.state = VrrpState::Backup;
    want.virtual_router_id = 99;
    want.priority = 150;
    want.advert_int = 3s;
    want.version = 2;
    want.preempt = true;
    want.preempt_delay = 12s;
    want.authentication = Authentication{AuthType::Pass, "1111"};
    want.virtual_ipaddress = {{prefix("192.0.2.9/24"), "eth1", "eth1:9"},
                              {prefix("192.0.2.10"), "", ""}};
    want.unicast_src_ip = ip("192.0.2.2");
    want.unicast_peers = {ip("192.0.2.3"), ip("192.0.2.4")};
    want.garp_master_delay = 1s;
    want.garp_master_repeat = 9;
    want.garp_master_refresh = 120s;
    want.track_ports = {"eth2"};
    want.v3_checksum_as_v2 = true;
    want.notify_master = "/bin/n.sh master";
    want.notify_backup = "/bin/backup.sh";
    want.notify_fault = "/bin/fault.sh";
    want.notify_stop = "/bin/stop.sh";
    want.notify = "/bin/all.sh";
    EXPECT_EQ(c.vrrp_instances[0], want);
    ASSERT_EQ(c.ports.size(), 3u);
    EXPECT_EQ(c.ports[0].name, "eth0");
    EXPECT_EQ(c.ports[1].name, "eth1");
    EXPECT_EQ(c.ports[2].name, "eth2");
}

TEST(KeepalivedImport, VrrpInstanceDefaults) {
    const Config c = import_ok(instance(""));
    const VrrpInstance& v = c.vrrp_instances.at(0);
    EXPECT_EQ(v.state, VrrpState::Backup);
    EXPECT_EQ(v.priority, 100);
    EXPECT_EQ(v.advert_int, 1s);
    EXPECT_EQ(v.version, 2);
    EXPECT_TRUE(v.preempt);
    EXPECT_EQ(v.garp_master_delay, 5s);
    EXPECT_EQ(v.garp_master_repeat, 5u);
    EXPECT_EQ(v.garp_master_refresh, 0s);
    EXPECT_FALSE(v.authentication.has_value());
}

TEST(KeepalivedImport, StateMasterWithoutPriorityIsTheAddressOwner) {
    const ImportResult r = import(instance("    state MASTER\n"));
    EXPECT_EQ(r.config.vrrp_instances.at(0).priority, 255);
    EXPECT_TRUE(has_note(r, "priority 255")) << join(r.notes);
}

TEST(KeepalivedImport, Priority255WithoutStateIsMaster) {
    const Config c = import_ok(instance("    priority 255\n"));
    EXPECT_EQ(c.vrrp_instances.at(0).state, VrrpState::Master);
}

TEST(KeepalivedImport, NopreemptIsClearedWithStateMasterAsKeepalivedDoes) {
    const ImportResult r = import(instance("    state MASTER\n    priority 200\n    nopreempt\n"));
    EXPECT_TRUE(r.config.vrrp_instances.at(0).preempt);
    EXPECT_TRUE(has_note(r, "nopreempt")) << join(r.notes);
    const Config c = import_ok(instance("    state BACKUP\n    nopreempt\n"));
    EXPECT_FALSE(c.vrrp_instances.at(0).preempt);
}

TEST(KeepalivedImport, V2AdvertIntFractionIsRoundedWithANote) {
    const ImportResult r = import(instance("    advert_int 1.6\n"));
    EXPECT_TRUE(r.unsupported.empty()) << join(r.unsupported);
    EXPECT_EQ(r.config.vrrp_instances.at(0).advert_int, 2s);
    EXPECT_TRUE(has_note(r, "rounded to 2s")) << join(r.notes);
    EXPECT_EQ(import(instance("    advert_int 0.3\n")).config.vrrp_instances.at(0).advert_int,
              1s);  // never below one second
}

TEST(KeepalivedImport, V3AdvertIntKeepsCentiseconds) {
    const ImportResult r = import(instance("    version 3\n    advert_int 0.1\n"));
    EXPECT_EQ(r.config.vrrp_instances.at(0).advert_int, 100ms);
    EXPECT_FALSE(has_note(r, "advert_int")) << join(r.notes);
    const ImportResult odd = import(instance("    version 3\n    advert_int 0.015\n"));
    EXPECT_EQ(odd.config.vrrp_instances.at(0).advert_int, 20ms);
    EXPECT_TRUE(has_note(odd, "rounded to 0.02s")) << join(odd.notes);
}

TEST(KeepalivedImport, Ipv6InstanceDefaultsToVersion3) {
    const Config c = import_ok(R"(
global_defs {
    vrrp_version 2
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id 1
    advert_int 0.5
    virtual_ipaddress {
        fe80::1/64
        2001:db8::1/64
    }
}
)");
    const VrrpInstance& v = c.vrrp_instances.at(0);
    EXPECT_EQ(v.version, 3);
    EXPECT_EQ(v.advert_int, 500ms);
    EXPECT_EQ(v.virtual_ipaddress.at(1).address, prefix("2001:db8::1/64"));
}

TEST(KeepalivedImport, AuthenticationIsIgnoredInVersion3AsKeepalivedDoes) {
    const ImportResult r =
        import(instance("    version 3\n    authentication {\n        auth_type PASS\n        "
                        "auth_pass x\n    }\n"));
    EXPECT_FALSE(r.config.vrrp_instances.at(0).authentication.has_value());
    EXPECT_TRUE(has_note(r, "authentication ignored")) << join(r.notes);
}

TEST(KeepalivedImport, AuthPassIsTruncatedToEightCharacters) {
    const ImportResult r = import(instance(
        "    authentication {\n        auth_type PASS\n        auth_pass 0123456789\n    }\n"));
    EXPECT_EQ(r.config.vrrp_instances.at(0).authentication->pass, "01234567");
    EXPECT_TRUE(has_note(r, "truncated")) << join(r.notes);
}

TEST(KeepalivedImport, VirtualIpaddressOptionsWithoutCounterpartAreReported) {
    const ImportResult r = import(R"(
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 7
    virtual_ipaddress {
        192.0.2.1/24 brd 192.0.2.255 dev eth0 scope global
    }
}
)");
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(),
              "t.conf:5: unsupported keyword 'brd 192.0.2.255' (virtual_ipaddress option)");
    EXPECT_EQ(r.unsupported[1].line, 5);
    EXPECT_EQ(r.config.vrrp_instances.at(0).virtual_ipaddress.at(0).dev, "eth0");
}

TEST(KeepalivedImport, WeightedTrackInterfaceIsUnsupported) {
    const ImportResult r =
        import(instance("    track_interface {\n        eth1 weight -20\n"
                        "        eth2 weight 0\n    }\n"));
    ASSERT_EQ(r.unsupported.size(), 1u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].line, 8);
    EXPECT_EQ(r.config.vrrp_instances.at(0).track_ports, std::vector<std::string>{"eth2"});
}

TEST(KeepalivedImport, SourceAddressWithoutUnicastPeersIsUnsupported) {
    const ImportResult m = import(instance("    mcast_src_ip 192.0.2.5\n"));
    ASSERT_EQ(m.unsupported.size(), 1u) << join(m.unsupported);
    EXPECT_NE(m.unsupported[0].message.find("'mcast_src_ip'"), std::string::npos);
    EXPECT_TRUE(has_note(m, "192.0.2.5 (mcast_src_ip of VI_1)")) << join(m.notes);
    const ImportResult u = import(instance("    unicast_src_ip 192.0.2.5\n"));
    ASSERT_EQ(u.unsupported.size(), 1u) << join(u.unsupported);
    EXPECT_FALSE(u.config.vrrp_instances.at(0).unicast_src_ip.has_value());
}

TEST(KeepalivedImport, McastSrcIpWithUnicastPeersIsTheUnicastSource) {
    // keepalived stores both keywords in the same field.
    const Config c = import_ok(
        instance("    mcast_src_ip 192.0.2.5\n    unicast_peer {\n        192.0.2.6\n    }\n"));
    EXPECT_EQ(c.vrrp_instances.at(0).unicast_src_ip, ip("192.0.2.5"));
}

TEST(KeepalivedImport, InstanceWithoutRouterIdOrAddressesIsNotImported) {
    const ImportResult r = import(R"(
vrrp_instance A {
    interface eth0
    virtual_ipaddress {
        192.0.2.1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 3
}
)");
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].line, 1);
    EXPECT_EQ(r.unsupported[1].line, 7);
    EXPECT_TRUE(r.config.vrrp_instances.empty());
    EXPECT_TRUE(r.config.ports.empty());
}

TEST(KeepalivedImport, UnknownInstanceKeywordIsReportedWithItsBlock) {
    const ImportResult r =
        import(instance("    use_vmac\n    track_script {\n        chk\n    }\n"));
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:7: unsupported keyword 'use_vmac'");
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:8: unsupported keyword 'track_script'");
}

TEST(KeepalivedImport, InvalidValuesAreReported) {
    const ImportResult r = import(instance("    priority 300\n    state LEADER\n"));
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(),
              "t.conf:7: invalid value '300' for 'priority' (expected an integer in 1..255)");
    EXPECT_EQ(r.unsupported[1].line, 8);
}

// ---- ports ----------------------------------------------------------------------------------

TEST(KeepalivedImport, EachInterfaceBecomesAPortWithAPlaceholderDevice) {
    const ImportResult r = import(instance("") + R"(
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 8
    virtual_ipaddress {
        192.0.2.2 dev eth3
    }
}
)");
    ASSERT_EQ(r.config.ports.size(), 2u);
    const Port& p = r.config.ports[1];
    EXPECT_EQ(p.name, "eth3");
    EXPECT_EQ(p.device, "net_af_packet1,iface=eth3");
    EXPECT_EQ(p.profile, "auto");
    EXPECT_FALSE(p.address.has_value());
    EXPECT_TRUE(has_note(r, "PCI address")) << join(r.notes);
}

// ---- vrrp_sync_group ------------------------------------------------------------------------

TEST(KeepalivedImport, SyncGroupWithUnknownMemberReportsIt) {
    const ImportResult r = import(instance("") + R"(
vrrp_sync_group G {
    group {
        VI_1
        VI_X
    }
    notify_stop /bin/x
}
)");
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].line, 12);
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:14: unsupported keyword 'notify_stop'");
    EXPECT_EQ(r.config.vrrp_sync_groups.at(0).group, std::vector<std::string>{"VI_1"});
}

// ---- virtual_server -------------------------------------------------------------------------

TEST(KeepalivedImport, VirtualServerEveryKeyword) {
    const Config c = import_ok(R"(
virtual_server 192.0.2.1 8080 {
    delay_loop 4
    lvs_sched wrr
    lvs_method DR
    protocol TCP
    persistence_timeout 90
    persistence_granularity 255.255.0.0
    quorum 3
    hysteresis 1
    quorum_up "/bin/q up"
    quorum_down "/bin/q down"
    sorry_server 10.0.0.99 8080
    inhibit_on_failure
    alpha
    real_server 10.0.0.1 8080 {
        weight 4
        inhibit_on_failure false
        notify_up /bin/up
        notify_down /bin/down
    }
}
)");
    VirtualServer want;
    want.address = ip("192.0.2.1");
    want.port = 8080;
    want.protocol = Protocol::Tcp;
    want.lb_algo = LbAlgo::Wrr;
    want.lb_kind = LbKind::Dr;
    want.delay_loop = 4s;
    want.persistence_timeout = 90s;
    want.persistence_granularity = 16;
    want.quorum = 3;
    want.hysteresis = 1;
    want.quorum_up = "/bin/q up";
    want.quorum_down = "/bin/q down";
    want.sorry_server = SorryServer{ip("10.0.0.99"), 8080};
    want.inhibit_on_failure = true;
    want.alpha = true;
    RealServer rs;
    rs.address = ip("10.0.0.1");
    rs.port = 8080;
    rs.weight = 4;
    rs.inhibit_on_failure = false;
    rs.notify_up = "/bin/up";
    rs.notify_down = "/bin/down";
    want.real_servers = {rs};
    ASSERT_EQ(c.virtual_servers.size(), 1u);
    EXPECT_EQ(c.virtual_servers[0], want);
}

TEST(KeepalivedImport, VirtualServerDefaultsAreKeepalivedsNotDirectorYamls) {
    const ImportResult r = import(R"(
virtual_server 192.0.2.1 53 {
    lb_kind DR
    real_server 10.0.0.1 53 {
    }
}
)");
    EXPECT_TRUE(r.unsupported.empty()) << join(r.unsupported);
    const VirtualServer& v = r.config.virtual_servers.at(0);
    EXPECT_EQ(v.protocol, Protocol::Udp);  // keepalived's default
    EXPECT_TRUE(has_note(r, "default UDP")) << join(r.notes);
    EXPECT_EQ(v.lb_algo, LbAlgo::Wlc);
    EXPECT_EQ(v.delay_loop, 60s);
    EXPECT_EQ(v.quorum, 1u);
    EXPECT_EQ(v.persistence_timeout, 0s);
    EXPECT_EQ(v.persistence_granularity, 32);
    EXPECT_EQ(v.real_servers.at(0).weight, 1u);
    EXPECT_TRUE(v.real_servers.at(0).checks.empty());
}

TEST(KeepalivedImport, AbsentLbKindIsNatAndUnsupported) {
    const ImportResult r = import(R"(
virtual_server 192.0.2.1 80 {
    protocol TCP
}
virtual_server 192.0.2.1 81 {
    protocol TCP
    lb_kind NAT
}
)");
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(),
              "t.conf:1: lb_kind NAT is not supported (keepalived's default when lb_kind is "
              "absent)");
    EXPECT_EQ(r.unsupported[1].line, 6);
}

TEST(KeepalivedImport, LbAlgoNamesKeepalivedKnowsButDirectorDoesNot) {
    for (const char* algo : {"lblc", "lblcr", "fo", "ovf", "twos"}) {
        const ImportResult r = import(vs(std::string("    lb_algo ") + algo + "\n"));
        ASSERT_EQ(r.unsupported.size(), 1u) << algo << "\n" << join(r.unsupported);
        EXPECT_EQ(r.unsupported[0].to_string(),
                  std::string("t.conf:4: unsupported keyword 'lb_algo ") + algo + "'");
    }
    for (const char* algo : {"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh"}) {
        const Config c = import_ok(vs(std::string("    lb_algo ") + algo + "\n"));
        EXPECT_STREQ(to_string(c.virtual_servers.at(0).lb_algo), algo);
    }
}

TEST(KeepalivedImport, PersistenceTimeoutWithoutValueIs360s) {
    const Config c = import_ok(vs("    persistence_timeout\n"));
    EXPECT_EQ(c.virtual_servers.at(0).persistence_timeout, 360s);
}

TEST(KeepalivedImport, GranularityAloneMakesTheServicePersistent) {
    const ImportResult r = import(vs("    persistence_granularity 255.255.255.0\n"));
    EXPECT_EQ(r.config.virtual_servers.at(0).persistence_timeout, 360s);
    EXPECT_EQ(r.config.virtual_servers.at(0).persistence_granularity, 24);
}

TEST(KeepalivedImport, Ipv6GranularityIsAPrefixLength) {
    const Config c = import_ok(R"(
virtual_server 2001:db8::1 80 {
    lb_kind DR
    protocol TCP
    persistence_timeout 60
    persistence_granularity 48
}
)");
    EXPECT_EQ(c.virtual_servers.at(0).persistence_granularity, 48);
}

TEST(KeepalivedImport, PortZeroServiceGetsPersistence) {
    const ImportResult r = import(R"(
virtual_server 192.0.2.1 0 {
    lb_kind DR
    protocol TCP
}
)");
    EXPECT_EQ(r.config.virtual_servers.at(0).persistence_timeout, 360s);
    EXPECT_TRUE(has_note(r, "port 0")) << join(r.notes);
}

TEST(KeepalivedImport, RealServerPortIsForcedToTheVirtualServersInDr) {
    const ImportResult r = import(R"(
virtual_server 192.0.2.1 80 {
    lb_kind DR
    protocol TCP
    sorry_server 10.0.0.9 8080
    real_server 10.0.0.1 8080 {
    }
    real_server 10.0.0.2 {
    }
}
)");
    const VirtualServer& v = r.config.virtual_servers.at(0);
    EXPECT_EQ(v.real_servers.at(0).port, 80);
    EXPECT_EQ(v.real_servers.at(1).port, 80);
    EXPECT_EQ(v.sorry_server->port, 80);
    EXPECT_TRUE(has_note(r, "real_server 10.0.0.1 port 8080 reset")) << join(r.notes);
}

TEST(KeepalivedImport, HysteresisIsKeptBelowQuorum) {
    const ImportResult r = import(vs("    quorum 2\n    hysteresis 5\n"));
    EXPECT_EQ(r.config.virtual_servers.at(0).hysteresis, 1u);
}

TEST(KeepalivedImport, VirtualServerKeywordsWithoutCounterpart) {
    const ImportResult r =
        import(vs("    omega\n    ha_suspend\n    lb_algo rr\n    protocol SCTP\n"
                  "    sorry_server_inhibit\n"));
    ASSERT_EQ(r.unsupported.size(), 4u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:4: unsupported keyword 'omega'");
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:5: unsupported keyword 'ha_suspend'");
    EXPECT_EQ(r.unsupported[2].to_string(), "t.conf:7: unsupported keyword 'protocol SCTP'");
    EXPECT_EQ(r.unsupported[3].line, 8);
}

TEST(KeepalivedImport, RealServerWeightDefaultsAndLimits) {
    const Config c = import_ok(vs("    weight 7\n"));
    EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(0).weight, 7u);  // the VS's default weight
    const Config zero = import_ok(vs("", "        weight 0\n"));
    EXPECT_EQ(zero.virtual_servers.at(0).real_servers.at(0).weight, 0u);
    const ImportResult big = import(vs("", "        weight 100000\n"));
    ASSERT_EQ(big.unsupported.size(), 1u) << join(big.unsupported);
    EXPECT_EQ(big.unsupported[0].line, 5);
}

TEST(KeepalivedImport, RealServerKeywordsWithoutCounterpart) {
    const ImportResult r = import(vs("", "        uthreshold 100\n        lb_kind TUN\n"));
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:5: unsupported keyword 'uthreshold'");
    EXPECT_EQ(r.unsupported[1].line, 6);
}

// ---- checkers -------------------------------------------------------------------------------

TEST(KeepalivedImport, TcpCheckEveryKeyword) {
    const Config c = import_ok(vs("", R"(
        TCP_CHECK {
            connect_ip 10.0.0.2
            connect_port 8080
            bindto 192.0.2.2
            bind_port 5000
            connect_timeout 2.5
            retry 4
            delay_before_retry 0.5
            delay_loop 9
        }
)"));
    Check want;
    want.type = CheckType::Tcp;
    want.connect_ip = ip("10.0.0.2");
    want.connect_port = 8080;
    want.bindto = ip("192.0.2.2");
    want.bind_port = 5000;
    want.connect_timeout = 2500ms;
    want.retry = 4;
    want.delay_before_retry = 500ms;
    want.delay_loop = 9s;
    EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(0).checks, std::vector<Check>{want});
}

TEST(KeepalivedImport, CheckerDefaultsPerType) {
    const Config c = import_ok(vs("", R"(
        TCP_CHECK {
        }
        HTTP_GET {
            url {
                path /
            }
        }
        SSL_GET {
            url {
                path /
            }
        }
        MISC_CHECK {
            misc_path /bin/true
        }
        UDP_CHECK {
        }
)"));
    const auto& checks = c.virtual_servers.at(0).real_servers.at(0).checks;
    ASSERT_EQ(checks.size(), 5u);
    for (const Check& k : checks) {
        SCOPED_TRACE(to_string(k.type));
        EXPECT_EQ(k.connect_timeout, 5s);
        EXPECT_EQ(k.retry, k.type == CheckType::Misc ? 0u : 1u);
        const bool http = k.type == CheckType::HttpGet || k.type == CheckType::SslGet;
        EXPECT_EQ(k.delay_before_retry, http ? 3s : 1s);
        EXPECT_FALSE(k.delay_loop.has_value());
        EXPECT_FALSE(k.connect_port.has_value());
    }
    EXPECT_EQ(checks[1].url.at(0).status_code, (std::vector<StatusRange>{{200, 299}}));
    EXPECT_FALSE(checks[4].require_reply.has_value());
}

TEST(KeepalivedImport, NbGetRetryIsTheOldNameOfRetry) {
    const Config c =
        import_ok(vs("", "        TCP_CHECK {\n            nb_get_retry 6\n        }\n"));
    EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(0).checks.at(0).retry, 6u);
}

TEST(KeepalivedImport, CheckerSettingsInheritVirtualServerThenRealServer) {
    const Config c = import_ok(R"(
virtual_server 192.0.2.1 80 {
    lb_kind DR
    protocol TCP
    connect_timeout 11
    retry 7
    delay_before_retry 6
    real_server 10.0.0.1 80 {
        retry 3
        delay_loop 20
        TCP_CHECK {
            delay_before_retry 2
        }
        MISC_CHECK {
            misc_path /bin/true
        }
    }
}
)");
    const auto& checks = c.virtual_servers.at(0).real_servers.at(0).checks;
    ASSERT_EQ(checks.size(), 2u);
    EXPECT_EQ(checks[0].connect_timeout, 11s);    // VS
    EXPECT_EQ(checks[0].retry, 3u);               // RS over VS
    EXPECT_EQ(checks[0].delay_before_retry, 2s);  // checker over VS
    EXPECT_EQ(checks[0].delay_loop, 20s);         // RS
    EXPECT_EQ(checks[1].retry, 3u);               // inherited values beat MISC's default 0
    EXPECT_EQ(checks[1].delay_before_retry, 6s);
    EXPECT_EQ(checks[1].connect_timeout, kDefaultConnectTimeout);  // not a MISC setting
}

TEST(KeepalivedImport, HttpUrlStatusCodesDigestsAndVirtualhosts) {
    const Config c = import_ok(R"(
virtual_server 192.0.2.1 80 {
    lb_kind DR
    protocol TCP
    virtualhost vs.example.com
    real_server 10.0.0.1 80 {
        HTTP_GET {
            url {
                path /a
                status_code 200 301-302 404
                digest ABCDEF0123456789ABCDEF0123456789
                virtualhost a.example.com
            }
        }
    }
    real_server 10.0.0.2 80 {
        virtualhost rs.example.com
        HTTP_GET {
            url {
                path /b
            }
        }
    }
}
)");
    const Check& a = c.virtual_servers.at(0).real_servers.at(0).checks.at(0);
    EXPECT_EQ(a.url.at(0).status_code,
              (std::vector<StatusRange>{{200, 200}, {301, 302}, {404, 404}}));
    EXPECT_EQ(a.url.at(0).digest, "abcdef0123456789abcdef0123456789");
    EXPECT_EQ(a.url.at(0).virtualhost, "a.example.com");
    EXPECT_EQ(a.virtualhost, "vs.example.com");
    EXPECT_EQ(c.virtual_servers.at(0).real_servers.at(1).checks.at(0).virtualhost,
              "rs.example.com");
}

TEST(KeepalivedImport, HttpCheckWithoutUsableUrlIsDropped) {
    const ImportResult r = import(vs("", R"(
        HTTP_GET {
            url {
                status_code 200
            }
            http_protocol 1.1
        }
)"));
    ASSERT_EQ(r.unsupported.size(), 3u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].line, 6);   // the checker: no usable url
    EXPECT_EQ(r.unsupported[1].line, 7);   // the url: no path
    EXPECT_EQ(r.unsupported[2].line, 10);  // http_protocol
    EXPECT_TRUE(r.config.virtual_servers.at(0).real_servers.at(0).checks.empty());
}

TEST(KeepalivedImport, MiscCheckKeywords) {
    const ImportResult r = import(vs("", R"(
        MISC_CHECK {
            misc_path "/bin/check.sh 10.0.0.1 'a b'"
            misc_timeout 4
            misc_dynamic
            user nobody
            connect_port 80
        }
)"));
    ASSERT_EQ(r.unsupported.size(), 2u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:10: unsupported keyword 'user'");
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:11: unsupported keyword 'connect_port'");
    const Check& k = r.config.virtual_servers.at(0).real_servers.at(0).checks.at(0);
    EXPECT_EQ(k.type, CheckType::Misc);
    EXPECT_EQ(k.misc_path, "/bin/check.sh 10.0.0.1 'a b'");
    EXPECT_EQ(k.misc_timeout, 4s);
    EXPECT_TRUE(k.misc_dynamic);
}

TEST(KeepalivedImport, UdpCheckKeywords) {
    const Config c = import_ok(vs("", R"(
        UDP_CHECK {
            payload 0A0b
            require_reply 0aXx
            min_reply_length 2
            max_reply_length 100
        }
        UDP_CHECK {
            require_reply
        }
)"));
    const auto& checks = c.virtual_servers.at(0).real_servers.at(0).checks;
    EXPECT_EQ(checks.at(0).payload, "0a0b");
    EXPECT_EQ(checks.at(0).require_reply, "0aXX");
    EXPECT_EQ(checks.at(0).min_reply_length, 2u);
    EXPECT_EQ(checks.at(0).max_reply_length, 100u);
    EXPECT_EQ(checks.at(1).require_reply, "");  // any reply
}

TEST(KeepalivedImport, CheckerKeywordsAndCheckersWithoutCounterpart) {
    const ImportResult r = import(vs("", R"(
        TCP_CHECK {
            warmup 5
            bind_if eth0
        }
        DNS_CHECK {
            type A
            name example.com
        }
)"));
    ASSERT_EQ(r.unsupported.size(), 3u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].to_string(), "t.conf:7: unsupported keyword 'warmup'");
    EXPECT_EQ(r.unsupported[1].to_string(), "t.conf:8: unsupported keyword 'bind_if'");
    EXPECT_EQ(r.unsupported[2].to_string(), "t.conf:10: unsupported keyword 'DNS_CHECK'");
    EXPECT_EQ(r.config.virtual_servers.at(0).real_servers.at(0).checks.size(), 1u);
}

TEST(KeepalivedImport, AlphaOnARealServerMustMatchItsVirtualServer) {
    EXPECT_TRUE(import(vs("    alpha\n", "        alpha\n")).unsupported.empty());
    const ImportResult r = import(vs("", "        alpha\n"));
    ASSERT_EQ(r.unsupported.size(), 1u) << join(r.unsupported);
    EXPECT_EQ(r.unsupported[0].line, 5);
}

// ---- the imported text loads ----------------------------------------------------------------

TEST(KeepalivedImport, EveryImportedKeywordSurvivesTheYamlRoundTrip) {
    const ImportResult r = import(R"(
global_defs {
    router_id "RID 1"
    lvs_timeouts tcp 100 tcpfin 10 udp 5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 9
    nopreempt
    preempt_delay 3
    authentication {
        auth_type AH
        auth_pass 12345678
    }
    virtual_ipaddress {
        192.0.2.1/24 dev eth1 label "eth1:a b"
    }
    unicast_src_ip 192.0.2.2
    unicast_peer {
        192.0.2.3
    }
    track_interface {
        eth2
    }
    notify "/bin/n.sh \"quoted\" arg"
}
)" + vs("    persistence_timeout 7\n    persistence_granularity 255.255.255.128\n",
        "        UDP_CHECK {\n            payload 00ff\n        }\n"));
    ASSERT_TRUE(r.errors.empty());
    EXPECT_TRUE(r.unsupported.empty()) << join(r.unsupported);
    const std::string yaml = to_yaml(r.config);
    auto back = load_string(yaml, "back.yaml");
    ASSERT_TRUE(back.has_value()) << yaml;
    EXPECT_EQ(*back, r.config) << yaml;
}

}  // namespace
}  // namespace director::config
