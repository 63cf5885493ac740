// SPDX-License-Identifier: BSD-3-Clause
// TextWriter: exact output for families, labels, escaping, ordering and the dropped cases.
#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace director::metrics {
namespace {

TEST(TextWriter, EmptyWriterGivesEmptyBody) {
    TextWriter w;
    EXPECT_EQ(w.take(), "");
    EXPECT_TRUE(w.errors().empty());
}

TEST(TextWriter, CounterGaugeUntypedExactText) {
    TextWriter w;
    w.family("director_rx_packets", "Packets received", MetricType::Counter);
    w.sample(42);
    w.family("director_up", "1 when running", MetricType::Gauge);
    w.sample(1);
    w.family("director_build", "Build marker", MetricType::Untyped);
    w.sample(0.5);
    EXPECT_EQ(w.take(),
              "# HELP director_build Build marker\n"
              "# TYPE director_build untyped\n"
              "director_build 0.5\n"
              "# HELP director_rx_packets_total Packets received\n"
              "# TYPE director_rx_packets_total counter\n"
              "director_rx_packets_total 42\n"
              "# HELP director_up 1 when running\n"
              "# TYPE director_up gauge\n"
              "director_up 1\n");
    EXPECT_TRUE(w.errors().empty());
}

TEST(TextWriter, CounterNameAlreadyEndingInTotalIsKept) {
    TextWriter w;
    w.family("x_total", "X", MetricType::Counter);
    w.sample(1u);
    EXPECT_EQ(w.take(), "# HELP x_total X\n# TYPE x_total counter\nx_total 1\n");
}

TEST(TextWriter, CounterSuffixAndExplicitTotalAreTheSameFamily) {
    TextWriter w;
    w.family("x", "X", MetricType::Counter);
    w.sample({{"a", "1"}}, 1);
    w.family("x_total", "X", MetricType::Counter);
    w.sample({{"a", "2"}}, 2);
    EXPECT_EQ(w.take(),
              "# HELP x_total X\n# TYPE x_total counter\n"
              "x_total{a=\"1\"} 1\nx_total{a=\"2\"} 2\n");
    EXPECT_TRUE(w.errors().empty());
}

TEST(TextWriter, LabelsKeepCallerOrder) {
    TextWriter w;
    w.family("conns", "Connections", MetricType::Gauge);
    w.sample({{"vip", "10.0.0.1:80"}, {"real", "192.168.1.2:80"}}, 7);
    EXPECT_EQ(w.take(),
              "# HELP conns Connections\n# TYPE conns gauge\n"
              "conns{vip=\"10.0.0.1:80\",real=\"192.168.1.2:80\"} 7\n");
}

TEST(TextWriter, HelpEscapesBackslashAndNewlineButNotQuote) {
    TextWriter w;
    w.family("m", "a \\ b\nc \"q\"", MetricType::Gauge);
    w.sample(1);
    EXPECT_EQ(w.take(), "# HELP m a \\\\ b\\nc \"q\"\n# TYPE m gauge\nm 1\n");
}

TEST(TextWriter, LabelValueEscapesBackslashQuoteAndNewline) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"path", "C:\\dir\\\"x\"\nnext"}}, 1);
    EXPECT_EQ(w.take(),
              "# HELP m M\n# TYPE m gauge\nm{path=\"C:\\\\dir\\\\\\\"x\\\"\\nnext\"} 1\n");
}

TEST(TextWriter, EmptyLabelValueIsWritten) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"a", ""}}, 1);
    EXPECT_EQ(w.take(), "# HELP m M\n# TYPE m gauge\nm{a=\"\"} 1\n");
}

TEST(TextWriter, HelpAndTypeOnceWhenFamilyReopenedAcrossCalls) {
    TextWriter w;
    w.family("rx", "RX", MetricType::Counter);
    w.sample({{"lcore", "1"}}, 10);
    w.family("tx", "TX", MetricType::Counter);
    w.sample({{"lcore", "1"}}, 20);
    w.family("rx", "RX", MetricType::Counter);  // e.g. the next worker's block
    w.sample({{"lcore", "2"}}, 11);
    EXPECT_EQ(w.take(),
              "# HELP rx_total RX\n# TYPE rx_total counter\n"
              "rx_total{lcore=\"1\"} 10\nrx_total{lcore=\"2\"} 11\n"
              "# HELP tx_total TX\n# TYPE tx_total counter\n"
              "tx_total{lcore=\"1\"} 20\n");
    EXPECT_TRUE(w.errors().empty());
}

