// SPDX-License-Identifier: BSD-3-Clause
// IPVS semantics of the worker (shared/reference/keepalived.md §3): connection affinity,
// persistence templates, weight 0 versus removal (expire_nodest_conn), sloppy_tcp, RST, ICMP
// errors for PMTU discovery, reals whose MAC is unknown, and a full connection table. Each test
// drives the real Worker::process_burst through the harness and names where each frame went
// ("RS1", "drop", ...), republishing snapshots between bursts as the control plane would.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "net/flow.h"
#include "net/parse.h"
#include "unit/dataplane/harness.h"

namespace director::dptest {
namespace {

using test::kTcpAck;
using test::kTcpFin;
using test::kTcpPsh;
using test::kTcpRst;
using test::kTcpSyn;

constexpr std::string_view kClient2 = "10.99.0.20";
constexpr std::string_view kClient3 = "10.99.0.30";

class Ipvs : public DataplaneTest {
protected:
    /** A director whose services are made by `make(port_id)` (reals transmit on its port). */
    template <class Make>
    std::unique_ptr<Director> director(Make make, DirectorOptions opt = {}) {
        auto d = Director::create({}, opt);
        if (d && !d->publish(make(d->port_id()))) {
            return nullptr;
        }
        return d;
    }
};

/** VIP:80/tcp, rr, service id 1. */
lb::ServiceSpec rr_service(std::vector<lb::RealSpec> reals, uint32_t persistence_s = 0) {
    lb::ServiceSpec s = service(kVip, 80, std::move(reals), 1);
    s.persistence_timeout_s = persistence_s;
    return s;
}

lb::RealSpec drained(lb::RealSpec r) {
    r.last_weight = r.weight;
    r.weight = 0;
    return r;
}

lb::RealSpec without_mac(lb::RealSpec r) {
    r.mac.reset();
    return r;
}

/**
 * Fills a 4-slot table (one bucket) with four ESTABLISHED connections of kClient, which no
 * insert may evict: every new flow after this is untracked.
 */
void fill_with_established(Director& d) {
    for (uint16_t sport = 10000; sport < 10004; ++sport) {
        ASSERT_NE(d.route(syn(kClient, sport)), "drop");
        ASSERT_NE(d.route(ack(kClient, sport)), "drop");
    }
    ASSERT_EQ(d.worker().conn_table().size(), 4u);
}

/**
 * Twelve new flows of kClient2 through a full table: the SYN, four ACKs and the FIN of each
 * must reach one real. Returns the reals the flows went to.
 */
std::set<std::string> untracked_flows_stay_together(Director& d) {
    std::set<std::string> used;
    for (uint16_t sport = 11000; sport < 11012; ++sport) {
        const std::string first = d.route(syn(kClient2, sport));
        EXPECT_NE(first, "drop");
        used.insert(first);
        for (int i = 0; i < 4; ++i) {
            EXPECT_EQ(d.route(ack(kClient2, sport)), first) << "untracked flow dropped or moved";
        }
        EXPECT_EQ(d.route(tcp(kClient2, sport, kTcpFin | kTcpAck)), first);
    }
    return used;
}

// ---- connection affinity -------------------------------------------------------------------

TEST_F(Ipvs, EveryPacketOfAConnectionGoesToOneReal) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p), real(kRs3, p)})};
    });
    ASSERT_TRUE(d);
    std::map<uint16_t, std::string> chosen;
    for (uint16_t sport = 41000; sport < 41009; ++sport) {
        chosen[sport] = d->route(syn(kClient, sport));
    }
    // rr walks the list: RS1 RS2 RS3 RS1 ...
    EXPECT_EQ(chosen[41000], "RS1");
    EXPECT_EQ(chosen[41001], "RS2");
    EXPECT_EQ(chosen[41002], "RS3");
    EXPECT_EQ(chosen[41003], "RS1");
    for (uint8_t flags :
         {kTcpAck, uint8_t(kTcpAck | kTcpPsh), kTcpAck, uint8_t(kTcpFin | kTcpAck)}) {
        for (uint16_t sport = 41008; sport >= 41000; --sport) {
            EXPECT_EQ(d->route(tcp(kClient, sport, flags)), chosen[sport]) << "port " << sport;
        }
    }
    EXPECT_EQ(d->counter("conn_new"), 9u);
    EXPECT_EQ(d->counter("conn_hit"), 36u);
    EXPECT_EQ(d->counter("forwarded"), 45u);
}

