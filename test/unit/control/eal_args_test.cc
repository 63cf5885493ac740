// SPDX-License-Identifier: BSD-3-Clause
// rte_eal_init's argument vector from director.yaml (lib/control/eal_args.cc): memory mode,
// lcores, devices, queue arguments of vdevs, log levels and eal_args passed through.
#include "control/eal_args.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace director::ctl {
namespace {

using Args = std::vector<std::string>;

config::Port port(const std::string& name, const std::string& device) {
    config::Port p;
    p.name = name;
    p.device = device;
    return p;
}

config::Config with_ports(std::vector<config::Port> ports) {
    config::Config c;
    c.ports = std::move(ports);
    return c;
}

bool has(const Args& a, const std::string& arg) {
    return std::find(a.begin(), a.end(), arg) != a.end();
}

/** The argument after `flag` (first occurrence), or "(absent)". */
std::string after(const Args& a, const std::string& flag) {
    auto it = std::find(a.begin(), a.end(), flag);
    return it == a.end() || it + 1 == a.end() ? "(absent)" : *(it + 1);
}

/** Every argument following an occurrence of `flag`. */
Args all_after(const Args& a, const std::string& flag) {
    Args out;
    for (size_t i = 0; i + 1 < a.size(); ++i) {
        if (a[i] == flag) {
            out.push_back(a[i + 1]);
        }
    }
    return out;
}

std::string joined(const Args& a) {
    std::string s;
    for (const auto& x : a) {
        s += x + " ";
    }
    return s;
}

// ---- is_pci_address -------------------------------------------------------------------------

TEST(IsPciAddress, FullAndShortFormsWithHexDigits) {
    EXPECT_TRUE(is_pci_address("0000:01:00.0"));
    EXPECT_TRUE(is_pci_address("0000:af:1f.7"));
    EXPECT_TRUE(is_pci_address("ABCD:EF:0a.1"));
    EXPECT_TRUE(is_pci_address("01:00.0"));
    EXPECT_TRUE(is_pci_address("3b:00.1"));
}

TEST(IsPciAddress, VdevsAndNamesAreNot) {
    EXPECT_FALSE(is_pci_address("net_af_packet0,iface=eth0"));
    EXPECT_FALSE(is_pci_address("net_pcap0"));
    EXPECT_FALSE(is_pci_address("net_ring0"));
    EXPECT_FALSE(is_pci_address("eth0"));
    EXPECT_FALSE(is_pci_address(""));
}

TEST(IsPciAddress, MalformedAddressesAreNot) {
    EXPECT_FALSE(is_pci_address("0000:01:00:0"));   // ':' for '.'
    EXPECT_FALSE(is_pci_address("0000-01:00.0"));   // '-' after the domain
    EXPECT_FALSE(is_pci_address("0000:0g:00.0"));   // not hex
    EXPECT_FALSE(is_pci_address("000:01:00.0"));    // short domain
    EXPECT_FALSE(is_pci_address("0000:01:00.00"));  // two-digit function
    EXPECT_FALSE(is_pci_address("1:00.0"));
    EXPECT_FALSE(is_pci_address("01:00.g"));
    EXPECT_FALSE(is_pci_address("0000:01:00.0 "));
    EXPECT_FALSE(is_pci_address("0000x01:00.0"));  // 12 characters, no domain separator
}

// ---- eal_device_arg -------------------------------------------------------------------------

TEST(EalDeviceArg, AfPacketGainsOneQueuePairPerLcore) {
    EXPECT_EQ(eal_device_arg("net_af_packet0,iface=eth0", 3), "net_af_packet0,iface=eth0,qpairs=3");
    EXPECT_EQ(eal_device_arg("net_af_packet1", 2), "net_af_packet1,qpairs=2");
}

TEST(EalDeviceArg, AfPacketKeepsItsOwnQpairs) {
    EXPECT_EQ(eal_device_arg("net_af_packet0,iface=eth0,qpairs=8", 3),
              "net_af_packet0,iface=eth0,qpairs=8");
}

TEST(EalDeviceArg, OtherDevicesAreUntouched) {
    EXPECT_EQ(eal_device_arg("net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap", 2),
              "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap");
    EXPECT_EQ(eal_device_arg("net_null0", 2), "net_null0");
    EXPECT_EQ(eal_device_arg("net_tap0,iface=dir0", 2), "net_tap0,iface=dir0");
    // The name decides, not a value that happens to contain it.
    EXPECT_EQ(eal_device_arg("net_pcap0,iface=net_af_packet", 2), "net_pcap0,iface=net_af_packet");
}

// ---- eal_args -------------------------------------------------------------------------------

TEST(EalArgs, ProgramNameFirst) {
    const Args a = eal_args(with_ports({port("p", "net_null0")}), "/usr/sbin/director");
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a[0], "/usr/sbin/director");
}

