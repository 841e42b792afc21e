// Every example model: compile, bind seeded params, export to ONNX (opset 17), validate with onnx.checker,
// and run on onnxruntime-node at three sizes of its symbolic dims, against the cpu backend (1e-4).
import { afterAll, describe, expect, it } from "vitest";
import { Session, bindParams, type Graph } from "@attn/core";
import { compileFile } from "@attn/dsl";
import { exampleInputs, listExamples } from "@attn/models";
import { useOnnxChecker } from "./checker.js";
import { cpuBackend, expectChecked, expectSameOutputs, exportToFile, ortSession, removeTemp } from "./reference.js";

const CHECK = useOnnxChecker();
const SEED = 0;
const ATOL = 1e-4;
/** Values every symbolic dim takes in turn (batch and sequence lengths alike). */
const SIZES = [2, 5, 9];

afterAll(removeTemp);

describe("example models export to ONNX and match the cpu backend", () => {
  const examples = listExamples();
  it("finds the examples", () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  for (const ex of examples) {
    it(ex.name, async () => {
      const compiled = await compileFile(ex.path);
      const graph = compiled.graph as Graph | undefined;
      expect(graph, `${ex.name} does not compile: ${JSON.stringify(compiled.diagnostics)}`).toBeDefined();
      const params = bindParams(graph!, new Map(), { seed: SEED });
      const { path, bytes } = exportToFile(graph!, params, ex.name);
      if (CHECK) expectChecked(path);
      const session = await Session.create(graph!, await cpuBackend(), { seed: SEED });
      const ort = await ortSession(bytes);
      try {
        for (const size of SIZES) {
          const feeds = exampleInputs(graph!, { size, seed: size });
          const want = await session.run(feeds);
          const got = await ort.run(feeds);
          expectSameOutputs(got, want, ATOL, `${ex.name} (symbolic dims = ${size})`);
        }
      } finally {
        await ort.release();
        session.dispose();
      }
    });
  }
});
