// SPDX-License-Identifier: BSD-3-Clause
// Driver profiles (lib/control/driver_profile.cc): every shipped drivers-conf/*.yaml loads,
// `auto` picks by the PMD's driver name, an explicit name wins, and a broken profile is
// reported as FILE:LINE:COL at the offending node.
#include "control/driver_profile.h"

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace director::ctl {
namespace {

namespace fs = std::filesystem;

const std::string kDir = DIRECTOR_SOURCE_ROOT "/drivers-conf";

DriverProfile load_ok(const std::string& path) {
    auto p = load_driver_profile(path);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
    return p ? *p : DriverProfile{};
}

std::string select_name(const std::string& dir, const std::string& name,
                        const std::string& driver) {
    auto p = select_driver_profile(dir, name, driver);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
    return p ? p->name : "(error)";
}

TEST(DriverProfiles, EveryShippedProfileLoads) {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(kDir)) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        SCOPED_TRACE(entry.path().string());
        const DriverProfile p = load_ok(entry.path());
        EXPECT_EQ(p.name, entry.path().stem().string());
        EXPECT_GT(p.rx_descriptors, 0);
        EXPECT_GT(p.tx_descriptors, 0);
        if (p.rss) {
            EXPECT_NE(p.rss_fields, 0u);
            EXPECT_NE(p.rss_persistent_fields, 0u);
            // Persistence: one client, one core — addresses only, never ports.
            EXPECT_EQ(p.rss_persistent_fields &
                          (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP),
                      0u);
        }
        if (p.name != "default") {
            EXPECT_FALSE(p.match.empty()) << "a profile nobody can select automatically";
        }
        ++n;
    }
    EXPECT_GE(n, 12u);
}

TEST(DriverProfiles, NoDriverNameIsClaimedTwice) {
    // `auto` walks the directory in no particular order: two claims would make it random.
    std::set<std::string> claimed;
    for (const auto& entry : fs::directory_iterator(kDir)) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        for (const std::string& m : load_ok(entry.path()).match) {
            EXPECT_TRUE(claimed.insert(m).second) << m << " claimed again by " << entry.path();
        }
    }
}

TEST(DriverProfiles, ShippedValuesParse) {
    const DriverProfile af = load_ok(kDir + "/af_packet.yaml");
    EXPECT_EQ(af.match, std::vector<std::string>{"net_af_packet"});
    EXPECT_FALSE(af.rss);
    EXPECT_EQ(af.vdev_queue_arg, "qpairs");
    EXPECT_EQ(af.tx_offloads, 0u);

    const DriverProfile i40e = load_ok(kDir + "/i40e.yaml");
    EXPECT_EQ(i40e.rx_descriptors, 2048);
    EXPECT_EQ(i40e.tx_descriptors, 2048);
    EXPECT_TRUE(i40e.rss);
    EXPECT_TRUE(i40e.rss_key.empty());  // key: default
    EXPECT_NE(i40e.rss_fields & RTE_ETH_RSS_NONFRAG_IPV4_TCP, 0u);
    EXPECT_NE(i40e.rss_fields & RTE_ETH_RSS_IPV6, 0u);
    EXPECT_NE(i40e.rss_persistent_fields & RTE_ETH_RSS_IPV4, 0u);
    EXPECT_EQ(i40e.tx_offloads, RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE);
    EXPECT_TRUE(i40e.vdev_queue_arg.empty());

    const DriverProfile mlx5 = load_ok(kDir + "/mlx5.yaml");
    EXPECT_EQ(mlx5.match, (std::vector<std::string>{"mlx5_pci", "net_mlx5"}));
    EXPECT_EQ(mlx5.rx_descriptors, 4096);
}

TEST(DriverProfiles, AutoPicksByDriverName) {
    EXPECT_EQ(select_name(kDir, "auto", "net_pcap"), "pcap");
    EXPECT_EQ(select_name(kDir, "auto", "net_af_packet"), "af_packet");
    EXPECT_EQ(select_name(kDir, "auto", "net_i40e"), "i40e");
    EXPECT_EQ(select_name(kDir, "auto", "net_ixgbe"), "ixgbe");
    EXPECT_EQ(select_name(kDir, "auto", "net_ice"), "ice");
    EXPECT_EQ(select_name(kDir, "auto", "mlx5_pci"), "mlx5");
    EXPECT_EQ(select_name(kDir, "auto", "net_virtio"), "virtio");
    EXPECT_EQ(select_name(kDir, "auto", "net_ring"), "ring");
    EXPECT_EQ(select_name(kDir, "auto", "net_null"), "null");
    EXPECT_EQ(select_name(kDir, "auto", "net_tap"), "tap");
    EXPECT_EQ(select_name(kDir, "auto", "net_memif"), "memif");
}

