// Reports: views of one RunResults, for people (HTML, Markdown) and for CI systems (JUnit
// XML, CSV). None of them reads anything but the result model.
#pragma once

#include <string>

#include "results/run_results.h"

namespace loadcell {

// One test case per threshold and per check; failures carry the observed value.
std::string JunitReport(const RunResults& r);
// A compact summary for a pull-request comment.
std::string MarkdownReport(const RunResults& r);
// The per-second series, one row per second (overall and per request name).
std::string CsvSeries(const RunResults& r);
// One self-contained page (charts inlined, no request leaves the file).
std::string HtmlReport(const RunResults& r);

}  // namespace loadcell
