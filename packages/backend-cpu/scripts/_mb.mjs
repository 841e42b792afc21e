import asc from "assemblyscript/asc";
import { writeFileSync } from "node:fs";
const { error } = await asc.main(["/tmp/mb/" + (process.argv[2] ?? "peak") + ".ts", "--outFile", "/tmp/mb/" + (process.argv[2] ?? "peak") + ".wasm", "-O3", "--runtime", "stub", "--enable", "simd", "--noAssert"], {});
if (error) throw error;
