import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "backend-webgpu", include: ["test/**/*.test.ts"] },
  ssr: { resolve: { conditions: ["source"] } },
  resolve: { conditions: ["source"] },
});