TEST(DriverProfiles, AutoFallsBackToDefault) {
    EXPECT_EQ(select_name(kDir, "auto", "net_e1000_igb"), "default");
    EXPECT_EQ(select_name(kDir, "auto", ""), "default");
    EXPECT_EQ(select_name(kDir, "auto", "net_pcap0"), "default");  // exact names only
}

TEST(DriverProfiles, ExplicitNameWinsOverTheDriver) {
    EXPECT_EQ(select_name(kDir, "i40e", "net_af_packet"), "i40e");
    EXPECT_EQ(select_name(kDir, "default", "net_i40e"), "default");
    const auto missing = select_driver_profile(kDir, "no_such_profile", "net_i40e");
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().message.find("no_such_profile"), std::string::npos)
        << missing.error().message;
}

TEST(DriverProfiles, DefaultDirectoryFromTheEnvironment) {
    const char* old = std::getenv("DIRECTOR_DRIVERS_CONF");
    const std::string saved = old ? old : "";
    setenv("DIRECTOR_DRIVERS_CONF", "/tmp/some/profiles", 1);
    EXPECT_EQ(default_drivers_conf_dir(), "/tmp/some/profiles");
    if (old) {
        setenv("DIRECTOR_DRIVERS_CONF", saved.c_str(), 1);
    } else {
        unsetenv("DIRECTOR_DRIVERS_CONF");
    }
}

TEST(DriverProfiles, DefaultDirectoryFoundFromTheBuildTree) {
    // The test binary lives under <source>/<build>/test/...: the walk up finds the sources'.
    const char* old = std::getenv("DIRECTOR_DRIVERS_CONF");
    if (old) {
        GTEST_SKIP() << "DIRECTOR_DRIVERS_CONF is set";
    }
    const std::string exe = fs::read_symlink("/proc/self/exe").string();
    if (exe.rfind(DIRECTOR_SOURCE_ROOT "/", 0) != 0) {
        GTEST_SKIP() << "build tree outside the sources: " << exe;
    }
    const std::string dir = default_drivers_conf_dir();
    EXPECT_TRUE(fs::exists(fs::path(dir) / "default.yaml")) << dir;
}

// ---- broken profiles ------------------------------------------------------------------------

class BrokenProfile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("director-profile-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::string write(const std::string& name, const std::string& text) {
        const fs::path p = dir_ / name;
        std::ofstream(p) << text;
        return p;
    }

    /** Loads a profile expected to fail; returns the message. */
    std::string error_of(const std::string& text) {
        const std::string path = write("broken.yaml", text);
        auto p = load_driver_profile(path);
        EXPECT_FALSE(p.has_value()) << "loaded:\n" << text;
        return p ? std::string() : p.error().message;
    }

    std::string path(const std::string& name) const { return dir_ / name; }

    fs::path dir_;
};

