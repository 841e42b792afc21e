import { CliError } from "../io.js";
import { el, hexColor, svgDocument, text, textWidth, tooltip } from "./svg.js";

/** What {@link imageAttentionSvg} draws: a grayscale image and one attention weight per square patch. */
export interface ImageAttentionOptions {
  /**
   * Grayscale pixels, row-major, `height * width` of them: 0…255 in a Uint8Array, otherwise 0…1
   * (clamped), 0 being black.
   */
  image: Float32Array | Uint8Array | readonly number[];
  height: number;
  width: number;
  /** One weight ≥ 0 per patch, row-major over the (height/patch) × (width/patch) grid. */
  attention: Float32Array | readonly number[];
  /** The side of a square patch in image pixels; it must divide height and width. */
  patch: number;
  /** Patch indices to outline (e.g. the k patches hard top-k attention kept). */
  selected?: readonly number[];
  /** SVG pixels per image pixel (default 8). */
  scale?: number;
  title?: string;
  /** A line of text under the image (e.g. the prediction). */
  caption?: string;
}

/** The overlay colour: orange-red reads well over any grey and differs from the blue outlines. */
export const OVERLAY_COLOR = "#ff5a00";
/** The overlay opacity of the most-attended patch: the image must stay visible underneath. */
export const OVERLAY_MAX_OPACITY = 0.6;
/** The colour of the outlines around selected patches. */
export const SELECTED_COLOR = "#0077ff";

const PAD = 10;
const TITLE_SIZE = 14;
const CAPTION_SIZE = 12;

/**
 * An SVG of where a model looked in an image: the grayscale image, an orange overlay on each patch with
 * opacity proportional to its weight / the largest weight (so the most-attended patch is always the
 * most opaque, even when attention is spread thin), 2px outlines around `selected` patches, an optional
 * title above and caption below. Each patch overlay is a `<rect class="patch">` in row-major order with a
 * tooltip; each outline a `<rect class="selected">`.
 *
 * The image is drawn as runs of equal grey merged along each row over one background rectangle of the
 * most common grey, so a 28 × 28 digit (mostly black) costs a few dozen rectangles, not 784.
 *
 * @throws CliError when sizes disagree (image length, patch not dividing the image, attention length), a
 * value is not finite, a weight is negative, or a selected index is out of range.
 */