TEST_F(Ipvs, EveryDatagramOfAUdpFlowGoesToOneReal) {
    auto d = director([](uint16_t p) {
        return std::vector{service(kVip, 53, {real(kRs1, p), real(kRs2, p)}, 1, lb::Protocol::Udp)};
    });
    ASSERT_TRUE(d);
    std::map<uint16_t, std::string> chosen;
    for (uint16_t sport = 5000; sport < 5006; ++sport) {
        chosen[sport] = d->route(udp(kClient, sport));
    }
    EXPECT_NE(chosen[5000], chosen[5001]);
    for (int round = 0; round < 3; ++round) {
        for (uint16_t sport = 5000; sport < 5006; ++sport) {
            EXPECT_EQ(d->route(udp(kClient, sport)), chosen[sport]);
        }
    }
    EXPECT_EQ(d->counter("conn_new"), 6u);
    EXPECT_EQ(d->counter("conn_hit"), 18u);
}

// ---- persistence ---------------------------------------------------------------------------

TEST_F(Ipvs, PersistenceSendsAClientsNewConnectionsToItsReal) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p)}, 50)};
    });
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route(syn(kClient, 1000)), "RS1");   // scheduled, template created
    EXPECT_EQ(d->route(syn(kClient, 1001)), "RS1");   // same client, new port: template
    EXPECT_EQ(d->route(syn(kClient2, 1000)), "RS2");  // new client: rr moves on
    EXPECT_EQ(d->route(syn(kClient3, 1000)), "RS1");  // rr alternates between clients
    EXPECT_EQ(d->route(syn(kClient2, 1001)), "RS2");
    EXPECT_EQ(d->route(syn(kClient, 1002)), "RS1");
    EXPECT_EQ(d->counter("persist_new"), 3u);
    EXPECT_EQ(d->counter("persist_hit"), 3u);

    // Without persistence the same sequence alternates per connection.
    auto plain = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
        },
        DirectorOptions{.index = 1});
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->route(syn(kClient, 1000)), "RS1");
    EXPECT_EQ(plain->route(syn(kClient, 1001)), "RS2");
}

TEST_F(Ipvs, PersistenceTemplateExpiresAfterTimeoutAndConnections) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p)}, 50)};
    });
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route(syn(kClient, 1000)), "RS1");
    EXPECT_EQ(d->route(syn(kClient2, 1000)), "RS2");
    // 40 s later the template still holds.
    EXPECT_EQ(d->route(syn(kClient, 1001), kNow + 40), "RS1");
    // Long after kClient2's template (50 s) and its connection (SYN_RECV, 60 s) expired, its
    // next connection is scheduled afresh: rr's next choice after RS2 is RS1.
    EXPECT_EQ(d->route(syn(kClient2, 1001), kNow + 1000), "RS1");
    EXPECT_EQ(d->counter("persist_new"), 3u);
}

TEST_F(Ipvs, PersistenceGranularityGroupsAPrefix) {
    auto d = director([](uint16_t p) {
        lb::ServiceSpec s = rr_service({real(kRs1, p), real(kRs2, p)}, 300);
        s.persistence_prefix_len = 24;
        return std::vector{s};
    });
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route(syn("10.99.0.10", 1000)), "RS1");
    EXPECT_EQ(d->route(syn("10.99.0.11", 1000)), "RS1");  // same /24
    EXPECT_EQ(d->route(syn("10.98.0.10", 1000)), "RS2");  // other /24
    EXPECT_EQ(d->route(syn("10.99.0.200", 2000)), "RS1");
}

