import type { GraphBuilder, ValueId } from "@attn/core";

/**
 * One graph under construction: the model's, or the body of a `scan` nested in it. A value from an
 * enclosing graph (an encoder output, a parameter) used inside a body becomes a capture: an extra body
 * input, fed by the scan node from the enclosing graph (ONNX Scan's scheme, made explicit).
 */
export class Frame {
  private readonly captured = new Map<ValueId, ValueId>();
  /** Ids, in the parent graph, of the values captured so far (the scan node's trailing operands). */
  readonly captureOrder: ValueId[] = [];

  constructor(
    readonly builder: GraphBuilder,
    readonly parent?: Frame,
  ) {}

  /** The id in this frame of value `id` that lives in frame `owner` (an ancestor or this one). */
  resolve(owner: Frame, id: ValueId): ValueId {
    if (owner === this) return id;
    if (!this.parent) throw new Error("value from an unrelated graph");
    const outer = this.parent.resolve(owner, id);
    let inner = this.captured.get(outer);
    if (inner === undefined) {
      inner = this.builder.input(this.parent.builder.valueName(outer), this.parent.builder.typeOf(outer));
      this.captured.set(outer, inner);
      this.captureOrder.push(outer);
    }
    return inner;
  }
}
