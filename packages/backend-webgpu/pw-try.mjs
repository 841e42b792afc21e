import { chromium } from "playwright-core";
import http from "node:http";
const srv = http.createServer((q, r) => { r.setHeader("content-type", "text/html"); r.end("<!doctype html><title>t</title>"); });
await new Promise((res) => srv.listen(0, "127.0.0.1", res));
const t0 = Date.now();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: process.argv.slice(2) });
const page = await browser.newPage();
page.on("console", (m) => console.log("page:", m.text()));
await page.goto(`http://127.0.0.1:${srv.address().port}/`);
const r = await page.evaluate(async () => {
  if (!navigator.gpu) return "no navigator.gpu";
  const a = await navigator.gpu.requestAdapter();
  return a ? { f: [...a.features], info: a.info.description, arch: a.info.architecture, fb: a.info.isFallbackAdapter } : "no adapter";
});
console.log(JSON.stringify(r), Date.now() - t0);
await browser.close(); srv.close();