TEST(TextWriter, OrderIsDeterministicWhateverTheCallOrder) {
    const auto render = [](const std::vector<int>& order) {
        TextWriter w;
        for (const int i : order) {
            w.family(i % 2 == 0 ? "b" : "a", "help", MetricType::Gauge);
            w.sample({{"lcore", std::to_string(i)}}, i);
        }
        return w.take();
    };
    const std::string expected =
        "# HELP a help\n# TYPE a gauge\n"
        "a{lcore=\"1\"} 1\na{lcore=\"3\"} 3\na{lcore=\"11\"} 11\n"
        "# HELP b help\n# TYPE b gauge\n"
        "b{lcore=\"2\"} 2\nb{lcore=\"10\"} 10\n";
    EXPECT_EQ(render({1, 2, 3, 10, 11}), expected);
    EXPECT_EQ(render({11, 10, 3, 2, 1}), expected);
    EXPECT_EQ(render({3, 10, 1, 11, 2}), expected);
}

TEST(TextWriter, SamplesSortNaturallyByLabelValues) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"vip", "10.0.0.10"}}, 3);
    w.sample({{"vip", "10.0.0.9"}}, 2);
    w.sample({{"vip", "10.0.0.100"}}, 4);
    w.sample({{"vip", "9.0.0.1"}}, 1);
    w.sample(0);  // no labels sorts first
    EXPECT_EQ(w.take(),
              "# HELP m M\n# TYPE m gauge\n"
              "m 0\n"
              "m{vip=\"9.0.0.1\"} 1\n"
              "m{vip=\"10.0.0.9\"} 2\n"
              "m{vip=\"10.0.0.10\"} 3\n"
              "m{vip=\"10.0.0.100\"} 4\n");
}

TEST(TextWriter, IntegersAreExactDoublesShortestRoundTrip) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"k", "a"}}, std::numeric_limits<uint64_t>::max());
    w.sample({{"k", "b"}}, int64_t{-5});
    w.sample({{"k", "c"}}, 0.1);
    w.sample({{"k", "d"}}, 1e20);
    w.sample({{"k", "e"}}, 2.0);
    w.sample({{"k", "f"}}, -0.0);
    w.sample({{"k", "g"}}, true);
    EXPECT_EQ(w.take(),
              "# HELP m M\n# TYPE m gauge\n"
              "m{k=\"a\"} 18446744073709551615\n"
              "m{k=\"b\"} -5\n"
              "m{k=\"c\"} 0.1\n"
              "m{k=\"d\"} 1e+20\n"
              "m{k=\"e\"} 2\n"
              "m{k=\"f\"} 0\n"
              "m{k=\"g\"} 1\n");
}

TEST(TextWriter, NonFiniteGaugeValuesUsePrometheusSpelling) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"k", "a"}}, std::numeric_limits<double>::quiet_NaN());
    w.sample({{"k", "b"}}, std::numeric_limits<double>::infinity());
    w.sample({{"k", "c"}}, -std::numeric_limits<double>::infinity());
    EXPECT_EQ(w.take(),
              "# HELP m M\n# TYPE m gauge\n"
              "m{k=\"a\"} NaN\nm{k=\"b\"} +Inf\nm{k=\"c\"} -Inf\n");
}

TEST(TextWriter, NegativeOrNaNCounterIsDropped) {
    TextWriter w;
    w.family("c", "C", MetricType::Counter);
    w.sample({{"k", "a"}}, -1);
    w.sample({{"k", "b"}}, -0.5);
    w.sample({{"k", "c"}}, std::nan(""));
    w.sample({{"k", "d"}}, 3);
    ASSERT_EQ(w.errors().size(), 3u);
    EXPECT_EQ(w.errors()[0], "metric c_total: negative value -1 for a counter; sample dropped");
    EXPECT_EQ(w.errors()[2], "metric c_total: NaN value NaN for a counter; sample dropped");
    EXPECT_EQ(w.take(), "# HELP c_total C\n# TYPE c_total counter\nc_total{k=\"d\"} 3\n");
}

TEST(TextWriter, InvalidMetricNameDropsTheFamilyAndItsSamples) {
    TextWriter w;
    w.family("1bad", "B", MetricType::Gauge);
    w.sample(1);
    w.family("has space", "B", MetricType::Gauge);
    w.sample(1);
    w.family("ok:name_1", "OK", MetricType::Gauge);
    w.sample(2);
    ASSERT_EQ(w.errors().size(), 4u);
    EXPECT_EQ(w.errors()[0],
              "metric \"1bad\": invalid name (want [a-zA-Z_:][a-zA-Z0-9_:]*); its samples are "
              "dropped");
    EXPECT_EQ(w.errors()[1], "metric \"1bad\": sample of an invalid family dropped");
    EXPECT_EQ(w.take(), "# HELP ok:name_1 OK\n# TYPE ok:name_1 gauge\nok:name_1 2\n");
}

