import { dimEquals, dimSymbols, loneSymbol, substituteDim, type Dim } from "./dim.js";
import { ShapeError } from "./errors.js";

/**
 * Symbol bindings gathered while inferring shapes. The same class serves static checking (symbols
 * bound to other symbols or expressions) and run time (symbols bound to the concrete sizes of the
 * feeds), so every op has exactly one shape function.
 */
export class ShapeEnv {
  private readonly subst = new Map<string, Dim>();

  constructor(bindings?: Iterable<[string, Dim]>) {
    if (bindings) for (const [k, v] of bindings) this.subst.set(k, v);
  }

  /** A copy whose later bindings do not leak back (used to try a unification without committing). */
  fork(): ShapeEnv {
    return new ShapeEnv(this.subst);
  }

  /** Applies all bindings to `d` until nothing changes. */
  resolve(d: Dim): Dim {
    let cur = d;
    for (let guard = 0; guard < 64; guard++) {
      if (typeof cur === "number") return cur;
      const next = substituteDim(cur, this.subst);
      if (next === cur) return cur;
      cur = next;
    }
    return cur;
  }

  resolveShape(shape: readonly Dim[]): Dim[] {
    return shape.map((d) => this.resolve(d));
  }

  /** Concrete size of `d`, or undefined while it still mentions an unbound symbol. */
  evaluate(d: Dim): number | undefined {
    const r = this.resolve(d);
    return typeof r === "number" ? r : undefined;
  }

  /** The current bindings, resolved (for messages and for backends). */
  bindings(): Map<string, Dim> {
    return new Map([...this.subst.keys()].map((k) => [k, this.resolve(k)]));
  }

  /**
   * Makes `a` and `b` equal, binding a lone symbol on either side. Throws a ShapeError with `what`
   * (e.g. "the inner dimension of matmul") when they are provably different.
   */
  unify(a: Dim, b: Dim, what: string): Dim {
    const ra = this.resolve(a);
    const rb = this.resolve(b);
    if (dimEquals(ra, rb)) return ra;
    if (typeof ra === "number" && typeof rb === "number" && (ra < 0 || rb < 0)) {
      throw new ShapeError(`${what}: ${ra} vs ${rb}`);
    }
    const sb = loneSymbol(rb);
    if (sb !== undefined && !dimSymbols(ra).includes(sb)) {
      this.subst.set(sb, ra);
      return ra;
    }
    const sa = loneSymbol(ra);
    if (sa !== undefined && !dimSymbols(rb).includes(sa)) {
      this.subst.set(sa, rb);
      return rb;
    }
    throw new ShapeError(`${what} must match, but got ${describe(a, ra)} and ${describe(b, rb)}`);
  }
}

function describe(orig: Dim, resolved: Dim): string {
  return orig === resolved || typeof orig === "number" ? `${resolved}` : `${orig} (= ${resolved})`;
}
