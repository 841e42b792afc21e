/**
 * POSIX-style path arithmetic for imports, without `node:path` so that loading works in browsers
 * (the playground) with an in-memory reader. Backslashes are treated as separators too.
 */

/** Resolves `.` and `..` segments and duplicate slashes; keeps a leading `/`. */
export function normalizePath(path: string): string {
  const absolute = path.startsWith("/") || path.startsWith("\\");
  const out: string[] = [];
  for (const segment of path.split(/[\\/]+/)) {
    if (segment === "" || segment === ".") continue;
    if (segment === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (segment !== ".." || !absolute) out.push(segment);
  }
  const joined = out.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

export function dirname(path: string): string {
  const normalized = normalizePath(path);
  const slash = normalized.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : normalized.slice(0, slash);
}

/** The path of `target` as imported from the file `from` (relative to `from`'s directory). */
export function resolveImport(from: string, target: string): string {
  if (target.startsWith("/")) return normalizePath(target);
  return normalizePath(`${dirname(from)}/${target}`);
}
