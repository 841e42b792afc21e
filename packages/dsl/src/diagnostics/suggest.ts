/**
 * Did-you-mean suggestions. Edit distance via `fastest-levenshtein`, with a threshold that grows
 * with the length of the name: a one-letter slip in `hiden` is a typo, but `x` vs `h` is not.
 */
import { distance } from "fastest-levenshtein";

/** The largest edit distance accepted for a name of this length (TypeScript uses ~0.34 of it). */
export function maxDistanceFor(name: string): number {
  if (name.length <= 2) return 0;
  if (name.length <= 4) return 1;
  if (name.length <= 8) return 2;
  return 3;
}

/**
 * The closest candidate to `name`, or undefined when none is close enough. A case-only difference
 * always wins, a prefix counts as one edit; ties go to the candidate listed first, so callers control
 * the preference order.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    if (candidate.toLowerCase() === lower) return candidate;
    // A truncated name (`int` for `int32`, `bidir` for `bidirectional`) counts as one edit.
    if (name.length >= 3 && candidate.toLowerCase().startsWith(lower) && bestDistance > 1) {
      best = candidate;
      bestDistance = 1;
      continue;
    }
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance && d <= maxDistanceFor(name) && d < candidate.length) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
