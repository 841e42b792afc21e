import { formatSpan, type SourceSpan } from "./span.js";

/** Base class of every error attn throws on purpose; `span` points back to `.attn` source when known. */
export class AttnError extends Error {
  readonly span: SourceSpan | undefined;
  constructor(message: string, span?: SourceSpan) {
    super(span ? `${formatSpan(span)}: ${message}` : message);
    this.name = new.target.name;
    this.span = span;
  }
  /** The message without the `file:line:col` prefix. */
  get detail(): string {
    return this.span ? this.message.slice(formatSpan(this.span).length + 2) : this.message;
  }
}

/** A shape or dtype that does not fit an op, a graph input or an output declaration. */
export class ShapeError extends AttnError {
  /** Rethrows with a source span attached (keeps the original detail). */
  withSpan(span: SourceSpan | undefined): ShapeError {
    return span && !this.span ? new ShapeError(this.detail, span) : this;
  }
}

/** A weights file or parameter tensor that is malformed, missing, unexpected or of the wrong shape. */
export class WeightsError extends AttnError {}

/** A backend cannot compile or run something (missing kernel, bad runtime input). */
export class BackendError extends AttnError {}

/** An IR graph that breaks an invariant (dangling value, wrong JSON format, bad attribute). */
export class GraphError extends AttnError {}
