#include "alerting/alert_payload.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace loadcell {
namespace {

LiveAlert Alert(bool resolved) {
  LiveAlert a;
  a.labels = {{"alertname", "LoadcellThreshold"}, {"severity", "warning"}};
  a.annotations = {{"summary", "http_req_duration: p(95)<100 [warning] crossed"}};
  a.starts_unix = 1796601600.25;  // 2026-12-07T00:00:00.250Z
  a.ends_unix = 1796601660;
  a.resolved = resolved;
  return a;
}

TEST(AlertPayload, Rfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(Rfc3339(1796601600.25), "2026-12-07T00:00:00.250Z");
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00.000Z");
}

TEST(AlertPayload, AlertmanagerApiBody) {
  auto j = nlohmann::json::parse(AlertmanagerBody({Alert(false)}));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["labels"]["alertname"], "LoadcellThreshold");
  EXPECT_EQ(j[0]["startsAt"], "2026-12-07T00:00:00.250Z");
  EXPECT_EQ(j[0]["endsAt"], "2026-12-07T00:01:00.000Z");
  EXPECT_FALSE(j[0].contains("status"));  // the API infers it from endsAt
}

TEST(AlertPayload, WebhookBodyIsAlertmanagersNotification) {
  auto firing = nlohmann::json::parse(WebhookBody({Alert(false), Alert(true)}));
  EXPECT_EQ(firing["version"], "4");
  EXPECT_EQ(firing["status"], "firing");  // one still fires
  EXPECT_EQ(firing["alerts"][1]["status"], "resolved");
  EXPECT_EQ(firing["commonLabels"], nlohmann::json::object());
  auto resolved = nlohmann::json::parse(WebhookBody({Alert(true)}));
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["commonLabels"]["severity"], "warning");
}

}  // namespace
}  // namespace loadcell
