import { conv2d, embedding, gru, gruCell, layernorm, linear, type Emitter } from "./nn.js";
import { FUNCTIONS } from "./functions.js";

/** Every layer and function of the catalogue, by name → its emitter. */
export const EMITTERS: Readonly<Record<string, Emitter>> = {
  embedding,
  linear,
  layernorm,
  conv2d,
  gru,
  gru_cell: gruCell,
  ...FUNCTIONS,
};

export type { Emitter } from "./nn.js";
export { emitAttention, ATTENTION_KINDS, type AttentionKind } from "./attention.js";
