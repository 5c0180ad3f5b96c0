#include "service/web_ui.h"

namespace loadcell {

const std::string& WebUiPage() {
  static const std::string kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loadcell</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center}
header a{color:#cfd6e4;text-decoration:none;cursor:pointer}header a.on{color:#fff;font-weight:600}
main{padding:20px}table{border-collapse:collapse;background:#fff;width:100%}
td,th{padding:6px 10px;border-bottom:1px solid #e3e6eb;text-align:left}
.passed{color:#157a3c}.failed,.error{color:#b3261e}.running,.queued{color:#8a5a00}.aborted{color:#666}
textarea{width:100%;height:220px;font:13px monospace}button{padding:6px 12px;margin:4px 0}
.err{color:#b3261e;white-space:pre-wrap}
</style></head><body>
<header><b>loadcell</b><nav id="nav"></nav><span style="flex:1"></span><a id="signout">sign out</a></header>
<main id="main"></main>
<script>
'use strict';
const views = ['runs', 'tests', 'alerts', 'schedules'];
let token = sessionStorage.getItem('loadcell-token');
const q = new URLSearchParams(location.search);
if (q.get('token')) { token = q.get('token'); sessionStorage.setItem('loadcell-token', token); history.replaceState(null, '', location.pathname + location.hash); }
const el = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) { if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v); } for (const k of kids) e.append(k); return e; };
async function api(method, path, body) {
  const r = await fetch('/api/v1' + path, {method, headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}, body: body ? JSON.stringify(body) : undefined});
  if (r.status === 401) { signIn('That token was not accepted.'); throw new Error('unauthorized'); }
  const j = r.status === 204 ? {} : await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}
const main = document.getElementById('main');
function signIn(msg) {
  sessionStorage.removeItem('loadcell-token'); token = null;
  const input = el('input', {type: 'password', id: 'token', size: 60, placeholder: 'API token'});
  main.replaceChildren(el('h2', {}, 'Sign in'), el('p', {class: 'err'}, msg || ''), input,
    el('button', {id: 'signin', onclick: () => { token = input.value.trim(); sessionStorage.setItem('loadcell-token', token); route(); }}, 'Sign in'));
}
document.getElementById('signout').onclick = () => signIn('');
function nav(active) {
  document.getElementById('nav').replaceChildren(...views.map(v => el('a', {class: v === active ? 'on' : '', href: '#' + v}, v + ' ')));
}
const when = t => t ? new Date(t * 1000).toLocaleString() : '';
async function runsView() {
  const {runs} = await api('GET', '/runs?limit=100');
  main.replaceChildren(el('h2', {}, 'Runs'), el('table', {id: 'runs'}, el('tr', {}, ...['id', 'test', 'status', 'started', 'requests', 'p95 ms', ''].map(h => el('th', {}, h))),
    ...runs.map(r => el('tr', {'data-id': r.id}, el('td', {}, el('a', {href: '#run/' + r.id}, String(r.id))), el('td', {}, r.test_name),
      el('td', {class: r.status}, r.status), el('td', {}, when(r.started)), el('td', {}, r.summary ? String(r.summary.reqs) : ''),
      el('td', {}, r.summary ? r.summary.p95_ms.toFixed(2) : ''), el('td', {}, r.has_results ? el('a', {href: '#report/' + r.id}, 'report') : '')))));
}
async function fillReport(frame, id) {
  const r = await fetch(`/api/v1/runs/${id}/report`, {headers: {'Authorization': 'Bearer ' + token}});
  if (r.ok) frame.srcdoc = await r.text();
}
async function runView(id) {
  const r = await api('GET', '/runs/' + id);
  const active = r.status === 'running' || r.status === 'queued';
  const live = r.live ? `elapsed ${r.live.elapsed_s} s · ${r.live.reqs} requests · ${(r.live.rate || 0).toFixed(0)}/s · p95 ${(r.live.p95_ms || 0).toFixed(2)} ms` : '';
  const base = el('input', {id: 'baseline', size: 6, placeholder: 'run id'});
  // While it runs, the report of what it measured so far: the dashboard's charts.
  const frame = r.status === 'running' && r.live && r.live.elapsed_s > 0 ? el('iframe', {id: 'live-report', style: 'width:100%;height:70vh;border:0;background:#fff'}) : '';
  main.replaceChildren(el('h2', {}, `Run ${r.id}: ${r.test_name}`), el('p', {id: 'status', class: r.status}, r.status), el('p', {id: 'live'}, live),
    el('p', {}, r.message || ''), r.has_results ? el('a', {id: 'report-link', href: '#report/' + r.id}, 'open the report') : '',
    active ? el('button', {id: 'abort', onclick: () => api('POST', `/runs/${id}/abort`).then(route)}, 'Abort') : '',
    r.has_results ? el('p', {}, 'compare with run ', base, el('button', {id: 'compare', onclick: () => { location.hash = `#compare/${id}/${base.value}`; }}, 'Compare')) : '',
    frame);
  if (frame) await fillReport(frame, id);
  if (active) setTimeout(() => { if (location.hash === '#run/' + id) route(); }, 2000);
}
async function compareView(id, baseline) {
  const c = await api('GET', `/runs/${id}/compare?baseline=${encodeURIComponent(baseline)}`);
  const fmt = (m, v) => m === 'error_rate' ? (100 * v).toFixed(2) + '%' : v.toFixed(2);
  main.replaceChildren(el('h2', {}, `Run ${id} against run ${baseline}`),
    el('p', {id: 'compare-verdict', class: c.regressed ? 'failed' : 'passed'}, c.regressed ? 'regressed' : 'no significant regression'),
    el('table', {id: 'comparison'}, el('tr', {}, ...['request', 'metric', 'baseline', 'current', 'change (per-second median)', 'verdict'].map(h => el('th', {}, h))),
      ...c.rows.map(m => el('tr', {}, el('td', {}, m.request || 'all'), el('td', {}, m.metric), el('td', {}, fmt(m.metric, m.baseline)),
        el('td', {}, fmt(m.metric, m.current)), el('td', {}, m.metric === 'error_rate' ? (100 * m.window_change).toFixed(2) + ' pp' : (100 * m.window_change).toFixed(1) + '%'),
        el('td', {class: m.verdict === 'worse' ? 'failed' : ''}, m.verdict)))));
}
async function reportView(id) {
  const frame = el('iframe', {id: 'report', style: 'width:100%;height:85vh;border:0;background:#fff'});
  main.replaceChildren(el('h2', {}, `Report of run ${id}`), frame);
  await fillReport(frame, id);
}
async function testsView() {
  const {tests} = await api('GET', '/tests');
  const name = el('input', {id: 'test-name', placeholder: 'name'}), yaml = el('textarea', {id: 'test-yaml'}), out = el('p', {class: 'err', id: 'test-error'});
  main.replaceChildren(el('h2', {}, 'Tests'), el('table', {id: 'tests'}, ...tests.map(t => el('tr', {}, el('td', {}, String(t.id)), el('td', {}, t.name),
      el('td', {}, el('button', {class: 'start', onclick: async () => { const run = await api('POST', '/runs', {test_id: t.id}); location.hash = '#run/' + run.id; }}, 'Start'))))),
    el('h3', {}, 'New test'), name, yaml, el('br'),
    el('button', {id: 'create-test', onclick: async () => { try { await api('POST', '/tests', {name: name.value, yaml: yaml.value}); route(); } catch (e) { out.textContent = e.message; } }}, 'Create'), out);
}
async function alertsView() {
  const {alerts} = await api('GET', '/alerts');
  main.replaceChildren(el('h2', {}, 'Alerts'), el('table', {id: 'alerts'}, ...alerts.map(a => el('tr', {}, el('td', {}, a.severity), el('td', {}, a.kind),
    el('td', {}, a.message), el('td', {}, a.status),
    el('td', {}, a.status === 'open' ? el('button', {onclick: () => api('POST', `/alerts/${a.id}/acknowledge`).then(route)}, 'Acknowledge') : '',
      a.status !== 'resolved' ? el('button', {onclick: () => api('POST', `/alerts/${a.id}/resolve`).then(route)}, 'Resolve') : '')))));
}
async function schedulesView() {
  const [{schedules}, {tests}] = await Promise.all([api('GET', '/schedules'), api('GET', '/tests')]);
  const names = Object.fromEntries(tests.map(t => [t.id, t.name]));
  const pick = el('select', {id: 'schedule-test'}, ...tests.map(t => el('option', {value: t.id}, t.name)));
  const cron = el('input', {id: 'schedule-cron', placeholder: '0 3 * * *  or  @every 1h'}), out = el('p', {class: 'err', id: 'schedule-error'});
  main.replaceChildren(el('h2', {}, 'Schedules'), el('table', {id: 'schedules'}, ...schedules.map(s => el('tr', {'data-id': s.id}, el('td', {}, String(s.id)),
      el('td', {}, names[s.test_id] || 'test ' + s.test_id), el('td', {}, s.cron), el('td', {class: 'state'}, s.enabled ? 'enabled' : 'disabled'),
      el('td', {}, s.enabled ? 'next ' + when(s.next_run) : ''),
      el('td', {}, el('button', {class: 'toggle', onclick: () => api('PUT', '/schedules/' + s.id, {enabled: !s.enabled}).then(route)}, s.enabled ? 'Disable' : 'Enable'),
        el('button', {class: 'run-now', onclick: async () => { const run = await api('POST', `/schedules/${s.id}/trigger`); location.hash = '#run/' + run.id; }}, 'Run now'),
        el('button', {class: 'delete', onclick: () => api('DELETE', '/schedules/' + s.id).then(route)}, 'Delete'))))),
    el('h3', {}, 'New schedule'), pick, ' ', cron, ' ',
    el('button', {id: 'create-schedule', onclick: async () => { try { await api('POST', '/schedules', {test_id: Number(pick.value), cron: cron.value}); route(); } catch (e) { out.textContent = e.message; } }}, 'Create'), out);
}
async function route() {
  if (!token) return signIn('');
  const [view, id, other] = (location.hash.slice(1) || 'runs').split('/');
  nav(view === 'run' || view === 'report' || view === 'compare' ? 'runs' : view);
  try {
    if (view === 'run') await runView(id); else if (view === 'report') await reportView(id);
    else if (view === 'compare') await compareView(id, other);
    else if (view === 'tests') await testsView(); else if (view === 'alerts') await alertsView();
    else if (view === 'schedules') await schedulesView(); else await runsView();
  } catch (e) { if (e.message !== 'unauthorized') main.append(el('p', {class: 'err'}, e.message)); }
}
addEventListener('hashchange', route);
route();
</script></body></html>
)HTML";
  return kPage;
}

}  // namespace loadcell