export function imageAttentionSvg(o: ImageAttentionOptions): string {
  const { image, height: H, width: W, attention, patch } = o;
  const scale = o.scale ?? 8;
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  if (!positiveInt(H) || !positiveInt(W)) throw new CliError(`image attention: height and width must be positive integers, got ${H} × ${W}`);
  if (!positiveInt(patch)) throw new CliError(`image attention: patch size must be a positive integer, got ${patch}`);
  if (H % patch || W % patch) throw new CliError(`image attention: patch size ${patch} does not divide the image size ${H} × ${W} (height × width)`);
  if (!(Number.isFinite(scale) && scale > 0)) throw new CliError(`image attention: scale must be a positive number, got ${scale}`);
  if (image.length !== H * W) throw new CliError(`image attention: image has ${image.length} pixels, expected height × width = ${H} × ${W} = ${H * W}`);
  for (let i = 0; i < image.length; i++) {
    if (!Number.isFinite(image[i])) throw new CliError(`image attention: pixel at index ${i} (row ${Math.floor(i / W)}, col ${i % W}) is ${image[i]}; pixels must be finite`);
  }
  const gridH = H / patch;
  const gridW = W / patch;
  const nPatches = gridH * gridW;
  if (attention.length !== nPatches) {
    throw new CliError(`image attention: got ${attention.length} attention weights, expected one per patch: (${H}/${patch}) × (${W}/${patch}) = ${gridH} × ${gridW} = ${nPatches}`);
  }
  let maxW = 0;
  for (let i = 0; i < nPatches; i++) {
    const w = attention[i];
    if (!Number.isFinite(w) || w < 0) throw new CliError(`image attention: attention weight at index ${i} is ${w}; weights must be finite and ≥ 0`);
    maxW = Math.max(maxW, w);
  }
  const selected = [...new Set(o.selected ?? [])];
  for (const s of selected) {
    if (!Number.isInteger(s) || s < 0 || s >= nPatches) throw new CliError(`image attention: selected patch ${s} is out of range (there are ${nPatches} patches, 0…${nPatches - 1})`);
  }

  // Integer grey levels, so runs of "equal" values are equal exactly and the colours are 8-bit anyway.
  const bytes = image instanceof Uint8Array;
  const levels = Array.from(image, (v) => (bytes ? v : Math.round(Math.max(0, Math.min(1, v)) * 255)));
  const counts = new Array<number>(256).fill(0);
  for (const l of levels) counts[l]++;
  // The most common level (the lowest on a tie, for determinism) becomes one background rectangle.
  const base = counts.indexOf(Math.max(...counts));
  const grey = (l: number) => hexColor(l, l, l);

  const titleH = o.title ? TITLE_SIZE + 10 : 0;
  const imgX = PAD;
  const imgY = PAD + titleH;
  const imgW = W * scale;
  const imgH = H * scale;
  const captionH = o.caption ? CAPTION_SIZE + 10 : 0;
  const width = Math.max(imgW + 2 * PAD, 2 * PAD + (o.title ? textWidth(o.title, TITLE_SIZE) : 0), 2 * PAD + (o.caption ? textWidth(o.caption, CAPTION_SIZE) : 0));
  const height = imgY + imgH + captionH + PAD;

  const body: string[] = [];
  if (o.title) body.push(text(PAD, PAD + TITLE_SIZE, o.title, { "font-size": TITLE_SIZE, "font-weight": "bold" }));
  // crispEdges: adjacent pixel runs would otherwise show anti-aliasing seams.
  body.push('<g class="image" shape-rendering="crispEdges">');
  body.push(el("rect", { x: imgX, y: imgY, width: imgW, height: imgH, fill: grey(base) }));
  for (let y = 0; y < H; y++) {
    let x = 0;
    while (x < W) {
      const l = levels[y * W + x];
      let end = x + 1;
      while (end < W && levels[y * W + end] === l) end++;
      if (l !== base) body.push(el("rect", { x: imgX + x * scale, y: imgY + y * scale, width: (end - x) * scale, height: scale, fill: grey(l) }));
      x = end;
    }
  }
  body.push("</g>");

  const side = patch * scale;
  body.push('<g class="attention">');
  for (let i = 0; i < nPatches; i++) {
    const w = attention[i];
    const pr = Math.floor(i / gridW);
    const pc = i % gridW;
    // Three decimals: opacity steps of 1/1000 are invisible, and a fixed format keeps output stable.
    const opacity = maxW > 0 ? Math.round((OVERLAY_MAX_OPACITY * w * 1000) / maxW) / 1000 : 0;
    body.push(el("rect", { class: "patch", x: imgX + pc * side, y: imgY + pr * side, width: side, height: side, fill: OVERLAY_COLOR, "fill-opacity": String(opacity) }, tooltip(`patch ${i} (row ${pr}, col ${pc}): ${w.toFixed(3)}`)));
  }
  body.push("</g>");
  // Outlines sit 1px inside their patch so a 2px stroke stays within it and neighbours stay distinct.
  for (const s of selected) {
    const x = imgX + (s % gridW) * side;
    const y = imgY + Math.floor(s / gridW) * side;
    body.push(el("rect", { class: "selected", x: x + 1, y: y + 1, width: side - 2, height: side - 2, fill: "none", stroke: SELECTED_COLOR, "stroke-width": 2 }));
  }
  body.push(el("rect", { x: imgX, y: imgY, width: imgW, height: imgH, fill: "none", stroke: "#888888", "stroke-width": 1 }));
  if (o.caption) body.push(text(PAD, imgY + imgH + CAPTION_SIZE + 6, o.caption, { "font-size": CAPTION_SIZE }));
  return svgDocument(width, height, body);
}