TEST_F(Ipvs, LiveConnectionKeepsItsClientsTemplatePastTheTimeout) {
    // persistence_timeout is the template's idle time; a connection of the client that is
    // still alive holds it (ip_vs_conn.c: a template expires only when no connection points
    // to it). The ACKs below take the worker's fast lane, which reads the client address
    // from the frame for the hold: tagged and untagged, and with /24 granularity so that a
    // hold under the wrong client key would leave the /24's template to expire.
    for (const bool vlan : {false, true}) {
        SCOPED_TRACE(vlan ? "802.1Q" : "untagged");
        auto d = director(
            [](uint16_t p) {
                lb::ServiceSpec s = rr_service({real(kRs1, p), real(kRs2, p)}, 50);
                s.persistence_prefix_len = 24;
                return std::vector{s};
            },
            DirectorOptions{.index = vlan ? 1u : 0u});
        ASSERT_TRUE(d);
        auto frame = [vlan](std::string_view client, uint16_t sport, uint8_t flags) {
            PacketBuilder b;
            b.eth(kClientMac, kPortMac);
            if (vlan) {
                b.vlan(100);
            }
            return b.ipv4(client, kVip).tcp(sport, 80).flags(flags).payload_size(6).build();
        };
        EXPECT_EQ(d->route(frame("10.99.0.10", 1000, kTcpSyn)), "RS1");
        EXPECT_EQ(d->route(frame("10.98.0.10", 1000, kTcpSyn)), "RS2");
        EXPECT_EQ(d->route(frame("10.97.0.10", 1000, kTcpSyn)), "RS1");  // rr's next: RS2
        // 10.99.0.10's connection lives on: ACKs every 30 s, each past the previous one's
        // template period, up to well beyond the template's 50 s and SYN_RECV's 60 s.
        for (uint32_t t = 0; t <= 120; t += 30) {
            EXPECT_EQ(d->route(frame("10.99.0.10", 1000, kTcpAck), kNow + t), "RS1");
        }
        // Another client of the /24 follows the held template, not rr (which would say RS2).
        EXPECT_EQ(d->route(frame("10.99.0.11", 2000, kTcpSyn), kNow + 150), "RS1");
        EXPECT_EQ(d->counter("persist_hit"), 1u);
        EXPECT_EQ(d->counter("conn_hit"), 5u);  // the ACKs
        // Past what the handshake's hold covered (the connection's first 900 s): only the
        // holds of the ESTABLISHED connection's ACKs, which keep its state, keep the template.
        for (uint32_t t = 400; t <= 1300; t += 300) {
            EXPECT_EQ(d->route(frame("10.99.0.10", 1000, kTcpAck), kNow + t), "RS1");
        }
        EXPECT_EQ(d->route(frame("10.99.0.12", 3000, kTcpSyn), kNow + 1400), "RS1");
        EXPECT_EQ(d->counter("persist_hit"), 2u);
        EXPECT_EQ(d->counter("conn_hit"), 9u);
    }
}

TEST_F(Ipvs, AllPortsServiceTakesThePortsWithoutAServiceOfTheirOwn) {
    // keepalived's `virtual_server VIP 0` with persistence (IPVS port 0): one service for every
    // port of the VIP that has no service of its own. A client's connections to any of those
    // ports follow its template, in their first packets and in the packets after them.
    auto d = director([](uint16_t p) {
        lb::ServiceSpec all = service(kVip, 0, {real(kRs1, p), real(kRs2, p)}, 2);
        all.persistence_timeout_s = 300;
        return std::vector{rr_service({real(kRs3, p)}), all};  // VIP:80 has its own: RS3
    });
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route(syn(kClient, 1000, kVip, 443)), "RS1");    // port 0: rr, template
    EXPECT_EQ(d->route(syn(kClient, 1001, kVip, 8080)), "RS1");   // the client's template
    EXPECT_EQ(d->route(syn(kClient2, 1000, kVip, 22)), "RS2");    // another client: rr
    EXPECT_EQ(d->route(syn(kClient, 1002, kVip, 80)), "RS3");     // VIP:80's own service
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(d->route(ack(kClient, 1000, kVip, 443)), "RS1");
        EXPECT_EQ(d->route(ack(kClient, 1001, kVip, 8080)), "RS1");
        EXPECT_EQ(d->route(ack(kClient2, 1000, kVip, 22)), "RS2");
        EXPECT_EQ(d->route(ack(kClient, 1002, kVip, 80)), "RS3");
    }
    // The same burst, all four flows: each packet finds its own service.
    const Output out = d->send({ack(kClient, 1000, kVip, 443), ack(kClient, 1002, kVip, 80),
                                ack(kClient2, 1000, kVip, 22), ack(kClient, 1001, kVip, 8080)});
    std::vector<std::string> reals;
    for (const Bytes& f : out.tx) {
        reals.push_back(real_name(f.data()).value_or("?"));
    }
    EXPECT_EQ(reals, (std::vector<std::string>{"RS1", "RS3", "RS2", "RS1"}));
    EXPECT_EQ(d->route(udp(kClient, 1000, kVip, 443)), "drop");  // the service is TCP
    EXPECT_EQ(d->counter("conn_new"), 4u);
    EXPECT_EQ(d->counter("persist_new"), 2u);
    EXPECT_EQ(d->counter("persist_hit"), 1u);
    EXPECT_EQ(d->counter("conn_hit"), 16u);
    EXPECT_EQ(d->counter("drop_not_service"), 1u);
}

