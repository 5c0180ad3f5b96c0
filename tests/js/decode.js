// Independent decoder for the cross-check: reads loadcell's --json results and --hlog
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
const total = hdr.decodeFromCompressedBase64(results.histograms.http_req_duration);
const perSecond = results.series.map((s) => hdr.decodeFromCompressedBase64(s.http_req_duration).totalCount);

const reader = new hdr.HistogramLogReader(fs.readFileSync(process.argv[3], 'utf8'));
const merged = hdr.build();
let intervals = 0;
for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
  merged.add(h);
  intervals += 1;
}
console.log(JSON.stringify({ total: summary(total), per_second_counts: perSecond, log: { intervals, merged: summary(merged) } }));
