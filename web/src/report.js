// loadcell report: renders the report data (built by loadcell from a RunResults) into the
// page with uPlot. The live dashboard uses the same code and calls update() every second.
"use strict";
var LoadcellReport = (function () {
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    var d = digits === undefined ? 2 : digits;
    return Number(v).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });
  }
  function ms(v) { return fmt(v, 2) + " ms"; }
  function pct(v) { return fmt(100 * v, 2) + "%"; }

  var palette = ["#0969da", "#8250df", "#bf3989", "#cf222e", "#bc4c00", "#1a7f37", "#4d2d00", "#57606a", "#116329", "#0550ae"];

  function cards(d) {
    var t = d.totals;
    var items = [
      ["requests", fmt(t.reqs, 0)], ["rate", fmt(t.rate, 1) + "/s"], ["failed", pct(t.failed_rate)],
      ["p50", ms(t.p50)], ["p95", ms(t.p95)], ["p99", ms(t.p99)], ["max", ms(t.max)],
      ["iterations", fmt(t.iterations, 0)], ["VUs max", fmt(d.meta.vus_max, 0)],
      ["duration", fmt(d.meta.duration_s, 1) + " s"],
      ["checks", t.checks_total ? pct(t.checks_pass / t.checks_total) : "-"]
    ];
    return el("div", { class: "cards", id: "cards" }, items.map(function (i) {
      return el("div", { class: "card" }, [el("div", { class: "label", text: i[0] }), el("div", { class: "value", text: i[1] })]);
    }));
  }

  function failsRun(t) { return !t.ok && (!t.severity || t.severity === "critical"); }

  function thresholds(d) {
    if (!d.thresholds.length) return null;
    var rows = d.thresholds.map(function (t) {
      // Only a critical threshold fails the run; warning and info ones crossed are shown as such.
      var tier = t.severity && t.severity !== "critical" ? t.severity : "";
      var during = !t.during ? "" : t.during.to_s === undefined ? " from " + t.during.from_s + "s"
        : " during " + t.during.from_s + "s-" + t.during.to_s + "s";
      var mark = t.no_data && t.ok ? "? " : t.ok ? "✓ " : tier ? "! " : "✗ ";
      return el("tr", {}, [
        el("td", { class: t.no_data && t.ok ? "nodata" : t.ok ? "ok" : tier ? "warn" : "bad",
                   text: mark + t.metric + ": " + t.expr + during + (tier ? " [" + tier + "]" : "") }),
        el("td", { text: t.no_data ? "no data" : fmt(t.observed, 3) })]);
    });
    return el("section", { id: "thresholds" }, [el("h2", { text: "Thresholds" }),
      el("table", {}, [el("thead", {}, [el("tr", {}, [el("th", { text: "threshold" }), el("th", { text: "observed" })])]),
        el("tbody", {}, rows)])]);
  }

  function checks(d) {
    if (!d.checks.length) return null;
    var rows = d.checks.map(function (c) {
      var n = c.passes + c.fails;
      return el("tr", {}, [el("td", { class: c.fails ? "bad" : "ok", text: (c.fails ? "✗ " : "✓ ") + c.name }),
        el("td", { text: fmt(c.passes, 0) }), el("td", { text: fmt(c.fails, 0) }), el("td", { text: n ? pct(c.passes / n) : "-" })]);
    });
    return el("section", { id: "checks" }, [el("h2", { text: "Checks" }),
      el("table", {}, [el("thead", {}, [el("tr", {}, ["check", "passed", "failed", "rate"].map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", {}, rows)])]);
  }

  // Injected faults (`faults:`) and what each did; their windows are shaded on the charts.
  function faultsTable(d) {
    if (!d.faults || !d.faults.length) return null;
    var secs = function (v, none) { return v === null || v === undefined ? none : fmt(v, 0) + " s"; };
    var rows = d.faults.map(function (f) {
      return el("tr", {}, [f.kind, f.scenario || "all", fmt(f.at, 1) + " s", fmt(f.duration, 1) + " s",
        secs(f.onset_s, "none"), fmt(f.worst_p99_ms, 2) + " ms", pct(f.worst_error_rate), fmt(f.failed, 0),
        secs(f.recovery_s, "not seen")].map(function (t) { return el("td", { text: t }); }));
    });
    var heads = ["fault", "scenario", "at", "for", "onset", "worst p99", "worst errors", "failed", "recovery"];
    return el("section", { id: "faults" }, [el("h2", { text: "Faults (injected)" }),
      el("table", {}, [el("thead", {}, [el("tr", {}, heads.map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", {}, rows)])]);
  }

  // The load changes the stages made (spikes, steps): recovery, and when watched gauges reacted.
  function loadChangesTable(d) {
    if (!d.load_changes || !d.load_changes.length) return null;
    var secs = function (v, none) { return v === null || v === undefined ? none : fmt(v, 0) + " s"; };
    var rows = d.load_changes.map(function (c) {
      var reacted = (c.reactions || []).map(function (g) {
        return g.gauge + ": " + (g.reaction_s === null ? "no reaction" : fmt(g.reaction_s, 0) + " s (" + fmt(g.before, 2) +
          " → " + fmt(g.after, 2) + ")");
      }).join("; ");
      return el("tr", {}, [c.kind, c.scenario, fmt(c.at_s, 1) + " s", fmt(c.end_s, 1) + " s",
        fmt(c.from, 0) + " → " + fmt(c.to, 0), fmt(c.worst_p99_ms, 2) + " ms", secs(c.recovery_s, "not seen"),
        reacted || "-"].map(function (t) { return el("td", { text: t }); }));
    });
    var heads = ["change", "scenario", "at", "until", "level", "worst p99", "recovery", "reactions"];
    return el("section", { id: "load-changes" }, [el("h2", { text: "Load changes" }),
      el("table", {}, [el("thead", {}, [el("tr", {}, heads.map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", {}, rows)])]);
  }

  // A uPlot hook that shades each fault's window under the series.
  function faultBands(faults) {
    return function (u) {
      if (!faults || !faults.length) return;
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(207,34,46,0.10)";
      faults.forEach(function (f) {
        var x0 = u.valToPos(f.at, "x", true), x1 = u.valToPos(f.at + f.duration, "x", true);
        var left = Math.max(x0, u.bbox.left), right = Math.min(x1, u.bbox.left + u.bbox.width);
        if (right > left) ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
      });
      ctx.restore();
    };
  }

  // A table whose columns sort on click (numbers numerically).
  function sortable(id, headers, rows) {
    var tbody = el("tbody");
    var state = { col: -1, dir: 1 };
    function fill() {
      tbody.textContent = "";
      rows.forEach(function (r) {
        tbody.appendChild(el("tr", {}, r.map(function (c) { return el("td", { text: c.text }); })));
      });
    }
    var ths = headers.map(function (h, i) {
      var th = el("th", { text: h });
      th.addEventListener("click", function () {
        state.dir = state.col === i ? -state.dir : 1;
        state.col = i;
        rows.sort(function (a, b) {
          var x = a[i].sort, y = b[i].sort;
          return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
        });
        ths.forEach(function (t) { t.className = ""; });
        th.className = state.dir > 0 ? "sorted-asc" : "sorted-desc";
        fill();
      });
      return th;
    });
    fill();
    return el("table", { id: id, class: "sortable" }, [el("thead", {}, [el("tr", {}, ths)]), tbody]);
  }

  function requestsTable(d) {
    var rows = d.breakdowns.map(function (b) {
      var label = b.tag === "name" ? b.value : b.tag + "=" + b.value;
      function n(v, text) { return { sort: v, text: text }; }
      return [n(label, label), n(b.reqs, fmt(b.reqs, 0)), n(b.rate, fmt(b.rate, 1) + "/s"), n(b.avg, ms(b.avg)),
        n(b.p50, ms(b.p50)), n(b.p90, ms(b.p90)), n(b.p95, ms(b.p95)), n(b.p99, ms(b.p99)), n(b.max, ms(b.max)),
        n(b.failed_rate, pct(b.failed_rate))];
    });
    return el("section", { id: "requests" }, [el("h2", { text: "Requests by name and tag" }),
      sortable("requests-table", ["request", "reqs", "rate", "avg", "p50", "p90", "p95", "p99", "max", "failed"], rows)]);
  }

  function metricsTable(d) {
    var rows = Object.keys(d.metrics).sort().map(function (k) {
      var m = d.metrics[k], text;
      if ("avg" in m) text = "avg " + ms(m.avg) + "  p95 " + ms(m["p(95)"]) + "  max " + ms(m.max);
      else if ("rate" in m) text = fmt(m.count, 0) + "  (" + fmt(m.rate, 2) + "/s)";
      else if ("passes" in m) text = pct(m.value) + "  (" + fmt(m.passes, 0) + " of " + fmt(m.passes + m.fails, 0) + ")";
      else text = fmt(m.value, 2) + "  min " + fmt(m.min, 2) + "  max " + fmt(m.max, 2);
      return el("tr", {}, [el("td", { text: k }), el("td", { text: text })]);
    });
    return el("section", { id: "metrics" }, [el("h2", { text: "Metrics" }), el("table", {}, [el("tbody", {}, rows)])]);
  }

  function metaList(d) {
    var m = d.meta;
    var items = [["test", m.test], ["file", m.file], ["file sha256", m.file_sha256], ["loadcell", m.version],
      ["host", m.host], ["start", m.start], ["end", m.end], ["seed", String(m.seed)], ["command", m.command_line],
      ["scenarios", m.scenarios.map(function (s) { return s.name + " (" + s.executor + ")"; }).join(", ")]];
    var dl = el("dl", { class: "meta" });
    items.forEach(function (i) { dl.appendChild(el("dt", { text: i[0] })); dl.appendChild(el("dd", { text: i[1] || "-" })); });
    return el("section", { id: "meta" }, [el("h2", { text: "Run" }), dl]);
  }

  function chartBox(id, title) {
    var box = el("div", { class: "chart", id: id }, [el("h3", { text: title })]);
    return box;
  }

  function width(box) { return Math.max(300, (box.clientWidth || 560) - 16); }

  // Chart definitions: each maps the data to uPlot series.
  function timeCharts(d) {
    var s = d.series;
    var t = s.t;
    var names = Object.keys(s.by_name).slice(0, palette.length);
    var latencySeries = [{}, { label: "p50", stroke: palette[0] }, { label: "p90", stroke: palette[1] },
      { label: "p95", stroke: palette[2] }, { label: "p99", stroke: palette[3] }];
    var latencyData = [t, s.p50, s.p90, s.p95, s.p99];
    names.forEach(function (n, i) {
      latencySeries.push({ label: "p95 " + n, stroke: palette[(i + 4) % palette.length], dash: [4, 4], show: names.length <= 5 });
      latencyData.push(s.by_name[n].p95);
    });
    var charts = [
      { id: "chart-latency", title: "Latency over time (ms)", series: latencySeries, data: latencyData },
      { id: "chart-throughput", title: "Throughput and errors (per second)",
        series: [{}, { label: "requests/s", stroke: palette[0] }, { label: "failed/s", stroke: palette[3] },
          { label: "iterations/s", stroke: palette[5] }],
        data: [t, s.rate, s.failed_rate, s.iterations_rate] },
      { id: "chart-vus", title: "Virtual users", series: [{}, { label: "VUs", stroke: palette[1], fill: "rgba(130,80,223,0.1)" }],
        data: [t, s.vus] }
    ];
    // Resource charts when the run monitored processes (or at least itself).
    var res = s.resources || {};
    var cpu = ["target_cpu", "generator_cpu", "host_cpu"].filter(function (k) { return k in res; });
    if (cpu.length) {
      charts.push({ id: "chart-cpu", title: "CPU (% of one core; host: % of all cores)",
        series: [{}].concat(cpu.map(function (k, i) { return { label: k, stroke: palette[(i + 3) % palette.length] }; })),
        data: [t].concat(cpu.map(function (k) { return res[k]; })) });
    }
    var mem = ["target_rss", "generator_rss"].filter(function (k) { return k in res; });
    if (mem.length) {
      charts.push({ id: "chart-memory", title: "Resident memory (MiB)",
        series: [{}].concat(mem.map(function (k, i) { return { label: k, stroke: palette[(i + 6) % palette.length] }; })),
        data: [t].concat(mem.map(function (k) {
          return res[k].map(function (v) { return v === null ? null : v / 1048576; }); })) });
    }
    // A chart per monitor family (monitor.scrape, monitor.prometheus), a line per series
    // (its labels as the legend): at most 24 families of 12 series, so that a /metrics with
    // thousands of series cannot bury the page.
    var families = {};
    Object.keys(res).forEach(function (k) {
      if (k.indexOf("monitor_") !== 0) return;
      var brace = k.indexOf("{");
      var fam = brace < 0 ? k : k.slice(0, brace);
      (families[fam] = families[fam] || []).push(k);
    });
    Object.keys(families).sort().slice(0, 24).forEach(function (fam) {
      var keys = families[fam].slice(0, 12);
      var more = families[fam].length - keys.length;
      charts.push({ id: "chart-" + fam, title: fam + (more > 0 ? " (12 of " + families[fam].length + " series)" : ""),
        series: [{}].concat(keys.map(function (k, i) {
          var brace = k.indexOf("{");
          return { label: brace < 0 ? fam : k.slice(brace), stroke: palette[i % palette.length] }; })),
        data: [t].concat(keys.map(function (k) { return res[k]; })) });
    });
    charts.forEach(function (c) { c.faults = d.faults || []; });
    return charts;
  }

  function spectrumChart(d) {
    var sp = d.spectrum;
    var series = [{}], data = [sp.x];
    Object.keys(sp.lines).forEach(function (n, i) {
      series.push({ label: n, stroke: palette[i % palette.length] });
      data.push(sp.lines[n]);
    });
    return { id: "chart-spectrum", title: "Latency by percentile (HdrHistogram spectrum, ms)", series: series, data: data,
      spectrum: true };
  }

  function makePlot(def, box) {
    var opts = {
      width: width(box), height: 260, series: def.series,
      scales: def.spectrum ? { x: { time: false, distr: 3 } } : { x: { time: false } },
      axes: def.spectrum
        ? [{ label: "percentile",
            // 0%, 50%, 90%, 99%, 99.9%, ... as HdrHistogram's plots show them.
            splits: function (u) {
              var out = [1], max = u.scales.x.max || 1;
              for (var v = 10; v <= max * 1.0001; v *= 10) out.push(v);
              return out;
            },
            values: function (u, ticks) {
              return ticks.map(function (v) { return fmt(100 - 100 / v, 6) + "%"; }); } }, { label: "ms" }]
        : [{ label: "seconds" }, {}],
      legend: { live: true }
    };
    if (def.faults) opts.hooks = { drawAxes: [faultBands(def.faults)] };
    return new uPlot(opts, def.data, box);
  }

  function render(root, d) {
    root.textContent = "";
    var failed = d.thresholds.some(failsRun) || !!d.meta.aborted_by;
    // A stream cut short (a killed run) never shows as passed: what it could not judge is not a pass.
    var incomplete = d.meta.complete === false && !d.live;
    var header = el("header", {}, [
      el("h1", {}, [document.createTextNode("loadcell — " + d.meta.test),
        el("span", { class: "verdict " + (failed || incomplete ? "bad" : "ok"), id: "verdict",
          text: d.live ? "running" : failed ? (incomplete ? "failed (incomplete)" : "failed") : incomplete ? "incomplete" : "passed" })]),
      incomplete ? el("div", { class: "incomplete bad", id: "incomplete",
        text: "INCOMPLETE: the run ended without its final record (killed?); thresholds are judged on the per-second " +
              "metrics it recorded, and those it cannot show are not passed" }) : null,
      el("div", { class: "sub", id: "sub", text: d.meta.start + " · " + fmt(d.meta.duration_s, 1) + " s · " + d.meta.host }),
      // The live dashboard offers the finished run's report.
      d.dashboard ? el("a", { id: "download", class: "button", href: "/report", download: "loadcell-report.html",
        style: d.live ? "display:none" : "", text: "Download the HTML report" }) : null]);
    var main = el("main");
    root.appendChild(header);
    root.appendChild(main);
    main.appendChild(cards(d));
    (d.notes || []).forEach(function (n) { main.appendChild(el("div", { class: "note", text: n })); });
    var th = thresholds(d); if (th) main.appendChild(th);
    var fl = faultsTable(d); if (fl) main.appendChild(fl);
    var lc = loadChangesTable(d); if (lc) main.appendChild(lc);
    var ch = checks(d); if (ch) main.appendChild(ch);
    var chartsEl = el("div", { class: "charts" });
    main.appendChild(el("h2", { text: "Charts" }));
    main.appendChild(chartsEl);
    var defs = timeCharts(d).concat([spectrumChart(d)]);
    var plots = defs.map(function (def) {
      var box = chartBox(def.id, def.title);
      chartsEl.appendChild(box);
      return makePlot(def, box);
    });
    main.appendChild(requestsTable(d));
    main.appendChild(metricsTable(d));
    main.appendChild(metaList(d));
    return {
      update: function (nd) {
        var defs2 = timeCharts(nd).concat([spectrumChart(nd)]);
        var same = defs2.every(function (def, i) { return def.series.length === defs[i].series.length; });
        if (!same) return render(root, nd);
        defs2.forEach(function (def, i) { plots[i].setData(def.data); });
        var c = document.getElementById("cards");
        c.parentNode.replaceChild(cards(nd), c);
        [["requests", requestsTable], ["metrics", metricsTable], ["checks", checks]].forEach(function (p) {
          var old = document.getElementById(p[0]), now = p[1](nd);
          if (old && now) old.parentNode.replaceChild(now, old);
        });
        var failed = nd.thresholds.some(failsRun) || !!nd.meta.aborted_by;
        var incomplete = nd.meta.complete === false && !nd.live;
        var verdict = document.getElementById("verdict");
        verdict.textContent = nd.live ? "running" : failed ? (incomplete ? "failed (incomplete)" : "failed")
          : incomplete ? "incomplete" : "passed";
        verdict.className = "verdict " + (failed || incomplete ? "bad" : "ok");
        document.getElementById("sub").textContent =
          nd.meta.start + " · " + fmt(nd.meta.duration_s, 1) + " s · " + nd.meta.host;
        var dl = document.getElementById("download");
        if (dl && !nd.live) dl.style.display = "";
        return this;
      }
    };
  }

  return { render: render };
})();
