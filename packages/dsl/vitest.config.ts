import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "dsl",
    // a ceiling that catches hangs on a loaded 2-core machine, never a speed assertion (that is `pnpm bench`)
    testTimeout: 60_000,
    include: ["test/**/*.test.ts"],
  },
  ssr: { resolve: { conditions: ["source"] } },
  resolve: { conditions: ["source"] },
});