TEST_F(BrokenProfile, UnknownKeyAtItsPosition) {
    const std::string e = error_of("match: [net_x]\nrx_descriptors: 512\n  \ntx_descriptor: 512\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":4:1: ", 0), 0u) << e;
    EXPECT_NE(e.find("tx_descriptor"), std::string::npos) << e;
}

TEST_F(BrokenProfile, YamlSyntaxErrorAtItsPosition) {
    const std::string e = error_of("match: [net_x\nrx_descriptors: 512\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":", 0), 0u) << e;
    // FILE:LINE:COL with a real line (1-based), not a missing mark.
    const std::string rest = e.substr(path("broken.yaml").size() + 1);
    EXPECT_GE(std::atoi(rest.c_str()), 1) << e;
    EXPECT_NE(rest.find(':'), std::string::npos) << e;
    EXPECT_EQ(rest.rfind("0:", 0), std::string::npos) << e;
}

TEST_F(BrokenProfile, UnknownRssFieldAtTheListItem) {
    const std::string e = error_of(
        "match: [net_x]\n"
        "rss:\n"
        "  key: default\n"
        "  fields: [ipv4, ipv5]\n"
        "  persistent_fields: [ipv4]\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":4:18: ", 0), 0u) << e;
    EXPECT_NE(e.find("ipv5"), std::string::npos) << e;
}

TEST_F(BrokenProfile, UnknownTxOffloadAtTheListItem) {
    const std::string e = error_of("match: [net_x]\ntx_offloads: [mbuf_fast_free, tso]\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":2:31: ", 0), 0u) << e;
    EXPECT_NE(e.find("tso"), std::string::npos) << e;
}

TEST_F(BrokenProfile, RssMustBeNoneOrAMap) {
    const std::string e = error_of("match: [net_x]\nrss: true\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":2:6: ", 0), 0u) << e;
}

TEST_F(BrokenProfile, RssWithoutFieldsIsPositioned) {
    // rss enabled but no field lists: reported at the rss map, not at "line 0".
    const std::string e = error_of("match: [net_x]\nrss:\n  key: default\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":3:3: ", 0), 0u) << e;
    EXPECT_NE(e.find("fields"), std::string::npos) << e;
}

TEST_F(BrokenProfile, FieldsThatAreNotAListArePositioned) {
    const std::string e = error_of(
        "match: [net_x]\nrss:\n  key: default\n  fields: ipv4\n  persistent_fields: [ipv4]\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":4:11: ", 0), 0u) << e;
}

TEST_F(BrokenProfile, BadRssKeyLength) {
    const std::string e = error_of(
        "match: [net_x]\nrss:\n  key: 6d5a6d5a\n  fields: [ipv4]\n  persistent_fields: [ipv4]\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":3:8: ", 0), 0u) << e;
}

TEST_F(BrokenProfile, RssKeyOfNonHexCharacters) {
    // 40 "bytes", one of them "-1" (strtoul would take it as 0xff) and one " f".
    std::string key(80, 'a');
    key[10] = '-';
    key[11] = '1';
    const std::string e = error_of("match: [net_x]\nrss:\n  key: \"" + key +
                                   "\"\n  fields: [ipv4]\n  persistent_fields: [ipv4]\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":3:8: ", 0), 0u) << e;
    std::string spaced(80, 'a');
    spaced[20] = ' ';
    const std::string e2 = error_of("match: [net_x]\nrss:\n  key: \"" + spaced +
                                    "\"\n  fields: [ipv4]\n  persistent_fields: [ipv4]\n");
    EXPECT_EQ(e2.rfind(path("broken.yaml") + ":3:8: ", 0), 0u) << e2;
}

TEST_F(BrokenProfile, ValidHexRssKeyLoads) {
    // The Microsoft/Intel default Toeplitz key, 40 bytes.
    const std::string key =
        "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa";
    const std::string p = write("ok.yaml", "match: [net_x]\nrss:\n  key: " + key +
                                               "\n  fields: [ipv4]\n  persistent_fields: [ipv4]\n");
    const DriverProfile prof = load_ok(p);
    ASSERT_EQ(prof.rss_key.size(), 40u);
    EXPECT_EQ(prof.rss_key[0], 0x6d);
    EXPECT_EQ(prof.rss_key[39], 0xfa);
}

TEST_F(BrokenProfile, DescriptorCountOutOfRangeIsPositioned) {
    const std::string e = error_of("match: [net_x]\nrx_descriptors: 70000\n");
    EXPECT_EQ(e.rfind(path("broken.yaml") + ":2:17: ", 0), 0u) << e;
}

TEST_F(BrokenProfile, MissingFileIsNamed) {
    auto p = load_driver_profile(path("absent.yaml"));
    ASSERT_FALSE(p.has_value());
    EXPECT_NE(p.error().message.find(path("absent.yaml")), std::string::npos);
}

TEST_F(BrokenProfile, AutoSelectionReportsABrokenProfileInTheDirectory) {
    // A typo in any profile is an error at start-up, not a silent fallback to default.
    write("default.yaml", "match: []\nrss: none\n");
    write("mine.yaml", "match: [net_mine]\nrx_descriptors: [1]\n");
    auto p = select_driver_profile(dir_, "auto", "net_mine");
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().message.rfind(path("mine.yaml") + ":2:", 0), 0u) << p.error().message;
}

TEST_F(BrokenProfile, AutoSelectionInAnotherDirectory) {
    write("default.yaml", "match: []\nrss: none\nrx_descriptors: 128\n");
    write("mine.yaml", "match: [net_mine, net_yours]\nrss: none\nrx_descriptors: 64\n");
    EXPECT_EQ(select_name(dir_, "auto", "net_yours"), "mine");
    EXPECT_EQ(select_name(dir_, "auto", "net_other"), "default");
    auto none = select_driver_profile(path("nonexistent"), "auto", "net_x");
    EXPECT_FALSE(none.has_value());
}

}  // namespace
}  // namespace director::ctl
