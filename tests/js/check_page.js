// Opens a page in headless Chromium (Debian's, driven by playwright-core) and checks what a
// person would see: no console or page errors, every chart drawn (a canvas with pixels on
// it), the per-request table with rows. Prints a JSON verdict; exit 1 when anything fails.
// Usage: node check_page.js URL SCREENSHOT.png [--charts N] [--wait-live] [--download FILE]
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const [url, shot, ...rest] = process.argv.slice(2);
  const charts = rest.includes("--charts") ? Number(rest[rest.indexOf("--charts") + 1]) : 4;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const errors = [];
  const requests = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1800 }, acceptDownloads: true });
    page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
    page.on("pageerror", (e) => errors.push("page: " + e.message));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction((n) => document.querySelectorAll(".uplot canvas").length >= n, charts, { timeout: 15000 });
    if (rest.includes("--wait-live")) {
      // The dashboard: wait for a second update to reach the page.
      await page.waitForFunction(() => window.__updates >= 2, null, { timeout: 15000 });
    }
    const result = await page.evaluate(() => {
      const drawn = [...document.querySelectorAll(".chart")].map((box) => {
        const c = box.querySelector("canvas");
        if (!c || !c.width || !c.height) return { id: box.id, drawn: false };
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) ink++;
        return { id: box.id, drawn: ink > 100 };
      });
      const rows = document.querySelectorAll("#requests-table tbody tr").length;
      const faults = [...document.querySelectorAll("#faults tbody tr")].map((tr) =>
        [...tr.querySelectorAll("td")].map((td) => td.textContent));
      return { drawn, rows, faults, title: document.title, verdict: (document.getElementById("verdict") || {}).textContent };
    });
    await page.screenshot({ path: shot, fullPage: true });
    if (rest.includes("--download")) {
      // The dashboard at the end of the run: its button downloads the report.
      const target = rest[rest.indexOf("--download") + 1];
      await page.waitForFunction(() => window.__final === true, null, { timeout: 60000 });
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
      await download.saveAs(target);
      result.downloaded = target;
      result.final_verdict = await page.evaluate(() => document.getElementById("verdict").textContent);
    }
    // A report is one file: it may load nothing but itself. The dashboard, only its server.
    const local = (r) => url.startsWith("file:") ? r === url : r.startsWith(new URL(url).origin);
    const foreign = requests.filter((r) => !local(r) && !r.startsWith("data:"));
    const ok = errors.length === 0 && result.drawn.length >= charts && result.drawn.every((d) => d.drawn) &&
      result.rows > 0 && foreign.length === 0;
    console.log(JSON.stringify({ ok, errors, foreign, ...result }));
    process.exitCode = ok ? 0 : 1;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.log(JSON.stringify({ ok: false, errors: [String(e)] })); process.exitCode = 1; });