// ---- weight 0 (drain) -----------------------------------------------------------------------

TEST_F(Ipvs, WeightZeroKeepsExistingConnectionsAndTakesNoNewOnes) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
    });
    ASSERT_TRUE(d);
    const uint16_t p = d->port_id();
    ASSERT_EQ(d->route(syn(kClient, 2000)), "RS1");
    ASSERT_EQ(d->route(syn(kClient, 2001)), "RS2");
    ASSERT_EQ(d->route(ack(kClient, 2000)), "RS1");

    ASSERT_TRUE(d->publish({rr_service({drained(real(kRs1, p)), real(kRs2, p)})}));
    for (uint16_t sport = 2100; sport < 2110; ++sport) {
        EXPECT_EQ(d->route(syn(kClient, sport)), "RS2") << "new connection to a drained real";
        EXPECT_EQ(d->route(ack(kClient, 2000)), "RS1") << "existing connection must keep flowing";
    }
    EXPECT_EQ(d->route(tcp(kClient, 2000, kTcpFin | kTcpAck)), "RS1");
    EXPECT_EQ(d->counter("drop_no_real") + d->counter("drop_nodest"), 0u);

    // Back to weight 1: rr offers it new connections again.
    ASSERT_TRUE(d->publish({rr_service({real(kRs1, p), real(kRs2, p)})}));
    std::set<std::string> seen;
    for (uint16_t sport = 2200; sport < 2204; ++sport) {
        seen.insert(d->route(syn(kClient, sport)));
    }
    EXPECT_EQ(seen, (std::set<std::string>{"RS1", "RS2"}));
}

TEST_F(Ipvs, PersistentClientFollowsTemplateToDrainedReal) {
    // keepalived.md §3.3: with expire_quiescent_template=0 a persisted client keeps going to a
    // weight-0 real until its template expires; with 1 it is rescheduled.
    for (const bool expire_quiescent : {false, true}) {
        SCOPED_TRACE(expire_quiescent ? "expire_quiescent_template=1" : "=0");
        DirectorOptions opt;
        opt.policy.expire_quiescent_template = expire_quiescent;
        auto d = director(
            [](uint16_t p) {
                return std::vector{rr_service({real(kRs1, p), real(kRs2, p)}, 300)};
            },
            opt);
        ASSERT_TRUE(d);
        const uint16_t p = d->port_id();
        ASSERT_EQ(d->route(syn(kClient, 3000)), "RS1");
        ASSERT_TRUE(d->publish({rr_service({drained(real(kRs1, p)), real(kRs2, p)}, 300)}));
        EXPECT_EQ(d->route(syn(kClient, 3001)), expire_quiescent ? "RS2" : "RS1");
        EXPECT_EQ(d->route(syn(kClient2, 3000)), "RS2");
        EXPECT_EQ(d->route(ack(kClient, 3000)), "RS1") << "the first connection keeps its real";
    }
}

// ---- real removed (or down) -----------------------------------------------------------------

TEST_F(Ipvs, RemovedRealWithExpireNodestReschedulesItsConnections) {
    DirectorOptions opt;
    opt.policy.expire_nodest_conn = true;
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
        },
        opt);
    ASSERT_TRUE(d);
    const uint16_t p = d->port_id();
    ASSERT_EQ(d->route(syn(kClient, 4000)), "RS1");
    ASSERT_EQ(d->route(syn(kClient, 4001)), "RS2");
    ASSERT_EQ(d->route(syn(kClient, 4002)), "RS1");

    ASSERT_TRUE(d->publish({rr_service({real(kRs2, p)})}));  // RS1 removed
    EXPECT_EQ(d->route(ack(kClient, 4000)), "RS2");
    EXPECT_EQ(d->counter("conn_rescheduled"), 1u);
    EXPECT_EQ(d->route(ack(kClient, 4000)), "RS2") << "the rescheduled entry now holds RS2";
    EXPECT_EQ(d->counter("conn_rescheduled"), 1u);
    EXPECT_EQ(d->route(syn(kClient, 4002)), "RS2") << "a SYN reusing the tuple is rescheduled";
    EXPECT_EQ(d->counter("conn_rescheduled"), 2u);
    EXPECT_EQ(d->route(ack(kClient, 4001)), "RS2");
    EXPECT_EQ(d->counter("drop_nodest"), 0u);
    EXPECT_EQ(d->counter("conn_hit"), 2u);
}

