// What a live alert says, in the two shapes receivers already read: Alertmanager's API
// (POST /api/v2/alerts, a list of alerts) and Alertmanager's webhook notification (the JSON
// its webhook_config receivers get), so a receiver written for Alertmanager reads loadcell's
// webhooks too.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace loadcell {

struct LiveAlert {
  std::map<std::string, std::string> labels;       // alertname, test, threshold, expr, severity, ...
  std::map<std::string, std::string> annotations;  // summary, observed
  double starts_unix = 0;
  double ends_unix = 0;  // resolved: when it cleared; firing: how long it holds unless re-sent
  bool resolved = false;
};

// RFC 3339 in UTC with milliseconds: 2026-12-07T21:30:00.123Z.
std::string Rfc3339(double unix_s);

// The body of POST /api/v2/alerts.
std::string AlertmanagerBody(const std::vector<LiveAlert>& alerts);
// The body of a webhook notification (version 4) carrying `alerts`; `status` is "resolved"
// when every alert is, "firing" otherwise, as Alertmanager groups them.
std::string WebhookBody(const std::vector<LiveAlert>& alerts);

}  // namespace loadcell
