import { defineConfig } from "vitest/config";

// One vitest run over every workspace package; each package has its own `vitest.config.ts`
// (defineProject) so `pnpm --filter X test` also works on its own.
export default defineConfig({
  test: {
    projects: ["packages/*"],
    reporters: ["default", "./scripts/plain-summary-reporter.ts"],
  },
});