TEST_F(Ipvs, RemovedRealWithoutExpireNodestDropsUntilItReturns) {
    DirectorOptions opt;
    opt.policy.expire_nodest_conn = false;
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
        },
        opt);
    ASSERT_TRUE(d);
    const uint16_t p = d->port_id();
    ASSERT_EQ(d->route(syn(kClient, 4100)), "RS1");
    ASSERT_EQ(d->route(syn(kClient, 4101)), "RS2");

    ASSERT_TRUE(d->publish({rr_service({real(kRs2, p)})}));  // RS1 removed
    EXPECT_EQ(d->route(ack(kClient, 4100)), "drop");
    EXPECT_EQ(d->route(ack(kClient, 4100)), "drop");
    EXPECT_EQ(d->counter("drop_nodest"), 2u);
    EXPECT_EQ(d->route(ack(kClient, 4101)), "RS2") << "other connections are unaffected";
    EXPECT_EQ(d->route(syn(kClient, 4102)), "RS2");

    // A failed health check (state Down) counts as deleted too.
    ASSERT_TRUE(d->publish({rr_service({[&] {
                                            auto r = real(kRs1, p);
                                            r.state = lb::RealState::Down;
                                            return r;
                                        }(),
                                        real(kRs2, p)})}));
    EXPECT_EQ(d->route(ack(kClient, 4100)), "drop");
    EXPECT_EQ(d->counter("drop_nodest"), 3u);

    // The entry was kept, so re-adding the real resumes the connection (IPVS §3.5).
    ASSERT_TRUE(d->publish({rr_service({real(kRs1, p), real(kRs2, p)})}));
    EXPECT_EQ(d->route(ack(kClient, 4100)), "RS1");
    EXPECT_EQ(d->counter("conn_rescheduled"), 0u);
}

// ---- TCP without a connection: sloppy_tcp, RST -------------------------------------------------

TEST_F(Ipvs, SloppyTcpForwardsMidFlowPacketsByConsistentHashOnEveryDirector) {
    auto make = [](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p), real(kRs3, p)})};
    };
    auto a = director(make, DirectorOptions{.index = 0});
    auto b = director(make, DirectorOptions{.index = 1});
    ASSERT_TRUE(a && b);
    // Give b a different history: its rr cursor and table differ from a's.
    for (uint16_t sport = 100; sport < 107; ++sport) {
        b->route(syn(kClient2, sport));
    }
    std::set<std::string> used;
    for (uint16_t sport = 6000; sport < 6064; ++sport) {
        const std::string on_a = a->route(ack(kClient, sport));
        ASSERT_NE(on_a, "drop");
        EXPECT_EQ(b->route(ack(kClient, sport)), on_a) << "directors disagree on port " << sport;
        EXPECT_EQ(a->route(tcp(kClient, sport, kTcpAck | kTcpPsh)), on_a) << "flow moved";
        used.insert(on_a);
    }
    EXPECT_EQ(used.size(), 3u) << "the consistent hash should spread flows over all reals";
    EXPECT_EQ(a->counter("conn_sloppy"), 64u);
    EXPECT_EQ(a->counter("conn_hit"), 64u) << "the sloppy packet creates the connection";
    EXPECT_EQ(b->counter("conn_sloppy"), 64u);
}

TEST_F(Ipvs, WithoutSloppyTcpMidFlowPacketsWithoutConnectionAreDropped) {
    DirectorOptions opt;
    opt.policy.sloppy_tcp = false;
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
        },
        opt);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route(ack(kClient, 7000)), "drop");
    EXPECT_EQ(d->route(tcp(kClient, 7000, kTcpFin | kTcpAck)), "drop");
    EXPECT_EQ(d->counter("drop_tcp_no_conn"), 2u);
    EXPECT_EQ(d->worker().conn_table().size(), 0u);
    EXPECT_EQ(d->route(syn(kClient, 7000)), "RS1");
    EXPECT_EQ(d->route(ack(kClient, 7000)), "RS1");
    EXPECT_EQ(d->counter("drop_tcp_no_conn"), 2u);
}

