/**
 * Prints how many tests ran on each database backend (their names start with [pglite] or
 * [postgres]), whether the browser journey ran (and if not, why and how to enable it), the seed of
 * the shuffled order (to replay it), and a plain closing line "N passed, N failed", so CI logs say
 * what was covered.
 */
import type { Reporter, TestModule, Vitest } from "vitest/node";
import { ENABLE_JOURNEY_HINT } from "./e2e/chromium";

const JOURNEY_FILE = /tests[\\/]e2e[\\/]journey\.test\.ts$/;

export default class BackendReporter implements Reporter {
  private seed: number | null = null;

  onInit(vitest: Vitest) {
    this.seed = vitest.getSeed();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const perBackend = new Map<string, { passed: number; failed: number }>();
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const journey = { ran: 0, failed: 0, skipNotes: new Set<string>(), present: false };
    for (const testModule of testModules) {
      const isJourney = JOURNEY_FILE.test(testModule.moduleId);
      journey.present ||= isJourney;
      for (const test of testModule.children.allTests()) {
        const result = test.result();
        const state = result.state;
        if (state === "skipped" || state === "pending") {
          skipped++;
          if (isJourney) journey.skipNotes.add((state === "skipped" && result.note) || "skipped");
          continue;
        }
        if (isJourney) {
          journey.ran++;
          if (state !== "passed") journey.failed++;
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
    if (journey.present) {
      if (journey.skipNotes.size > 0) {
        lines.push(`Browser journey: SKIPPED (${[...journey.skipNotes].join("; ")}). To run it: ${ENABLE_JOURNEY_HINT}`);
      } else {
        lines.push(`Browser journey: ran (${journey.ran - journey.failed} passed, ${journey.failed} failed)`);
      }
    } else {
      lines.push("Browser journey: not selected in this run");
    }
    if (this.seed !== null) lines.push(`Order: shuffled with seed ${this.seed}; replay it with: npm test -- --sequence.seed=${this.seed}`);
    lines.push(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
    console.log(lines.join("\n"));
  }
}
