// The service's web UI (`loadcell serve`) in headless Chromium, as a person would use it:
// sign in (a wrong token first), create a test, start it, watch it run and finish, open its
// report; then a `?token=` link. Prints a JSON verdict; exit 1 when anything fails.
// Usage: node check_service.js BASE_URL TOKEN TEST.yaml SCREENSHOT_PREFIX
"use strict";
const fs = require("fs");
const { chromium } = require("playwright-core");

async function main() {
  const [base, token, yamlFile, shot] = process.argv.slice(2);
  const yaml = fs.readFileSync(yamlFile, "utf8");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const errors = [], foreign = [], steps = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // The browser logs each failed fetch; the ones this script provokes on purpose (a wrong
    // token: 401, a bad cron: 400) are announced in `expected`.
    const expected = [];
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const i = expected.findIndex((code) => m.text().includes(`status of ${code}`));
      if (i >= 0) expected.splice(i, 1);
      else errors.push("console: " + m.text());
    });
    page.on("pageerror", (e) => errors.push("page: " + e.message));
    page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("about:")) foreign.push(r.url()); });
    await page.goto(base + "/", { waitUntil: "load" });
    expected.push(401);
    await page.fill("#token", "lc_not_the_token");
    await page.click("#signin");
    await page.waitForSelector("text=That token was not accepted.", { timeout: 10000 });
    steps.wrong_token_refused = true;
    await page.fill("#token", token);
    await page.click("#signin");
    await page.waitForSelector("#runs", { timeout: 10000 });
    steps.signed_in = true;

    await page.goto(base + "/#tests");
    await page.waitForSelector("#create-test");
    await page.fill("#test-name", "from-the-browser");
    await page.fill("#test-yaml", yaml);
    await page.click("#create-test");
    await page.waitForSelector("#tests tr:has-text('from-the-browser') button.start", { timeout: 10000 });
    steps.test_created = true;
    await page.click("#tests tr:has-text('from-the-browser') button.start");
    await page.waitForURL(/#run\/\d+$/, { timeout: 10000 });
    steps.run_id = Number(page.url().split("/").pop());
    // Live numbers while it runs, then its end.
    await page.waitForFunction(() => /[1-9]\d* requests/.test(document.getElementById("live")?.textContent || ""), null, { timeout: 30000 });
    steps.live = await page.textContent("#live");
    // The live charts: the report of what the run measured so far.
    // (Read through the page: the view re-renders every 2 s, replacing the frame.)
    const charts = await page.waitForFunction(() => {
      const n = document.getElementById("live-report")?.contentDocument?.querySelectorAll(".uplot canvas").length || 0;
      return n >= 4 ? n : false;
    }, null, { timeout: 20000 });
    steps.live_charts = await charts.jsonValue();
    await page.screenshot({ path: shot + "-live.png" });
    await page.waitForFunction(() => ["passed", "failed", "aborted", "error"].includes(document.getElementById("status")?.textContent),
                               null, { timeout: 60000 });
    steps.status = await page.textContent("#status");
    await page.click("#report-link");
    const frame = await (await page.waitForSelector("#report", { timeout: 10000 })).contentFrame();
    await frame.waitForFunction(() => document.querySelectorAll(".uplot canvas").length >= 4, null, { timeout: 20000 });
    steps.report_title = await frame.title();
    steps.report_verdict = await frame.textContent("#verdict");
    await page.screenshot({ path: shot + "-report.png", fullPage: true });

    // A second run of the same test, and the compare view of the two.
    await page.goto(base + "/#tests");
    await page.click("#tests tr:has-text('from-the-browser') button.start");
    await page.waitForURL(/#run\/\d+$/, { timeout: 10000 });
    const second = Number(page.url().split("/").pop());
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "passed", null, { timeout: 60000 });
    await page.fill("#baseline", String(steps.run_id));
    await page.click("#compare");
    await page.waitForSelector("#comparison tr:has-text('p95')", { timeout: 10000 });
    steps.compare_rows = await page.$$eval("#comparison tr", (rows) => rows.length - 1);
    steps.compare_verdict = await page.textContent("#compare-verdict");
    steps.second_run = second;

    // Schedules: a bad cron is refused with the server's message; a good one is listed and can be disabled.
    await page.goto(base + "/#schedules");
    await page.waitForSelector("#create-schedule");
    expected.push(400);
    await page.fill("#schedule-cron", "61 * * * *");
    await page.click("#create-schedule");
    await page.waitForFunction(() => document.getElementById("schedule-error")?.textContent.includes("values must be within 0-59"), null, { timeout: 10000 });
    steps.schedule_error = await page.textContent("#schedule-error");
    await page.fill("#schedule-cron", "0 3 * * *");
    await page.click("#create-schedule");
    await page.waitForSelector("#schedules tr:has-text('from-the-browser') .toggle", { timeout: 10000 });
    await page.click("#schedules tr:has-text('from-the-browser') .toggle");
    await page.waitForSelector("#schedules tr:has-text('from-the-browser') td.state:has-text('disabled')", { timeout: 10000 });
    steps.schedule = await page.textContent("#schedules tr:has-text('from-the-browser')");

    await page.goto(base + "/#runs");
    await page.waitForSelector(`#runs tr[data-id="${steps.run_id}"]`, { timeout: 10000 });
    steps.listed = await page.textContent(`#runs tr[data-id="${steps.run_id}"] td:nth-child(3)`);

    // A `?token=` link in a fresh tab: signed in, and the token leaves the address bar.
    const ctx = await browser.newContext();
    const link = await ctx.newPage();
    await link.goto(`${base}/?token=${encodeURIComponent(token)}#runs`, { waitUntil: "load" });
    await link.waitForSelector(`#runs tr[data-id="${steps.run_id}"]`, { timeout: 10000 });
    steps.link_url = link.url();
  } catch (e) {
    errors.push(String(e));
  } finally {
    await browser.close();
  }
  const ok = errors.length === 0 && foreign.length === 0;
  console.log(JSON.stringify({ ok, errors, foreign, ...steps }));
  process.exitCode = ok ? 0 : 1;
}

main();
