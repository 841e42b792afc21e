/**
 * Small builders for SVG text. Pictures are plain strings so the CLI needs no DOM and no dependency;
 * every value goes through {@link escapeXml} or {@link num}, and attributes keep the order they are
 * given in, so the same input always gives the same bytes (files diff cleanly and tests can compare).
 */

/** An attribute value: numbers are formatted with {@link num}; `undefined` leaves the attribute out. */
export type AttrValue = string | number | undefined;

/** Escapes the five XML special characters, so labels taken from data can never break the markup. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;"));
}

/**
 * A coordinate or size with at most 2 decimals and no trailing zeros: hundredths of a pixel are below
 * what any renderer shows, and full float precision would bloat files and make them noisy to diff.
 */
export function num(n: number): string {
  const r = Math.round(n * 100) / 100;
  // `Object.is` catches -0, which would print as "0" anyway but reads as a sign bug in a diff of "-0".
  return Object.is(r, -0) ? "0" : String(r);
}

/** `name="value" …` with values escaped (or formatted, for numbers), in the order given. */
export function attrs(a: Readonly<Record<string, AttrValue>>): string {
  let s = "";
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === "number" ? num(v) : escapeXml(v)}"`;
  }
  return s;
}

/**
 * One element. `children` is markup (already built with these helpers), never raw user text: an
 * element with no children is self-closed.
 */
export function el(name: string, a: Readonly<Record<string, AttrValue>> = {}, children: string | readonly string[] = ""): string {
  const body = typeof children === "string" ? children : children.join("");
  return body ? `<${name}${attrs(a)}>${body}</${name}>` : `<${name}${attrs(a)}/>`;
}

/** A `<text>` element whose content is escaped user text. */
export function text(x: number, y: number, content: string, a: Readonly<Record<string, AttrValue>> = {}): string {
  return `<text${attrs({ x, y, ...a })}>${escapeXml(content)}</text>`;
}

/** A `<title>` child: browsers show it as a tooltip when the pointer rests on its parent. */
export function tooltip(content: string): string {
  return `<title>${escapeXml(content)}</title>`;
}

/**
 * The document: a root `<svg>` whose viewBox matches its width and height (so it scales when embedded),
 * a white background (pictures stay readable on dark pages and viewers), and sans-serif text.
 * `body` is markup, one element per entry; each goes on its own line to keep diffs readable.
 */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  const w = num(width);
  const h = num(height);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`;
  return [open, `<rect width="${w}" height="${h}" fill="#ffffff"/>`, ...body, "</svg>", ""].join("\n");
}

/**
 * A rough width of `s` in pixels at `fontSize` (average sans-serif glyph ≈ 0.6 em). SVG text cannot be
 * measured without a renderer; margins only need to be large enough, not exact.
 */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.6;
}

/** `#rrggbb` for channels 0…255 (rounded and clamped). */
export function hexColor(r: number, g: number, b: number): string {
  const h = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0");
  return `#${h(r)}${h(g)}${h(b)}`;
}
