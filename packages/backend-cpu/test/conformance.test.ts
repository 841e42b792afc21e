import { describeConformance } from "@attn/conformance/vitest";
import { createCpuBackend } from "../src/index.js";

// backend-cpu runs every case, outputs and gradients: no skip lists.
await describeConformance("cpu", () => createCpuBackend());