TEST_F(Ipvs, RstWithoutConnectionCreatesNone) {
    for (const bool sloppy : {true, false}) {
        SCOPED_TRACE(sloppy ? "sloppy_tcp=1" : "sloppy_tcp=0");
        DirectorOptions opt;
        opt.policy.sloppy_tcp = sloppy;
        auto d = director(
            [](uint16_t p) {
                return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
            },
            opt);
        ASSERT_TRUE(d);
        const std::string first = d->route(tcp(kClient, 7100, kTcpRst));
        const std::string second = d->route(tcp(kClient, 7100, kTcpRst | kTcpAck));
        EXPECT_EQ(d->worker().conn_table().size(), 0u);
        EXPECT_EQ(d->counter("conn_new"), 0u);
        if (sloppy) {
            EXPECT_NE(first, "drop");
            EXPECT_EQ(second, first);
            EXPECT_EQ(d->counter("conn_sloppy"), 2u) << "each RST found no entry";
        } else {
            EXPECT_EQ(first, "drop");
            EXPECT_EQ(second, "drop");
            EXPECT_EQ(d->counter("drop_tcp_no_conn"), 2u);
        }
        // A SYN+RST is no SYN either.
        d->route(tcp(kClient, 7101, kTcpSyn | kTcpRst));
        EXPECT_EQ(d->worker().conn_table().size(), 0u);
    }
}

// ---- ICMP errors (PMTU discovery) ------------------------------------------------------------

Bytes frag_needed_for(std::string_view client, uint16_t client_port) {
    const Bytes reply = PacketBuilder()
                            .ipv4(kVip, client)
                            .tcp(80, client_port)
                            .flags(kTcpAck)
                            .payload_size(64)
                            .build();
    return PacketBuilder()
        .eth(kRouterMac, kPortMac)
        .ipv4("10.99.0.1", kVip)
        .frag_needed(1400)
        .quoting(reply, 28)
        .build();
}

TEST_F(Ipvs, IcmpFragNeededFollowsTheQuotedConnection) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p)}),
                           service(kVip6, 80, {real(kRs1, p, 1, true), real(kRs2, p, 1, true)}, 2)};
    });
    ASSERT_TRUE(d);
    const uint16_t p = d->port_id();
    ASSERT_EQ(d->route(syn(kClient, 8000)), "RS1");
    ASSERT_EQ(d->route(syn(kClient, 8001)), "RS2");

    const Bytes err = frag_needed_for(kClient, 8001);
    const Output out = d->send({err});
    ASSERT_EQ(out.tx.size(), 1u);
    EXPECT_EQ(real_name(out.tx[0].data()).value_or("?"), "RS2");
    EXPECT_TRUE(std::equal(out.tx[0].begin() + 12, out.tx[0].end(), err.begin() + 12));
    EXPECT_EQ(d->route(frag_needed_for(kClient, 8000)), "RS1");
    EXPECT_EQ(d->counter("icmp_error_forwarded"), 2u);

    // IPv6: packet too big quoting VIP6:80 -> client.
    ASSERT_EQ(d->route(syn(kClient6, 8100, kVip6)), "RS1");
    ASSERT_EQ(d->route(syn(kClient6, 8101, kVip6)), "RS2");
    const Bytes reply6 =
        PacketBuilder().ipv6(kVip6, kClient6).tcp(80, 8101).flags(kTcpAck).payload_size(64).build();
    EXPECT_EQ(d->route(PacketBuilder()
                           .eth(kRouterMac, kPortMac)
                           .ipv6("2001:db8::1", kVip6)
                           .packet_too_big(1280)
                           .quoting(reply6)
                           .build()),
              "RS2");
    EXPECT_EQ(d->counter("icmp_error_forwarded"), 3u);

    // The connection's real removed: nothing to forward to.
    ASSERT_TRUE(d->publish({rr_service({real(kRs1, p)})}));
    EXPECT_EQ(d->route(frag_needed_for(kClient, 8001)), "drop");
    EXPECT_EQ(d->counter("drop_nodest"), 1u);
}

// ---- reals without a MAC ---------------------------------------------------------------------

