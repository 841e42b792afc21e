import type { Dim, ValueId } from "@attn/core";
import type { Frame } from "./frame.js";
import type { Val } from "./values.js";

/** What a name means while lowering. */
export type Binding =
  | { readonly kind: "tensor"; readonly frame: Frame; readonly id: ValueId }
  | { readonly kind: "value"; readonly value: Val }
  | { readonly kind: "poison" };

/**
 * Names visible while lowering a body. Mirrors the checker's scoping: encoder/decoder/scope blocks share
 * their body's env, a scan body gets a child env. Symbolic dims are per declaration: a block's symbols are
 * renamed per use so two uses with different sequence lengths do not unify.
 */
export class LowerEnv {
  private readonly names = new Map<string, Binding>();

  constructor(
    readonly symbols: ReadonlyMap<string, Dim>,
    readonly parent?: LowerEnv,
  ) {}

  lookup(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }

  bind(name: string, b: Binding): void {
    this.names.set(name, b);
  }

  symbol(name: string): Dim | undefined {
    return this.symbols.get(name) ?? this.parent?.symbol(name);
  }
}
