import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tensor } from "@attn/core";
import { EXAMPLES_DIR } from "@attn/models";
import { CliError } from "../src/io.js";
import { escapeXml, num, svgDocument } from "../src/viz/svg.js";
import { attentionHeatmapSvg, heatColor, HEAT_DARK } from "../src/viz/attention-heatmap.js";
import { attentionMatrix } from "../src/viz/attention-matrix.js";
import { imageAttentionSvg, OVERLAY_MAX_OPACITY } from "../src/viz/image-attention.js";
import { curveSeries, downsample, niceTicks, parseJsonl, trainingCurvesSvg, MAX_POINTS } from "../src/viz/curves.js";
import { cli } from "./helpers.js";

/** The attributes of every element `tag` (optionally only those with class `cls`), in document order. */
function elements(svg: string, tag: string, cls?: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of svg.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, "g"))) {
    const a: Record<string, string> = {};
    for (const [, k, v] of m[1].matchAll(/([\w:-]+)="([^"]*)"/g)) a[k] = v;
    if (cls === undefined || a.class === cls) out.push(a);
  }
  return out;
}

/** The text of every `<title>` tooltip, unescaped. */
function tooltips(svg: string): string[] {
  return [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&"));
}

/** Every `<text>` element's content (still escaped). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe("svg helpers", () => {
  it("escapes the XML specials and formats numbers to at most 2 decimals", () => {
    expect(escapeXml(`<a&b> "q" 'p'`)).toBe("&lt;a&amp;b&gt; &quot;q&quot; &apos;p&apos;");
    expect(num(1 / 3)).toBe("0.33");
    expect(num(2.5)).toBe("2.5");
    expect(num(10)).toBe("10");
    expect(num(-0.001)).toBe("0");
  });
  it("makes a root svg whose viewBox matches its size, on a white background, in sans-serif", () => {
    const doc = svgDocument(120.456, 80, []);
    const root = elements(doc, "svg")[0];
    expect(root).toMatchObject({ width: "120.46", height: "80", viewBox: "0 0 120.46 80", "font-family": "sans-serif" });
    expect(elements(doc, "rect")[0]).toMatchObject({ fill: "#ffffff", width: "120.46", height: "80" });
  });
});

describe("attentionHeatmapSvg", () => {
  const weights = [1, 0, 0.5, 0, 0.25, 1];
  it("draws one cell per weight, row-major, white at 0 and dark blue at 1", () => {
    const svg = attentionHeatmapSvg({ weights, rows: 2, cols: 3 });
    const cells = elements(svg, "rect", "cell");
    expect(cells).toHaveLength(6);
    expect(cells.map((c) => c.fill)).toEqual([HEAT_DARK, "#ffffff", heatColor(0.5), "#ffffff", heatColor(0.25), HEAT_DARK]);
    // row-major: x grows along a row, y steps down once per row
    const xs = cells.map((c) => Number(c.x));
    const ys = cells.map((c) => Number(c.y));
    expect(xs[0] < xs[1] && xs[1] < xs[2] && xs[3] === xs[0]).toBe(true);
    expect(ys.slice(0, 3).every((y) => y === ys[0]) && ys.slice(3).every((y) => y > ys[0])).toBe(true);
    expect(tooltips(svg)).toEqual(["0 → 0: 1.000", "0 → 1: 0.000", "0 → 2: 0.500", "1 → 0: 0.000", "1 → 1: 0.250", "1 → 2: 1.000"]);
    // a colour bar labelled 0 and 1
    expect(elements(svg, "rect", "colorbar")).toHaveLength(1);
    expect(texts(svg)).toEqual(expect.arrayContaining(["0", "1"]));
  });
  it("uses the absolute 0…1 scale, clamping outside it", () => {
    expect(heatColor(0)).toBe("#ffffff");
    expect(heatColor(1)).toBe(HEAT_DARK);
    expect(heatColor(1.7)).toBe(HEAT_DARK);
    expect(heatColor(-0.2)).toBe("#ffffff");
    // a flat row of a 4-way softmax is pale whatever the rest holds: 0.25 is a quarter of the way to dark
    const red = (c: string) => parseInt(c.slice(1, 3), 16);
    expect(red(heatColor(0.25))).toBe(Math.round(255 - 0.25 * (255 - red(HEAT_DARK))));
  });
  it("escapes labels and title, and rotates long column labels only", () => {
    const svg = attentionHeatmapSvg({ weights, rows: 2, cols: 3, rowLabels: ["<a&b>", "x"], colLabels: ["le", "chat", "noir"], title: `"T" & co`, rowAxis: "query", colAxis: "key" });
    expect(svg).not.toContain("<a&b>");
    expect(texts(svg)).toEqual(expect.arrayContaining(["&lt;a&amp;b&gt;", "&quot;T&quot; &amp; co", "chat", "query", "key"]));
    expect(tooltips(svg)[0]).toBe("<a&b> → le: 1.000");
    const rotatedLabels = (s: string) => elements(s, "text").filter((t) => t.transform?.startsWith("rotate(-90") && t["text-anchor"] !== "middle").length;
    expect(rotatedLabels(svg)).toBe(3);
    expect(rotatedLabels(attentionHeatmapSvg({ weights, rows: 2, cols: 3, colLabels: ["a", "bc", "d"] }))).toBe(0);
  });
  it("is deterministic", () => {
    const o = { weights: Float32Array.from(weights), rows: 2, cols: 3, title: "t" };
    expect(attentionHeatmapSvg(o)).toBe(attentionHeatmapSvg(o));
  });
  it("rejects bad input with a message naming the problem", () => {
    expect(() => attentionHeatmapSvg({ weights: [1, 2, 3, 4, 5], rows: 2, cols: 3 })).toThrow(/got 5 weights, expected rows × cols = 2 × 3 = 6/);
    expect(() => attentionHeatmapSvg({ weights, rows: 2, cols: 3, rowLabels: ["a"] })).toThrow(/rowLabels has 1 labels, expected 2 \(one per row\)/);
    expect(() => attentionHeatmapSvg({ weights, rows: 2, cols: 3, colLabels: ["a", "b"] })).toThrow(/colLabels has 2 labels, expected 3/);
    expect(() => attentionHeatmapSvg({ weights: [1, 0, 0, 0, NaN, 1], rows: 2, cols: 3 })).toThrow(/weight at index 4 \(row 1, col 1\) is NaN/);
    expect(() => attentionHeatmapSvg({ weights: [Infinity], rows: 1, cols: 1 })).toThrow(/index 0 .* is Infinity/);
    expect(() => attentionHeatmapSvg({ weights: [], rows: 0, cols: 3 })).toThrow(CliError);
  });
});

describe("attentionMatrix", () => {
  it("keeps [rows, cols], takes batch item 0 of rank 3 and averages heads of rank 4", () => {
    expect(attentionMatrix(Tensor.from([[0.5, 0.5]]), "w")).toMatchObject({ rows: 1, cols: 2, note: "" });
    const r3 = attentionMatrix(Tensor.from([[[1, 0]], [[0, 1]]]), "w");
    expect([...r3.weights]).toEqual([1, 0]);
    expect(r3.note).toBe("batch item 0 of 2");
    // [B=2, heads=2, 1, 2]: item 0's heads [1, 0] and [0.5, 0.5] average to [0.75, 0.25]; item 1 is ignored
    const r4 = attentionMatrix(Tensor.from([[[[1, 0]], [[0.5, 0.5]]], [[[0, 1]], [[0, 1]]]]), "w");
    expect([...r4.weights]).toEqual([0.75, 0.25]);
    expect(r4.note).toBe("batch item 0 of 2, mean over 2 heads");
  });
  it("rejects other ranks and empty tensors, naming the output and shape", () => {
    expect(() => attentionMatrix(Tensor.from([1, 2]), "p")).toThrow(/output "p" has shape \[2\]; expected attention weights/);
    expect(() => attentionMatrix(new Tensor("float32", [1, 1, 1, 1, 1]), "p")).toThrow(/shape \[1, 1, 1, 1, 1\]/);
    expect(() => attentionMatrix(new Tensor("float32", [0, 2, 2]), "p")).toThrow(/is empty/);
  });
});

describe("imageAttentionSvg", () => {
  // 4 × 4 image, 2 × 2 patches → a 2 × 2 grid of patches
  const image = Uint8Array.from([0, 0, 0, 0, 0, 0, 255, 255, 0, 128, 128, 0, 0, 0, 0, 0]);
  const base = { image, height: 4, width: 4, patch: 2, scale: 10 };

  it("scales overlay opacity by weight / max weight: the max patch is the most opaque, a zero patch transparent", () => {
    const svg = imageAttentionSvg({ ...base, attention: [0, 0.1, 0.4, 0.2] });
    const patches = elements(svg, "rect", "patch");
    expect(patches).toHaveLength(4);
    const op = patches.map((p) => Number(p["fill-opacity"]));
    expect(op[2]).toBe(OVERLAY_MAX_OPACITY);
    expect(Math.max(...op)).toBe(op[2]);
    expect(op[0]).toBe(0);
    expect(op[1]).toBeCloseTo(OVERLAY_MAX_OPACITY / 4, 3);
    expect(op[3]).toBeCloseTo(OVERLAY_MAX_OPACITY / 2, 3);
    // row-major patches: patch 2 is row 1, col 0
    expect(patches[2]).toMatchObject({ x: patches[0].x, y: String(Number(patches[0].y) + 20) });
    expect(tooltips(svg)[2]).toBe("patch 2 (row 1, col 0): 0.400");
  });
  it("outlines each selected patch once with a 2px stroke", () => {
    const svg = imageAttentionSvg({ ...base, attention: [0, 0.1, 0.4, 0.2], selected: [2, 3, 2] });
    const sel = elements(svg, "rect", "selected");
    expect(sel).toHaveLength(2);
    expect(sel.every((s) => s["stroke-width"] === "2" && s.fill === "none")).toBe(true);
    expect(elements(imageAttentionSvg({ ...base, attention: [1, 1, 1, 1] }), "rect", "selected")).toHaveLength(0);
  });
  it("draws the image as merged runs that reproduce every pixel", () => {
    const svg = imageAttentionSvg({ ...base, attention: [1, 1, 1, 1] });
    const group = svg.slice(svg.indexOf('<g class="image"'), svg.indexOf("</g>"));
    const rects = elements(group, "rect");
    // a background of the most common grey (black) plus one run for 255 255 and one for 128 128
    expect(rects).toHaveLength(3);
    const [bg, ...runs] = rects;
    const painted = new Array<string>(16).fill(bg.fill);
    const x0 = Number(bg.x);
    const y0 = Number(bg.y);
    for (const r of runs) {
      const row = (Number(r.y) - y0) / 10;
      for (let c = (Number(r.x) - x0) / 10; c < (Number(r.x) - x0 + Number(r.width)) / 10; c++) painted[row * 4 + c] = r.fill;
    }
    const hex = (l: number) => "#" + l.toString(16).padStart(2, "0").repeat(3);
    expect(painted).toEqual(Array.from(image, hex));
  });
  it("reads float images as 0…1 and writes title and caption escaped", () => {
    const svg = imageAttentionSvg({ image: [0.5, 0.5, 1, 0], height: 2, width: 2, patch: 1, attention: [0, 0, 0, 0], caption: "pred: 7 <sure>", title: "digit" });
    expect(elements(svg, "rect").map((r) => r.fill)).toEqual(expect.arrayContaining(["#808080", "#ffffff", "#000000"]));
    expect(texts(svg)).toEqual(expect.arrayContaining(["digit", "pred: 7 &lt;sure&gt;"]));
    // all-zero attention: nothing is highlighted rather than dividing by zero
    expect(elements(svg, "rect", "patch").every((p) => p["fill-opacity"] === "0")).toBe(true);
  });
  it("rejects bad input with a message naming the problem", () => {
    expect(() => imageAttentionSvg({ ...base, image: new Uint8Array(15), attention: [1, 1, 1, 1] })).toThrow(/image has 15 pixels, expected height × width = 4 × 4 = 16/);
    expect(() => imageAttentionSvg({ ...base, patch: 3, attention: [1] })).toThrow(/patch size 3 does not divide the image size 4 × 4/);
    expect(() => imageAttentionSvg({ ...base, attention: [1, 1, 1] })).toThrow(/got 3 attention weights, expected one per patch: .* = 4/);
    expect(() => imageAttentionSvg({ ...base, attention: [1, 1, 1, 1], selected: [4] })).toThrow(/selected patch 4 is out of range/);
    expect(() => imageAttentionSvg({ ...base, attention: [1, -1, 1, 1] })).toThrow(/attention weight at index 1 is -1/);
    expect(() => imageAttentionSvg({ ...base, image: [0, NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], attention: [1, 1, 1, 1] })).toThrow(/pixel at index 1 \(row 0, col 1\) is NaN/);
  });
});

describe("training curves", () => {
  it("niceTicks gives 4–6 ticks of step 1, 2 or 5 × 10^k that cover the data range", () => {
    expect(niceTicks(0, 1).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.3, 2.9).values).toEqual([0, 1, 2, 3]);
    expect(niceTicks(5, 5).values[0]).toBeLessThanOrEqual(5);
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const scale = 10 ** Math.floor(rand() * 12 - 6);
      const a = (rand() * 2 - 1) * scale * 10;
      const b = a + rand() * scale * 10 + scale * 1e-3;
      const t = niceTicks(a, b).values;
      const why = `${a} … ${b}: ${t.join(", ")}`;
      expect(t.length, why).toBeGreaterThanOrEqual(4);
      expect(t.length, why).toBeLessThanOrEqual(6);
      expect(t[0], why).toBeLessThanOrEqual(a);
      expect(t[t.length - 1], why).toBeGreaterThanOrEqual(b);
      const step = t[1] - t[0];
      const mant = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 5].some((m) => Math.abs(mant - m) < 1e-6), why).toBe(true);
      for (let k = 2; k < t.length; k++) expect(Math.abs(t[k] - t[k - 1] - step), why).toBeLessThan(step * 1e-6);
    }
  });
  it("downsamples long series to at most 800 points, preserving the mean", () => {
    const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    for (const n of [8000, 10_000, 12_345]) {
      const x = Array.from({ length: n }, (_, i) => i + 1);
      const y = x.map((i) => Math.sin(i / 50) + 2 + ((i * 7919) % 13) / 13);
      const d = downsample(x, y);
      expect(d.x.length).toBeLessThanOrEqual(MAX_POINTS);
      expect(d.x.length).toBeGreaterThan(MAX_POINTS / 2);
      expect(d.bucket).toBe(Math.ceil(n / MAX_POINTS));
      expect(mean(d.y)).toBeCloseTo(mean(y), n % MAX_POINTS === 0 ? 10 : 2);
      expect(d.x.every((v, i) => i === 0 || v > d.x[i - 1])).toBe(true);
    }
    const short = downsample([1, 2, 3], [4, 5, 6]);
    expect(short).toEqual({ x: [1, 2, 3], y: [4, 5, 6], bucket: 1 });
  });
  it("reads `attn train --log` events: x is the step, epoch summaries sit at their last step", () => {
    const log = [
      { type: "step", epoch: 1, batch: 1, batches: 2, examples: 4, step: 1, loss: 2, lr: 0.01, time: "t" },
      { type: "step", epoch: 1, batch: 2, batches: 2, examples: 4, step: 2, loss: 1, lr: 0.01, time: "t" },
      { type: "checkpoint", step: 2 },
      { type: "epoch", epoch: 1, trainLoss: 1.5, metrics: { valid_loss: 1.2 }, time: "t" },
      { type: "early_stop", epoch: 1, best: 1.2 },
    ];
    const { xAxis, series } = curveSeries(log);
    expect(xAxis).toBe("step");
    expect(series.map((s) => s.name)).toEqual(["loss", "lr", "trainLoss", "valid_loss"]);
    expect(series[3]).toEqual({ name: "valid_loss", x: [2], y: [1.2] });
  });
  it("reads plain per-epoch records on the epoch axis and draws one panel per metric", () => {
    const recs = [1, 2, 3].map((epoch) => ({ epoch, train_loss: 1 / epoch, valid_wer: 30 - epoch, seconds: 120 }));
    expect(curveSeries(recs).xAxis).toBe("epoch");
    const svg = trainingCurvesSvg(recs, { title: "run <1>" });
    expect(elements(svg, "g", "panel").map((g) => g["data-metric"])).toEqual(["train_loss", "valid_wer", "seconds"]);
    expect(svg).toContain("run &lt;1&gt;");
    // a falling loss goes down the page: SVG y grows downwards
    const pts = elements(svg, "polyline", "series")[0].points.split(" ").map((p) => p.split(",").map(Number));
    expect(pts).toHaveLength(3);
    expect(pts[0][1]).toBeLessThan(pts[2][1]);
    expect(pts[0][0]).toBeLessThan(pts[2][0]);
    const only = trainingCurvesSvg(recs, { metrics: ["valid_wer"] });
    expect(elements(only, "g", "panel")).toHaveLength(1);
    expect(() => trainingCurvesSvg(recs, { metrics: ["bleu"] })).toThrow(/no metric "bleu" in the log \(available: train_loss, valid_wer, seconds\)/);
    expect(() => trainingCurvesSvg([{ epoch: 1 }])).toThrow(/no numeric fields to plot/);
  });
  it("says in the subtitle when a long series was averaged", () => {
    const recs = Array.from({ length: 5000 }, (_, i) => ({ type: "step", step: i + 1, loss: 3 / Math.sqrt(i + 1) }));
    const svg = trainingCurvesSvg(recs);
    const pts = elements(svg, "polyline", "series")[0].points.split(" ");
    expect(pts.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(texts(svg)).toContain("5,000 points, shown as 715 means of 7 consecutive points");
  });
  it("parseJsonl names the file and line of a bad line", () => {
    expect(parseJsonl('{"a":1}\n\n{"a":2}\n', "log.jsonl")).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseJsonl("\uFEFF{\"a\":1}\r\n", "log.jsonl")).toEqual([{ a: 1 }]);
    expect(() => parseJsonl('{"a":1}\n{"a":2}\n{"a":\n', "log.jsonl")).toThrow(/^log\.jsonl:3: not valid JSON/);
    expect(() => parseJsonl('{"a":1}\n[1]\n', "log.jsonl")).toThrow(/^log\.jsonl:2: expected a JSON object/);
  });
});

describe("attn viz", () => {
  it("rejects a missing or unknown picture kind and stray arguments as usage errors", async () => {
    const none = await cli("viz");
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/attn viz: missing what to draw \(available: curves, attention\)/);
    const bogus = await cli("viz", "bogus", "x.jsonl");
    expect(bogus.code).toBe(2);
    expect(bogus.err).toMatch(/unknown picture "bogus"/);
    expect((await cli("viz", "curves")).err).toMatch(/attn viz curves: missing FILE/);
    expect((await cli("viz", "curves", "a.jsonl", "b.jsonl")).code).toBe(2);
  });

  it("viz curves writes one panel per metric from a training log, atomically", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-viz-"));
    const log = join(dir, "log.jsonl");
    const lines = [];
    for (let step = 1; step <= 30; step++) lines.push(JSON.stringify({ type: "step", epoch: Math.ceil(step / 10), batch: ((step - 1) % 10) + 1, batches: 10, examples: 320, step, loss: 2 / step, lr: 0.001 }));
    lines.splice(10, 0, JSON.stringify({ type: "epoch", epoch: 1, trainLoss: 0.5, metrics: { valid_loss: 0.6 } }));
    await writeFile(log, lines.join("\n") + "\n");
    const out = join(dir, "curves.svg");
    const r = await cli("viz", "curves", log, "-o", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`wrote ${out} (31 records)`);
    const svg = await readFile(out, "utf8");
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(elements(svg, "g", "panel").map((g) => g["data-metric"])).toEqual(["loss", "lr", "trainLoss", "valid_loss"]);
    expect(await readdir(dir)).toEqual(["curves.svg", "log.jsonl"]); // no temporary file left behind

    const one = await cli("viz", "curves", log, "-o", out, "--metric", "valid_loss", "--metric", "loss");
    expect(one.code).toBe(0);
    expect(elements(await readFile(out, "utf8"), "g", "panel").map((g) => g["data-metric"])).toEqual(["valid_loss", "loss"]);

    const unknown = await cli("viz", "curves", log, "-o", out, "--metric", "bleu");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no metric "bleu" in the log \(available: loss, lr, trainLoss, valid_loss\)/);

    await writeFile(join(dir, "bad.jsonl"), lines.slice(0, 2).join("\n") + "\n{oops\n");
    const bad = await cli("viz", "curves", join(dir, "bad.jsonl"), "-o", out);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad\.jsonl:3: not valid JSON/);
    expect(bad.err).not.toMatch(/\n\s+at /); // a message, not a stack trace

    const missing = await cli("viz", "curves", join(dir, "nope.jsonl"), "-o", out);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/log file .*nope\.jsonl does not exist/);
    expect((await cli("viz", "curves", log)).err).toMatch(/attn viz curves needs -o FILE\.svg/);
  });

  it("viz attention runs dot.attn on the cpu and draws its rows × cols weights", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-viz-"));
    const T = 3;
    const S = 4;
    const vec = (i: number) => Array.from({ length: 16 }, (_, j) => Math.sin(i * 1.7 + j * 0.3));
    const inputs = join(dir, "inputs.json");
    // the last key is padding (true = masked out), so its column must be all zeros
    await writeFile(inputs, JSON.stringify({ query: [Array.from({ length: T }, (_, i) => vec(i))], memory: [Array.from({ length: S }, (_, i) => vec(i + 10))], pad: [[false, false, false, true]] }));
    const model = join(EXAMPLES_DIR, "dot.attn");
    const out = join(dir, "heat.svg");
    const r = await cli("viz", "attention", model, "--inputs", inputs, "--output", "weights", "-o", out, "--rows", "le,chat,noir", "--cols", "the,black,cat,<pad>");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`wrote ${out} (3 × 4 attention weights "weights", batch item 0 of 1)`);
    const svg = await readFile(out, "utf8");
    const cells = elements(svg, "rect", "cell");
    expect(cells).toHaveLength(T * S);
    const tips = tooltips(svg);
    expect(tips[0]).toMatch(/^le → the: /);
    expect(tips[3]).toBe("le → <pad>: 0.000");
    const w = tips.map((t) => Number(t.split(": ")[1]));
    for (let row = 0; row < T; row++) expect(w.slice(row * S, row * S + S).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    expect([3, 7, 11].map((i) => cells[i].fill)).toEqual(["#ffffff", "#ffffff", "#ffffff"]);

    // without --output, the model's one attention output is drawn, labelled by index
    const dflt = await cli("viz", "attention", model, "--inputs", inputs, "-o", out);
    expect(dflt.code).toBe(0);
    expect(tooltips(await readFile(out, "utf8"))[0]).toMatch(/^0 → 0: /);
  });

  it("viz attention reports bad input as one message with exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "attn-viz-"));
    const inputs = join(dir, "inputs.json");
    await writeFile(inputs, JSON.stringify({ query: [[Array(16).fill(0.1)]], memory: [[Array(16).fill(0.2), Array(16).fill(0.3)]], pad: [[false, false]] }));
    const model = join(EXAMPLES_DIR, "dot.attn");
    const out = join(dir, "heat.svg");
    const unknown = await cli("viz", "attention", model, "--inputs", inputs, "--output", "nope", "-o", out);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('no output "nope" in LuongDot (available: context, weights)');
    const rows = await cli("viz", "attention", model, "--inputs", inputs, "--output", "weights", "-o", out, "--rows", "a,b");
    expect(rows.code).toBe(1);
    expect(rows.err).toBe('--rows has 2 labels but output "weights" has 1 rows');
    const cols = await cli("viz", "attention", model, "--inputs", inputs, "-o", out, "--cols", "x,y,z");
    expect(cols.err).toBe('--cols has 3 labels but output "weights" has 2 columns');
    expect((await cli("viz", "attention", model, "-o", out)).err).toMatch(/attn viz attention needs --inputs/);
    expect((await cli("viz", "attention", join(dir, "missing.attn"), "--inputs", inputs, "-o", out)).code).toBe(1);
    // an output of the wrong rank: mean over two axes leaves [B]
    const pool = join(dir, "pool.attn");
    await writeFile(pool, "model Pool() {\n  input x: float32[B, S, 3]\n  output p: float32[B]\n\n  p = mean(x, axis: [1, 2])\n}\n");
    await writeFile(join(dir, "x.json"), JSON.stringify({ x: [[[1, 2, 3]]] }));
    const rank = await cli("viz", "attention", pool, "--inputs", join(dir, "x.json"), "--output", "p", "-o", out);
    expect(rank.err).toMatch(/output "p" has shape \[1\]; expected attention weights \[rows, cols\]/);
    expect(rank.code).toBe(1);
    expect(await readdir(dir)).not.toContain("heat.svg");
  });
});
