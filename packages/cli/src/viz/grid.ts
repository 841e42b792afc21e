/**
 * Lays out complete SVG documents (as written by this folder's functions) in a grid, each nested as an
 * `<svg>` at its cell's offset; cells are as large as the largest picture.
 */
export function gridSvg(pictures: readonly string[], columns: number): string {
  const sizes = pictures.map((p) => {
    // svg.ts writes the root as <svg xmlns width height ...>.
    const m = /^<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"/.exec(p);
    if (!m) throw new Error("gridSvg: a picture has no width/height on its root <svg>");
    return { w: Number(m[1]), h: Number(m[2]) };
  });
  const cw = Math.max(...sizes.map((s) => s.w));
  const ch = Math.max(...sizes.map((s) => s.h));
  const cols = Math.max(1, Math.min(columns, pictures.length));
  const rows = Math.ceil(pictures.length / cols);
  const W = cw * cols;
  const H = ch * rows;
  const body = pictures.map((p, i) => p.replace(/^<svg\b/, `<svg x="${(i % cols) * cw}" y="${Math.floor(i / cols) * ch}"`));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n<rect width="${W}" height="${H}" fill="#ffffff"/>\n${body.join("\n")}\n</svg>\n`;
}
