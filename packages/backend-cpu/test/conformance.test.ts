import { describeConformance } from "@attn/conformance/vitest";
import { createCpuBackend } from "../src/index.js";

// backend-cpu runs every case: no skip list.
await describeConformance("cpu", () => createCpuBackend());