TEST(EalArgs, HugepagesRunInMemory) {
    config::Config c = with_ports({port("p", "0000:01:00.0")});
    c.dpdk.hugepages = true;
    c.dpdk.memory_mb = 2048;
    const Args a = eal_args(c, "director");
    EXPECT_TRUE(has(a, "--in-memory")) << joined(a);
    EXPECT_FALSE(has(a, "--no-huge")) << joined(a);
    EXPECT_FALSE(has(a, "--no-shconf")) << joined(a);
}

TEST(EalArgs, NoHugepagesGivesNoHugeWithMemoryAndNoSharedConfig) {
    config::Config c = with_ports({port("p", "net_null0")});
    c.dpdk.hugepages = false;
    c.dpdk.memory_mb = 256;
    const Args a = eal_args(c, "director");
    EXPECT_TRUE(has(a, "--no-huge")) << joined(a);
    EXPECT_EQ(after(a, "-m"), "256") << joined(a);
    EXPECT_TRUE(has(a, "--no-shconf")) << joined(a);
    EXPECT_FALSE(has(a, "--in-memory")) << joined(a);
}

TEST(EalArgs, LcoresListControlThenWorkersAndMainLcore) {
    config::Config c = with_ports({port("p", "net_null0")});
    c.dpdk.control_lcore = 2;
    c.dpdk.worker_lcores = {4, 5, 7};
    const Args a = eal_args(c, "director");
    EXPECT_EQ(after(a, "-l"), "2,4,5,7") << joined(a);
    EXPECT_EQ(after(a, "--main-lcore"), "2") << joined(a);
}

TEST(EalArgs, FilePrefix) {
    config::Config c = with_ports({port("p", "net_null0")});
    c.dpdk.file_prefix = "director-ds2";
    EXPECT_EQ(after(eal_args(c, "director"), "--file-prefix"), "director-ds2");
}

TEST(EalArgs, PciDeviceIsAllowListedAndPciScanKept) {
    const Args a = eal_args(with_ports({port("lan0", "0000:01:00.0")}), "director");
    EXPECT_EQ(all_after(a, "-a"), Args{"0000:01:00.0"}) << joined(a);
    EXPECT_FALSE(has(a, "--no-pci")) << joined(a);
    EXPECT_TRUE(all_after(a, "--vdev").empty()) << joined(a);
}

TEST(EalArgs, PciDeviceWithDeviceArgumentsIsStillAPciDevice) {
    // mlx5 and others take devargs after the address: "-a 0000:01:00.0,rxq_cqe_comp_en=0".
    const Args a =
        eal_args(with_ports({port("lan0", "0000:01:00.0,rxq_cqe_comp_en=0")}), "director");
    EXPECT_EQ(all_after(a, "-a"), Args{"0000:01:00.0,rxq_cqe_comp_en=0"}) << joined(a);
    EXPECT_TRUE(all_after(a, "--vdev").empty()) << joined(a);
    EXPECT_FALSE(has(a, "--no-pci")) << joined(a);
}

TEST(EalArgs, VdevOnlyDisablesPciScan) {
    const Args a = eal_args(
        with_ports({port("p0", "net_pcap0,rx_pcap=in.pcap"), port("p1", "net_null0")}), "director");
    EXPECT_EQ(all_after(a, "--vdev"), (Args{"net_pcap0,rx_pcap=in.pcap", "net_null0"}))
        << joined(a);
    EXPECT_TRUE(has(a, "--no-pci")) << joined(a);
    EXPECT_TRUE(all_after(a, "-a").empty()) << joined(a);
}

TEST(EalArgs, MixedPciAndVdev) {
    const Args a = eal_args(
        with_ports({port("lan0", "0000:01:00.0"), port("lan1", "net_af_packet0,iface=veth1")}),
        "director");
    EXPECT_EQ(all_after(a, "-a"), Args{"0000:01:00.0"}) << joined(a);
    ASSERT_EQ(all_after(a, "--vdev").size(), 1u) << joined(a);
    EXPECT_FALSE(has(a, "--no-pci")) << joined(a);
}

