/**
 * Prints how many tests ran on each database backend (their names start with [pglite] or
 * [postgres]) and a plain closing line "N passed, N failed", so CI logs say what was covered.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class BackendReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const perBackend = new Map<string, { passed: number; failed: number }>();
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === "skipped" || state === "pending") {
          skipped++;
          continue;
        }
        const ok = state === "passed";
        if (ok) passed++;
        else failed++;
        const backend = /\[(pglite|postgres)\]/.exec(test.fullName)?.[1];
        if (backend) {
          const counts = perBackend.get(backend) ?? { passed: 0, failed: 0 };
          if (ok) counts.passed++;
          else counts.failed++;
          perBackend.set(backend, counts);
        }
      }
    }
    const lines = ["", "Database tests per backend:"];
    for (const backend of ["pglite", "postgres"]) {
      const counts = perBackend.get(backend);
      lines.push(
        counts
          ? `  ${backend}: ${counts.passed} passed, ${counts.failed} failed`
          : `  ${backend}: not run${backend === "postgres" ? " (set TEST_DATABASE_URL to run them)" : ""}`,
      );
    }
    lines.push(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
    console.log(lines.join("\n"));
  }
}