TEST_F(Ipvs, RealWithoutMacGetsNoNewConnections) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({without_mac(real(kRs1, p)), real(kRs2, p)}),
                           service(kVip, 81, {without_mac(real(kRs3, p))}, 2)};
    });
    ASSERT_TRUE(d);
    for (uint16_t sport = 9000; sport < 9006; ++sport) {
        EXPECT_EQ(d->route(syn(kClient, sport)), "RS2");
    }
    // The only real of VIP:81 has no MAC: nothing can take the flow.
    EXPECT_EQ(d->route(syn(kClient, 9100, kVip, 81)), "drop");
    EXPECT_EQ(d->route(ack(kClient, 9101, kVip, 81)), "drop");
    EXPECT_EQ(d->counter("drop_no_real"), 2u);
    EXPECT_EQ(d->counter("drop_real_no_mac"), 0u);
}

TEST_F(Ipvs, TrackedRealLosingItsMacAsksTheControlLcoreToResolve) {
    auto d = director([](uint16_t p) {
        return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
    });
    ASSERT_TRUE(d);
    const uint16_t p = d->port_id();
    ASSERT_EQ(d->route(syn(kClient, 9200)), "RS1");
    EXPECT_TRUE(d->drain_resolve().empty());

    ASSERT_TRUE(d->publish({rr_service({without_mac(real(kRs1, p)), real(kRs2, p)})}));
    EXPECT_EQ(d->route(ack(kClient, 9200)), "drop");
    EXPECT_EQ(d->counter("drop_real_no_mac"), 1u);
    EXPECT_EQ(d->counter("resolve_requests"), 1u);
    EXPECT_EQ(d->drain_resolve(), (std::vector<uint32_t>{kRs1.id}));
    EXPECT_EQ(d->route(syn(kClient, 9201)), "RS2") << "new connections avoid it";

    // Resolved again: the connection resumes on its real.
    ASSERT_TRUE(d->publish({rr_service({real(kRs1, p), real(kRs2, p)})}));
    EXPECT_EQ(d->route(ack(kClient, 9200)), "RS1");
}

// ---- full connection table -------------------------------------------------------------------

TEST_F(Ipvs, FullConnectionTableStillForwardsAndKeepsFlowsTogether) {
    DirectorOptions opt;
    opt.conn_capacity = 4;  // one bucket of four entries
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p), real(kRs3, p)}),
                               service(kVip, 53, {real(kRs1, p), real(kRs2, p), real(kRs3, p)}, 2,
                                       lb::Protocol::Udp)};
        },
        opt);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->worker().conn_table().capacity(), 4u);
    // Four established connections fill the only bucket; established entries are never evicted.
    ASSERT_NO_FATAL_FAILURE(fill_with_established(*d));

    const std::set<std::string> used = untracked_flows_stay_together(*d);
    // Counted per packet: the SYN and every later packet find the bucket full.
    EXPECT_EQ(d->counter("conn_untracked"), 12u * 6);
    EXPECT_GE(used.size(), 2u);

    // UDP flows (never evicted either) behave the same: every datagram to one real.
    for (uint16_t sport = 12000; sport < 12008; ++sport) {
        const std::string first = d->route(udp(kClient3, sport));
        ASSERT_NE(first, "drop");
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(d->route(udp(kClient3, sport)), first);
        }
    }
    EXPECT_EQ(d->counter("conn_untracked"), 12u * 6 + 8 * 4);
    EXPECT_EQ(d->counter("drop_no_real") + d->counter("drop_tcp_no_conn"), 0u);
}

TEST_F(Ipvs, WithoutSloppyTcpUntrackedFlowsOfAFullTableAreNotDropped) {
    // sloppy_tcp off and a full table: the SYN is forwarded untracked by consistent hash (the
    // table cannot hold it), so its later packets, which find no entry and carry no SYN, must
    // follow it instead of meeting the strict drop.
    DirectorOptions opt;
    opt.conn_capacity = 4;  // one bucket of four entries
    opt.policy.sloppy_tcp = false;
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p), real(kRs3, p)})};
        },
        opt);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->worker().conn_table().capacity(), 4u);
    ASSERT_NO_FATAL_FAILURE(fill_with_established(*d));
    const std::set<std::string> used = untracked_flows_stay_together(*d);
    EXPECT_GE(used.size(), 2u);
    EXPECT_EQ(d->counter("drop_tcp_no_conn"), 0u);
    EXPECT_EQ(d->counter("conn_untracked"), 12u * 6);
    EXPECT_EQ(d->counter("conn_sloppy"), 0u) << "strict mode schedules nothing sloppily";
    // The tracked connections are unaffected.
    for (uint16_t sport = 10000; sport < 10004; ++sport) {
        EXPECT_NE(d->route(ack(kClient, sport)), "drop");
    }
    EXPECT_EQ(d->counter("conn_hit"), 4u + 4u);
}