TEST(EalArgs, AfPacketGetsWorkersPlusOneQueuePairs) {
    config::Config c = with_ports({port("eth0", "net_af_packet0,iface=eth0")});
    c.dpdk.worker_lcores = {1, 2, 3};
    EXPECT_EQ(all_after(eal_args(c, "director"), "--vdev"),
              Args{"net_af_packet0,iface=eth0,qpairs=4"});
    c.dpdk.worker_lcores = {1};
    EXPECT_EQ(all_after(eal_args(c, "director"), "--vdev"),
              Args{"net_af_packet0,iface=eth0,qpairs=2"});
}

TEST(EalArgs, AfPacketWithQpairsIsLeftAlone) {
    config::Config c = with_ports({port("eth0", "net_af_packet0,iface=eth0,qpairs=6")});
    c.dpdk.worker_lcores = {1, 2};
    EXPECT_EQ(all_after(eal_args(c, "director"), "--vdev"),
              Args{"net_af_packet0,iface=eth0,qpairs=6"});
}

TEST(EalArgs, ExtraEalArgsAreAppendedVerbatimAndLast) {
    config::Config c = with_ports({port("p", "net_null0")});
    c.dpdk.eal_args = {"--no-telemetry", "--log-level=pmd.net.af_packet:debug", "-n", "4"};
    const Args a = eal_args(c, "director");
    ASSERT_GE(a.size(), 4u);
    EXPECT_EQ(Args(a.end() - 4, a.end()), c.dpdk.eal_args) << joined(a);
}

TEST(EalArgs, LogLevelQuietensDpdkUnlessDebug) {
    config::Config c = with_ports({port("p", "net_null0")});
    c.global.log_level = config::LogLevel::Info;
    Args a = eal_args(c, "director");
    EXPECT_TRUE(has(a, "--log-level=lib.*:warning")) << joined(a);
    EXPECT_TRUE(has(a, "--log-level=pmd.*:warning")) << joined(a);
    c.global.log_level = config::LogLevel::Error;
    a = eal_args(c, "director");
    EXPECT_TRUE(has(a, "--log-level=lib.*:warning")) << joined(a);
    c.global.log_level = config::LogLevel::Debug;
    a = eal_args(c, "director");
    for (const auto& x : a) {
        EXPECT_EQ(x.rfind("--log-level", 0), std::string::npos) << joined(a);
    }
}

TEST(EalArgs, UserLogLevelComesAfterOurs) {
    // dpdk.eal_args come last, so a --log-level there is applied after our defaults.
    config::Config c = with_ports({port("p", "net_null0")});
    c.dpdk.eal_args = {"--log-level=pmd.*:debug"};
    const Args a = eal_args(c, "director");
    const auto ours = std::find(a.begin(), a.end(), "--log-level=pmd.*:warning");
    const auto theirs = std::find(a.begin(), a.end(), "--log-level=pmd.*:debug");
    ASSERT_NE(ours, a.end());
    ASSERT_NE(theirs, a.end());
    EXPECT_LT(ours, theirs);
}

TEST(EalArgs, LabConfigurationGivesTheExpectedVector) {
    // config/lab/ds1.yaml, field by field.
    config::Config c = with_ports({port("eth0", "net_af_packet0,iface=eth0")});
    c.dpdk.control_lcore = 0;
    c.dpdk.worker_lcores = {1};
    c.dpdk.hugepages = false;
    c.dpdk.memory_mb = 256;
    c.dpdk.file_prefix = "director-lab-ds1";
    c.dpdk.eal_args = {"--no-telemetry"};
    const Args expected = {"director",
                           "-l",
                           "0,1",
                           "--main-lcore",
                           "0",
                           "--file-prefix",
                           "director-lab-ds1",
                           "--no-huge",
                           "-m",
                           "256",
                           "--no-shconf",
                           "--vdev",
                           "net_af_packet0,iface=eth0,qpairs=2",
                           "--no-pci",
                           "--log-level=lib.*:warning",
                           "--log-level=pmd.*:warning",
                           "--no-telemetry"};
    EXPECT_EQ(eal_args(c, "director"), expected);
}

}  // namespace
}  // namespace director::ctl