TEST(TextWriter, EmptyHelpIsRefused) {
    TextWriter w;
    w.family("m", "", MetricType::Gauge);
    w.sample(1);
    ASSERT_EQ(w.errors().size(), 2u);
    EXPECT_EQ(w.errors()[0], "metric m: empty HELP text; its samples are dropped");
    EXPECT_EQ(w.take(), "");
}

TEST(TextWriter, RedeclaringWithAnotherTypeOrHelpIsRefused) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"k", "1"}}, 1);
    w.family("m", "M", MetricType::Untyped);
    w.sample({{"k", "2"}}, 2);
    w.family("m", "other", MetricType::Gauge);
    w.sample({{"k", "3"}}, 3);
    ASSERT_EQ(w.errors().size(), 4u);
    EXPECT_EQ(w.errors()[0],
              "metric m: declared again as untyped \"M\", first as gauge \"M\"; the new samples "
              "are dropped");
    EXPECT_EQ(w.take(), "# HELP m M\n# TYPE m gauge\nm{k=\"1\"} 1\n");
}

TEST(TextWriter, SampleBeforeAnyFamilyIsDropped) {
    TextWriter w;
    w.sample(1);
    ASSERT_EQ(w.errors().size(), 1u);
    EXPECT_EQ(w.errors()[0], "sample before any family(): dropped");
    EXPECT_EQ(w.take(), "");
}

TEST(TextWriter, BadLabelNamesAreRefused) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"__reserved", "x"}}, 1);
    w.sample({{"9lives", "x"}}, 1);
    w.sample({{"a-b", "x"}}, 1);
    w.sample({{"", "x"}}, 1);
    w.sample({{"a", "x"}, {"a", "y"}}, 1);
    ASSERT_EQ(w.errors().size(), 5u);
    EXPECT_EQ(w.errors()[0],
              "metric m: invalid label name \"__reserved\" (want [a-zA-Z_][a-zA-Z0-9_]*, no "
              "leading __); sample dropped");
    EXPECT_EQ(w.errors()[4], "metric m: label a given twice; sample dropped");
    EXPECT_EQ(w.take(), "");
}

TEST(TextWriter, DuplicateLabelSetIsDroppedWhateverTheLabelOrder) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample({{"a", "1"}, {"b", "2"}}, 1);
    w.sample({{"b", "2"}, {"a", "1"}}, 2);
    ASSERT_EQ(w.errors().size(), 1u);
    EXPECT_EQ(w.errors()[0],
              "metric m: label set {a=\"1\",b=\"2\"} sampled twice; the second sample is dropped");
    EXPECT_EQ(w.take(), "# HELP m M\n# TYPE m gauge\nm{a=\"1\",b=\"2\"} 1\n");
}

TEST(TextWriter, FamilyWithoutSamplesIsOmitted) {
    TextWriter w;
    w.family("empty", "E", MetricType::Gauge);
    w.family("full", "F", MetricType::Gauge);
    w.sample(1);
    EXPECT_EQ(w.take(), "# HELP full F\n# TYPE full gauge\nfull 1\n");
}

TEST(TextWriter, TakeResetsEverything) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    w.sample(1);
    w.sample(2);  // duplicate: one error
    EXPECT_EQ(w.errors().size(), 1u);
    EXPECT_NE(w.take(), "");
    EXPECT_TRUE(w.errors().empty());
    EXPECT_EQ(w.take(), "");
    w.sample(3);  // the family was reset too
    EXPECT_EQ(w.errors().size(), 1u);
    w.family("m", "different help is fine after take", MetricType::Counter);
    w.sample(3);
    EXPECT_EQ(w.take(),
              "# HELP m_total different help is fine after take\n"
              "# TYPE m_total counter\nm_total 3\n");
}

TEST(TextWriter, LabelsFromTemporariesAndSpans) {
    TextWriter w;
    w.family("m", "M", MetricType::Gauge);
    const std::vector<Label> labels = {{"a", "x"}, {"b", "y"}};
    w.sample(std::span<const Label>(labels), 5);
    w.sample({{"a", std::string("tmp") + "1"}}, 6);
    EXPECT_EQ(w.take(), "# HELP m M\n# TYPE m gauge\nm{a=\"tmp1\"} 6\nm{a=\"x\",b=\"y\"} 5\n");
}

TEST(TextWriter, TypeNames) {
    EXPECT_EQ(to_string(MetricType::Counter), "counter");
    EXPECT_EQ(to_string(MetricType::Gauge), "gauge");
    EXPECT_EQ(to_string(MetricType::Untyped), "untyped");
}

}  // namespace
}  // namespace director::metrics