TEST_F(Ipvs, PersistentFlowsOfAFullTableFollowTheirTemplate) {
    // A persistent service whose connection table is full: the SYN is scheduled through the
    // client's template (rr over three reals), and the flow's later packets, which find no
    // connection entry, must reach that same real, not the client's consistent-hash pick.
    DirectorOptions opt;
    opt.conn_capacity = 4;
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p), real(kRs3, p)}, 300)};
        },
        opt);
    ASSERT_TRUE(d);
    ASSERT_NO_FATAL_FAILURE(fill_with_established(*d));
    // New clients, one flow each: rr gives them different reals, so for most of them the
    // consistent-hash pick differs from the template's real.
    const std::string_view clients[] = {"10.99.0.101", "10.99.0.102", "10.99.0.103",
                                         "10.99.0.104", "10.99.0.105", "10.99.0.106"};
    std::set<std::string> used;
    for (const std::string_view c : clients) {
        const std::string first = d->route(syn(c, 12000));
        ASSERT_NE(first, "drop");
        used.insert(first);
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(d->route(ack(c, 12000)), first) << "untracked flow left its template's real";
        }
    }
    EXPECT_EQ(used.size(), 3u) << "rr over the templates";
    EXPECT_EQ(d->counter("conn_untracked"), 6u * 4);
}

TEST_F(Ipvs, WithoutSloppyTcpStrayAcksAreDroppedWhileTheTableHasRoom) {
    // The exception is for flows the table could not hold: a bucket full of half-open entries
    // would have given one up to this flow's SYN, so an ACK without entry is still dropped;
    // and so it is when the bucket has a free way.
    DirectorOptions opt;
    opt.conn_capacity = 4;
    opt.policy.sloppy_tcp = false;
    auto d = director(
        [](uint16_t p) {
            return std::vector{rr_service({real(kRs1, p), real(kRs2, p)})};
        },
        opt);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->route(ack(kClient2, 11500)), "drop") << "empty table";
    for (uint16_t sport = 10000; sport < 10004; ++sport) {
        ASSERT_NE(d->route(syn(kClient, sport)), "drop");  // half-open: evictable
    }
    ASSERT_EQ(d->worker().conn_table().size(), 4u);
    EXPECT_EQ(d->route(ack(kClient2, 11501)), "drop") << "half-open entries make room";
    EXPECT_EQ(d->counter("drop_tcp_no_conn"), 2u);
    EXPECT_EQ(d->counter("conn_untracked"), 0u);
}

TEST_F(Ipvs, UntrackedFlowKeepsItsDrainedReal) {
    // Weight 0 lets existing connections finish (§3.6), also those the full table could not
    // track: their packets must keep reaching the drained real.
    DirectorOptions opt;
    opt.conn_capacity = 4;
    auto reals = [](uint16_t p, const std::string& drain) {
        std::vector<lb::RealSpec> rs;
        for (const LabReal* r : {&kRs1, &kRs2, &kRs3}) {
            rs.push_back(drain == r->name ? drained(real(*r, p)) : real(*r, p));
        }
        return rs;
    };
    auto d = director([&](uint16_t p) { return std::vector{rr_service(reals(p, ""))}; }, opt);
    ASSERT_TRUE(d);
    const uint16_t p = d->port_id();
    for (uint16_t sport = 10000; sport < 10004; ++sport) {
        ASSERT_NE(d->route(syn(kClient, sport)), "drop");
        ASSERT_NE(d->route(ack(kClient, sport)), "drop");
    }
    std::map<uint16_t, std::string> chosen;
    for (uint16_t sport = 13000; sport < 13006; ++sport) {
        chosen[sport] = d->route(syn(kClient2, sport));
        ASSERT_NE(chosen[sport], "drop");
    }
    ASSERT_EQ(d->counter("conn_untracked"), 6u);
    const std::string victim = chosen[13000];
    ASSERT_TRUE(d->publish({rr_service(reals(p, victim))}));
    for (uint16_t sport = 13000; sport < 13006; ++sport) {
        EXPECT_EQ(d->route(ack(kClient2, sport)), chosen[sport])
            << "untracked flow on port " << sport << " moved (drained: " << victim << ")";
    }
}

}  // namespace
}  // namespace director::dptest
