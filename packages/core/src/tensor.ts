import { allocArray, isDType, type AnyTypedArray, type DType } from "./dtype.js";
import { ShapeError } from "./errors.js";
import { formatShape } from "./dim.js";

/** Number of elements of a concrete shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a concrete shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

type NestedNumbers = number | boolean | NestedNumbers[];

/**
 * A dense, row-major tensor in host memory. Tensors are values: kernels never mutate their inputs.
 * Bool tensors store one byte per element (0 or 1).
 */
export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: AnyTypedArray;

  constructor(dtype: DType, shape: readonly number[], data?: AnyTypedArray, name = "tensor") {
    if (!isDType(dtype)) throw new ShapeError(`${name}: unknown dtype ${JSON.stringify(dtype)}`);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new ShapeError(`${name}: shape ${formatShape(shape)} has a dimension that is not a non-negative integer`);
      }
    }
    const size = sizeOf(shape);
    const store = data ?? allocArray(dtype, size);
    const expectedCtor = allocArray(dtype, 0).constructor;
    if (store.constructor !== expectedCtor) {
      throw new ShapeError(`${name}: ${dtype} data must be a ${expectedCtor.name}, got ${store.constructor.name}`);
    }
    if (store.length !== size) {
      throw new ShapeError(`${name}: shape ${formatShape(shape)} needs ${size} elements, got ${store.length}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = store;
  }

  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }

  /** Builds a tensor from a flat list or nested arrays (shape is inferred from nesting when omitted). */
  static from(values: NestedNumbers | ArrayLike<number>, opts: { dtype?: DType; shape?: readonly number[]; name?: string } = {}): Tensor {
    const dtype = opts.dtype ?? "float32";
    const name = opts.name ?? "tensor";
    let flat: number[];
    let shape: number[];
    if (Array.isArray(values) || typeof values === "number" || typeof values === "boolean") {
      shape = [];
      flat = [];
      nestedShape(values, shape, name);
      flatten(values, flat, shape, 0, name);
    } else {
      flat = Array.from(values as ArrayLike<number>);
      shape = [flat.length];
    }
    if (opts.shape) {
      if (sizeOf(opts.shape) !== flat.length) {
        throw new ShapeError(`${name}: shape ${formatShape(opts.shape)} needs ${sizeOf(opts.shape)} elements, got ${flat.length}`);
      }
      shape = [...opts.shape];
    }
    const data = allocArray(dtype, flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (dtype !== "float32" && !Number.isInteger(v)) {
        throw new ShapeError(`${name}: element ${i} is ${v}, not an integer as ${dtype} needs`);
      }
      data[i] = dtype === "bool" ? (v ? 1 : 0) : v;
    }
    return new Tensor(dtype, shape, data, name);
  }

  static zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
    return new Tensor(dtype, shape);
  }

  static scalar(v: number, dtype: DType = "float32"): Tensor {
    return Tensor.from([v], { dtype, shape: [] });
  }

  /** Same data, new shape (no copy). */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.dtype, shape, this.data);
  }

  /** Nested JS arrays (numbers; bools as true/false). */
  toNested(): NestedNumbers {
    const { shape, data } = this;
    const rec = (dim: number, offset: number): NestedNumbers => {
      if (dim === shape.length) {
        const v = data[offset];
        return this.dtype === "bool" ? v !== 0 : v;
      }
      const inner = sizeOf(shape.slice(dim + 1));
      const out: NestedNumbers[] = [];
      for (let i = 0; i < shape[dim]; i++) out.push(rec(dim + 1, offset + i * inner));
      return out;
    };
    return rec(0, 0);
  }
}

function nestedShape(v: NestedNumbers, shape: number[], name: string): void {
  if (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length > 0) nestedShape(v[0], shape, name);
  }
}

function flatten(v: NestedNumbers, out: number[], shape: number[], depth: number, name: string): void {
  if (Array.isArray(v)) {
    if (depth >= shape.length || v.length !== shape[depth]) {
      throw new ShapeError(`${name}: ragged nested array (expected ${shape[depth] ?? "a number"} at depth ${depth})`);
    }
    for (const x of v) flatten(x, out, shape, depth + 1, name);
    return;
  }
  if (depth !== shape.length) throw new ShapeError(`${name}: ragged nested array (a number at depth ${depth})`);
  if (typeof v === "boolean") out.push(v ? 1 : 0);
  else if (typeof v === "number") out.push(v);
  else throw new ShapeError(`${name}: expected a number, got ${JSON.stringify(v)}`);
}
