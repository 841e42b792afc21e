// The official ONNX checker (Debian's python3-onnx: ONNX 1.12, opsets ≤ 17), run on exported files.
// scripts/install.sh installs it where it can (root with apt-get). Without it the checker tests skip with a
// message, except in CI (CI set), where a missing checker is a failure.
import { spawnSync } from "node:child_process";

export const PYTHON = "/usr/bin/python3";
const CHECK = "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)";

let available: boolean | undefined;

/** True when `/usr/bin/python3 -c "import onnx"` works. */
export function onnxCheckerAvailable(): boolean {
  available ??= spawnSync(PYTHON, ["-c", "import onnx"], { encoding: "utf8" }).status === 0;
  return available;
}

/** True when running in CI (the `CI` environment variable is set and not "false"/"0"). */
export function inCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== "" && v !== "false" && v !== "0";
}

/**
 * Whether the checker tests should run: true when the checker is installed; false (after printing why)
 * outside CI without it; throws in CI without it.
 */
export function useOnnxChecker(): boolean {
  if (onnxCheckerAvailable()) return true;
  const why = `onnx.checker is unavailable (${PYTHON} cannot import onnx; install Debian's python3-onnx, as scripts/install.sh does when run as root)`;
  if (inCI()) throw new Error(`${why}: required in CI`);
  console.warn(`skipping onnx.checker tests: ${why}`);
  return false;
}

/** Runs `onnx.checker.check_model(full_check=True)` on an .onnx file; returns the checker's error or null. */
export function checkOnnxFile(path: string): string | null {
  const r = spawnSync(PYTHON, ["-c", CHECK, path], { encoding: "utf8" });
  if (r.error) return String(r.error);
  return r.status === 0 ? null : (r.stderr || r.stdout || `exit ${r.status}`).trim().split("\n").slice(-5).join("\n");
}
