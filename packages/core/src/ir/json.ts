import { GraphError } from "../errors.js";
import type { Graph } from "./graph.js";
import { validateGraph } from "./validate.js";

/** The current version of the JSON form; readers accept this version and older ones they know. */
export const IR_JSON_VERSION = 1;

interface IrJson {
  format: "attn-ir";
  version: number;
  graph: Graph;
}

// JSON has no infinities; constants (masks, -inf fills) need them, so they travel as tagged strings.
const TAG = "$float";

/** Serialises a graph to the versioned JSON form (`{ format: "attn-ir", version, graph }`). */
export function graphToJson(graph: Graph, space?: number): string {
  const doc: IrJson = { format: "attn-ir", version: IR_JSON_VERSION, graph };
  return JSON.stringify(
    doc,
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? { [TAG]: Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf" } : v),
    space,
  );
}

/** Parses and validates the JSON form; rejects other formats and newer versions with a clear error. */
export function graphFromJson(text: string): Graph {
  let doc: unknown;
  try {
    doc = JSON.parse(text, (_k, v) => {
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && TAG in v) {
        const s = (v as Record<string, string>)[TAG];
        return s === "inf" ? Infinity : s === "-inf" ? -Infinity : NaN;
      }
      return v;
    });
  } catch (e) {
    throw new GraphError(`IR JSON is not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as Partial<IrJson>;
  if (!d || typeof d !== "object" || d.format !== "attn-ir") throw new GraphError(`not an attn IR document (expected "format": "attn-ir")`);
  if (typeof d.version !== "number" || d.version > IR_JSON_VERSION || d.version < 1) {
    throw new GraphError(`attn IR version ${d.version} is not supported (this build reads versions 1 to ${IR_JSON_VERSION})`);
  }
  if (!d.graph || typeof d.graph !== "object") throw new GraphError(`attn IR document has no graph`);
  validateGraph(d.graph);
  return d.graph;
}
