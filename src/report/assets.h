// Scripts and styles of the HTML report and the live dashboard, embedded at build time from
// web/ (uPlot from npm, our report.js/report.css) by scripts/embed_assets.py.
#pragma once

namespace loadcell {
extern const char kUplotJs[];
extern const char kUplotCss[];
extern const char kReportJs[];
extern const char kReportCss[];
}  // namespace loadcell
