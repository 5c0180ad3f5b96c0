#include "monitor/prom_text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loadcell {
namespace {

// From the Prometheus exposition-format documentation's example, plus OpenMetrics forms.
constexpr const char* kExample = R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
)";

TEST(PromText, ParsesTheDocumentedExample) {
  auto e = ParsePromText(kExample);
  ASSERT_TRUE(e.ok()) << e.error().message;
  ASSERT_EQ(e->samples.size(), 10u);
  EXPECT_EQ(e->samples[0].name, "http_requests_total");
  ASSERT_EQ(e->samples[0].labels.size(), 2u);
  EXPECT_EQ(e->samples[0].labels[1], (std::pair<std::string, std::string>{"code", "200"}));
  EXPECT_EQ(e->samples[0].value, 1027);
  EXPECT_EQ(e->samples[1].value, 3);
  EXPECT_EQ(e->samples[2].labels[0].second, "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(e->samples[2].labels[1].second, "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_EQ(e->samples[3].value, 12.47);
  EXPECT_TRUE(std::isinf(e->samples[4].value));
  EXPECT_EQ(e->types.at("http_request_duration_seconds"), PromType::kHistogram);
  EXPECT_EQ(FamilyOf(*e, "http_request_duration_seconds_bucket"),
            (std::pair<std::string, PromType>{"http_request_duration_seconds", PromType::kHistogram}));
  EXPECT_EQ(FamilyOf(*e, "http_requests_total").second, PromType::kCounter);
  EXPECT_EQ(FamilyOf(*e, "metric_without_timestamp_and_labels").second, PromType::kUntyped);
}

TEST(PromText, OpenMetricsCountersAndEof) {
  auto e = ParsePromText("# TYPE jobs counter\njobs_total 5\njobs_created 1.7e9\n# EOF\n");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(FamilyOf(*e, "jobs_total"), (std::pair<std::string, PromType>{"jobs", PromType::kCounter}));
  EXPECT_EQ(e->samples.size(), 2u);
}

TEST(PromText, BadLinesNameTheLine) {
  auto missing = ParsePromText("ok 1\nbroken{a=\"1\" 2\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "line 2: expected `,` or `}` in the labels");
  auto nan = ParsePromText("x abc\n");
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().message, "line 1: the value of x is not a number");
  auto unquoted = ParsePromText("x{a=1} 1\n");
  ASSERT_FALSE(unquoted.ok());
  EXPECT_EQ(unquoted.error().message, "line 1: a label value must be in double quotes");
  EXPECT_FALSE(ParsePromText("{a=\"1\"} 1\n").ok());
  EXPECT_FALSE(ParsePromText("x{a=\"1} 1\n").ok());  // never closed
}

TEST(PromText, BoundsTheSamplesItKeeps) {
  std::string body;
  for (int i = 0; i < 11; ++i) body += "m{i=\"" + std::to_string(i) + "\"} 1\n";
  auto e = ParsePromText(body, 10);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "more than 10 samples");
  EXPECT_TRUE(ParsePromText(body, 11).ok());
}

}  // namespace
}  // namespace loadcell
