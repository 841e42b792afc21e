/**
 * Symbolic dimensions.
 *
 * A dim is a non-negative integer or a polynomial over named symbols with integer coefficients, kept as
 * canonical text (`"2*S"`, `"B*S"`, `"S+1"`). Canonical text makes dims comparable with `===`, cheap to
 * serialise, and readable in messages; the polynomial form is only built while doing arithmetic.
 */
export type Dim = number | string;

/** monomial key (symbols sorted and joined by `*`, `""` for the constant term) → coefficient */
type Poly = Map<string, number>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function polyOf(d: Dim): Poly {
  if (typeof d === "number") {
    if (!Number.isInteger(d)) throw new Error(`dimension ${d} is not an integer`);
    return d === 0 ? new Map() : new Map([["", d]]);
  }
  return parsePoly(d);
}

function addTerm(p: Poly, key: string, coef: number): void {
  const c = (p.get(key) ?? 0) + coef;
  if (c === 0) p.delete(key);
  else p.set(key, c);
}

function polyAdd(a: Poly, b: Poly, sign = 1): Poly {
  const out = new Map(a);
  for (const [k, c] of b) addTerm(out, k, sign * c);
  return out;
}

function joinMonomials(a: string, b: string): string {
  const syms = [...(a ? a.split("*") : []), ...(b ? b.split("*") : [])].sort();
  return syms.join("*");
}

function polyMul(a: Poly, b: Poly): Poly {
  const out: Poly = new Map();
  for (const [ka, ca] of a) for (const [kb, cb] of b) addTerm(out, joinMonomials(ka, kb), ca * cb);
  return out;
}

/** Divides when the result is again a polynomial with integer coefficients; otherwise undefined. */
function polyDiv(a: Poly, b: Poly): Poly | undefined {
  if (b.size === 0) return undefined;
  if (b.size === 1) {
    const [[kb, cb]] = [...b];
    const divisor = kb ? kb.split("*") : [];
    const out: Poly = new Map();
    for (const [ka, ca] of a) {
      if (ca % cb !== 0) return undefined;
      const syms = ka ? ka.split("*") : [];
      for (const s of divisor) {
        const i = syms.indexOf(s);
        if (i < 0) return undefined;
        syms.splice(i, 1);
      }
      addTerm(out, syms.join("*"), ca / cb);
    }
    return out;
  }
  // a = k·b for a constant k is the only multi-term case dimension code needs (e.g. (2*S+2)/(S+1)).
  const [[kb0, cb0]] = [...b];
  const ca0 = a.get(kb0);
  if (ca0 === undefined || ca0 % cb0 !== 0) return undefined;
  const k = ca0 / cb0;
  const diff = polyAdd(a, polyMul(b, new Map([["", k]])), -1);
  return diff.size === 0 ? new Map([["", k]]) : undefined;
}

function degree(key: string): number {
  return key ? key.split("*").length : 0;
}

function polyToDim(p: Poly): Dim {
  if (p.size === 0) return 0;
  if (p.size === 1 && p.has("")) return p.get("")!;
  const keys = [...p.keys()].sort((x, y) => degree(y) - degree(x) || (x < y ? -1 : x > y ? 1 : 0));
  let text = "";
  for (const k of keys) {
    const c = p.get(k)!;
    const mag = Math.abs(c);
    const body = k === "" ? String(mag) : mag === 1 ? k : `${mag}*${k}`;
    text += text === "" ? (c < 0 ? `-${body}` : body) : c < 0 ? `-${body}` : `+${body}`;
  }
  return text;
}

// A small recursive-descent parser for dim text: sums of products of integers, names and parentheses.
function parsePoly(text: string): Poly {
  const toks = text.match(/[A-Za-z_][A-Za-z0-9_]*|\d+|[-+*/()]|\S/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`invalid dimension expression "${text}": ${why}`);
  };
  const peek = () => toks[i];
  function sum(): Poly {
    let acc = product();
    while (peek() === "+" || peek() === "-") {
      const op = toks[i++];
      acc = polyAdd(acc, product(), op === "-" ? -1 : 1);
    }
    return acc;
  }
  function product(): Poly {
    let acc = factor();
    while (peek() === "*" || peek() === "/") {
      const op = toks[i++];
      const rhs = factor();
      if (op === "*") acc = polyMul(acc, rhs);
      else acc = polyDiv(acc, rhs) ?? fail(`division is not exact`);
    }
    return acc;
  }
  function factor(): Poly {
    const t = toks[i++];
    if (t === undefined) return fail("unexpected end");
    if (t === "-") return polyMul(new Map([["", -1]]), factor());
    if (t === "(") {
      const inner = sum();
      if (toks[i++] !== ")") fail("missing `)`");
      return inner;
    }
    if (/^\d+$/.test(t)) return polyOf(Number(t));
    if (IDENT.test(t)) return new Map([[t, 1]]);
    return fail(`unexpected "${t}"`);
  }
  const p = sum();
  if (i !== toks.length) fail(`unexpected "${toks[i]}"`);
  return p;
}

/** Parses and canonicalises dim text (`"S * 2"` → `"2*S"`, `"3"` → `3`). Throws on malformed text. */
export function parseDim(text: string): Dim {
  return polyToDim(parsePoly(text));
}

export function isSymbolic(d: Dim): d is string {
  return typeof d === "string";
}

export function dimAdd(a: Dim, b: Dim): Dim {
  return typeof a === "number" && typeof b === "number" ? a + b : polyToDim(polyAdd(polyOf(a), polyOf(b)));
}
export function dimSub(a: Dim, b: Dim): Dim {
  return typeof a === "number" && typeof b === "number" ? a - b : polyToDim(polyAdd(polyOf(a), polyOf(b), -1));
}
export function dimMul(a: Dim, b: Dim): Dim {
  return typeof a === "number" && typeof b === "number" ? a * b : polyToDim(polyMul(polyOf(a), polyOf(b)));
}
/** Exact division; undefined where the quotient is not an integer polynomial. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === "number" && typeof b === "number") return b !== 0 && a % b === 0 ? a / b : undefined;
  const q = polyDiv(polyOf(a), polyOf(b));
  return q && polyToDim(q);
}
/** Product of dims (the element count of a shape). */
export function dimProduct(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((acc, d) => dimMul(acc, d), 1);
}
export function dimEquals(a: Dim, b: Dim): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b;
  return polyToDim(polyOf(a)) === polyToDim(polyOf(b));
}

/** Symbols a dim mentions, sorted. */
export function dimSymbols(d: Dim): string[] {
  if (typeof d === "number") return [];
  const out = new Set<string>();
  for (const k of parsePoly(d).keys()) for (const s of k ? k.split("*") : []) out.add(s);
  return [...out].sort();
}

/** Replaces symbols by dims (numbers or expressions) and re-canonicalises. */
export function substituteDim(d: Dim, subst: ReadonlyMap<string, Dim>): Dim {
  if (typeof d === "number") return d;
  let acc: Poly = new Map();
  for (const [k, c] of parsePoly(d)) {
    let term: Poly = new Map([["", c]]);
    for (const s of k ? k.split("*") : []) term = polyMul(term, polyOf(subst.get(s) ?? s));
    acc = polyAdd(acc, term);
  }
  return polyToDim(acc);
}

/** If `d` is a lone symbol (`"S"`, not `"2*S"`), its name. */
export function loneSymbol(d: Dim): string | undefined {
  return typeof d === "string" && IDENT.test(d) ? d : undefined;
}

/** Formats a shape for messages: `[B, S, 64]`. */
export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}
