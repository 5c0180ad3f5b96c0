// Alert events a finished run raises (the store keeps them, the API acknowledges and
// resolves them):
// - `threshold` (critical): the run's thresholds failed;
// - `rule` (the rule's severity): a rule's condition — a threshold expression on a metric,
//   read as "alert when this holds", as Prometheus and Grafana rules are — holds on the
//   run's metrics; a rule fires at most once per cooldown;
// - `leak` (warning): the soak analysis suspects the target's memory grows;
// - `regression` (critical): a scheduled run is significantly worse than the previous
//   passing run of the same test (`loadcell compare`'s verdict and default 10% allowance);
// - `live` (the threshold's severity): a threshold crossed while the run goes on — the run
//   posts its live alerts back to the service (`run --alert-webhook`), which opens an event
//   when one fires and resolves it when it clears; a warning left open (not acknowledged)
//   longer than `serve --escalate-after` becomes critical.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "common/result.h"
#include "results/run_results.h"
#include "service/store.h"

namespace loadcell {

// A rule's metric and condition parse (an error names which is wrong); severity known.
Status ValidateRule(const AlertRule& rule);

// `last_fired(rule_id)`: when the rule last raised an event (0: never).
std::vector<AlertEvent> RunAlerts(const RunRecord& run, const RunResults& results, const std::vector<AlertRule>& rules,
                                  const std::function<double(int64_t)>& last_fired, double now);

// A run's live-alert notification (Alertmanager's webhook JSON) applied to the store: a
// firing alert opens an event unless one for the same threshold is still open or
// acknowledged; a resolved one resolves it. An error names what is wrong with the body.
Status ApplyLiveAlerts(Store& store, const RunRecord& run, const nlohmann::json& notification, double now);
// Open warnings older than `after_s` become critical; how many did.
Result<int> EscalateWarnings(Store& store, double after_s, double now);

std::optional<AlertEvent> RegressionAlert(const RunRecord& run, int64_t baseline_id, const RunResults& baseline,
                                          const RunResults& current);

}  // namespace loadcell
