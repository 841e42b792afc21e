/**
 * Node-side helpers for the backends' headless-Chromium tests (Node only: `node:http`, `node:fs`): where
 * Chromium is, what a run without it does, and the local server that hands a test page its bundles and the
 * conformance fixtures.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";
import { FIXTURES_DIR } from "./load.js";
import { parseCases } from "./parse.js";
import { describeMissingRuntime } from "./vitest.js";

/** The Chromium the browser tests drive: `$CHROMIUM_PATH`, else Debian's `chromium` package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * True when Chromium is installed. Otherwise registers the outcome under `label` (`describeMissingRuntime`:
 * a failing test under `CI`, elsewhere a skipped test whose reason is printed) and returns false.
 */
export function chromiumPresent(label: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  describeMissingRuntime(label, `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`, "has Chromium (CI installs Debian's chromium)");
  return false;
}

/** Whether case `name` is selected by `entry`: the same name, or a prefix when `entry` ends in `/`. */
export function matchesCase(entry: string, name: string): boolean {
  return entry.endsWith("/") ? name.startsWith(entry) : name === entry;
}

/**
 * The op and model fixture files (paths relative to the fixtures folder, as a page fetches them under
 * `/fixtures/`), each with its cases' names in file order.
 */
export async function fixtureFiles(): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for (const sub of ["ops", "models"]) {
    for (const f of (await readdir(join(FIXTURES_DIR, sub))).filter((x) => x.endsWith(".json")).sort()) {
      const rel = `${sub}/${f}`;
      files.set(rel, parseCases(JSON.parse(await readFile(join(FIXTURES_DIR, rel), "utf8")), rel).map((c) => c.name));
    }
  }
  return files;
}

/** A response: its content type and body. */
export interface Served {
  readonly type: string;
  readonly body: string | Uint8Array;
}

/**
 * Serves a test page on 127.0.0.1 (an ephemeral port; nothing else is reachable): `files(path, mount)` for
 * the test's own files (the page, its bundles), and the conformance fixtures under `/fixtures/` (never a
 * file outside that folder). `mounts` maps path prefixes (ending in `/`) to the headers of every response
 * under them; the longest matching prefix is stripped before lookup, so one page can be served under
 * several prefixes with different headers (`/` cross-origin isolated, `/plain/` not, say).
 */
export async function serveBrowserTest(
  files: (path: string, mount: string) => Served | undefined,
  mounts: Readonly<Record<string, Readonly<Record<string, string>>>> = { "/": {} },
): Promise<{ server: Server; url: string }> {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const fixtures = normalize(FIXTURES_DIR) + (FIXTURES_DIR.endsWith(sep) ? "" : sep);
  const server = createServer((req, res) => {
    const full = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    const mount = prefixes.find((m) => full.startsWith(m)) ?? "/";
    const path = `/${full.slice(mount.length)}`;
    const send = (status: number, type: string, body: string | Uint8Array) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...mounts[mount] });
      res.end(body);
    };
    const own = files(path, mount);
    if (own) return send(200, own.type, own.body);
    if (path.startsWith("/fixtures/")) {
      const file = normalize(join(FIXTURES_DIR, path.slice("/fixtures/".length)));
      if (!file.startsWith(fixtures)) return send(403, "text/plain", "outside the fixtures folder");
      readFile(file).then(
        (b) => send(200, file.endsWith(".json") ? "application/json" : "application/octet-stream", b),
        () => send(404, "text/plain", `no fixture ${path}`),
      );
      return;
    }
    send(404, "text/plain", `nothing at ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
