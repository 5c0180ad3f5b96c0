// Independent decoder for the cross-check: reads loadcell's results (--out) and --hlog
// interval log with hdr-histogram-js and prints what that implementation sees, as JSON.
// Usage: node decode.js results.json interval.hlog
'use strict';
const fs = require('fs');
const hdr = require('hdr-histogram-js');

function summary(h) {
  const out = { total: h.totalCount, min: h.minNonZeroValue, max: h.maxValue, mean: h.mean, percentiles: {} };
  for (const p of [50, 90, 99, 99.9, 100]) out.percentiles[p] = h.getValueAtPercentile(p);
  return out;
}

const results = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
// The run's http_req_duration: every tag set's histogram, merged.
const total = hdr.build();
for (const h of results.histograms) {
  if (h.metric === 'http_req_duration') total.add(hdr.decodeFromCompressedBase64(h.hdr));
}

const reader = new hdr.HistogramLogReader(fs.readFileSync(process.argv[3], 'utf8'));
const merged = hdr.build();
const perSecond = [];
for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
  merged.add(h);
  perSecond.push(h.totalCount);
}
console.log(JSON.stringify({ total: summary(total), per_second_counts: perSecond,
                             log: { intervals: perSecond.length, merged: summary(merged) } }));
