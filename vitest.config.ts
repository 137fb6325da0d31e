import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "~": fileURLToPath(new URL("./src", import.meta.url)) } },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    // Two cores: more parallel files only fight over them.
    maxWorkers: 2,
    // Test files, and the tests within each file, run in a random order on every run: a test must
    // not depend on another having run before it (only the browser journey keeps its order, see
    // tests/e2e/journey.test.ts). The seed is printed at the start and in the closing lines; replay an
    // order with `npm test -- --sequence.seed=<seed>` (or `npx vitest run --sequence.seed=<seed>`).
    sequence: { shuffle: { files: true, tests: true } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/globalSetup.ts"],
    reporters: ["default", "./tests/backendReporter.ts"],
  },
});
