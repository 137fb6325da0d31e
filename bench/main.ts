/**
 * `npm run bench [-- --quick] [--json FILE] [--markdown FILE] [--only precision,scale,sending,api,idle,restart,safety,optout,outbox,bigcampaign]`
 * `npm run bench -- --fleet [--quick] [--json FILE] [--markdown FILE]`: the fleet run alone (bench/fleet.ts, issue 15).
 *
 * Measures the scheduler and the sender against their baselines and limits (issue 7) and prints one
 * table. It reports; it does not assert: a missed target is a "no" in the table, not a failure.
 * The exit code is 1 only when a measurement could not be made. Every child process, database and
 * temp folder it creates is removed at the end, also on failure or Ctrl-C.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { measureApiLatency } from "./apiLatency";
import { measureBigCampaign } from "./bigCampaign";
import { measureFleet } from "./fleet";
import { measureIdleServer } from "./idleServer";
import { installSignalHandlers, runCleanups } from "./lib/cleanup";
import { type BenchContext, type MeasurementResult, makeTempDir, pgliteDataDirs } from "./lib/context";
import { startFakeWahaProcess } from "./lib/fakeWaha";
import { describeMachine, machineLine } from "./lib/machine";
import { leftoverDatabases } from "./lib/pg";
import { type Row, renderTable } from "./lib/table";
import { measureScheduleScale } from "./scheduleScale";
import { measureSendingOverhead } from "./sendingOverhead";
import { measureSafeSendingCost } from "./safeSendingCost";
import { measureOptOutCheckCost } from "./optOutCheckCost";
import { measureOutboxThroughput } from "./outboxThroughput";
import { measureRestartTakeover } from "./restartTakeover";
import { measureStartPrecision } from "./startPrecision";

const MEASUREMENTS: Record<string, (ctx: BenchContext) => Promise<MeasurementResult>> = {
  precision: measureStartPrecision,
  scale: measureScheduleScale,
  sending: measureSendingOverhead,
  api: measureApiLatency,
  idle: measureIdleServer,
  restart: measureRestartTakeover,
  safety: measureSafeSendingCost,
  optout: measureOptOutCheckCost,
  outbox: measureOutboxThroughput,
  bigcampaign: measureBigCampaign,
};

/** Not part of the default run (about 15 minutes, 2,000 numbers): `--fleet` runs it alone. */
const FLEET: Record<string, (ctx: BenchContext) => Promise<MeasurementResult>> = { fleet: measureFleet };

const USAGE = `usage: npm run bench -- [--quick] [--json FILE] [--markdown FILE] [--only ${Object.keys(MEASUREMENTS).join(",")}]
       [--fleet]                        the fleet run alone (2,000 numbers on 4 fake WAHA servers, 3/2/1 workers)
       [--keep-logs]                    keep the children's logs (kept anyway when a measurement fails)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      markdown: { type: "string" },
      only: { type: "string" },
      fleet: { type: "boolean", default: false },
      "keep-logs": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.fleet && values.only) {
    process.stderr.write(`--fleet runs alone: leave out --only\n${USAGE}\n`);
    return 2;
  }
  const measurements = values.fleet ? FLEET : MEASUREMENTS;
  const selected = values.fleet ? ["fleet"] : values.only ? values.only.split(",").map((name) => name.trim()) : Object.keys(MEASUREMENTS);
  const unknown = selected.filter((name) => !(name in measurements));
  if (unknown.length > 0) {
    process.stderr.write(`unknown measurement(s): ${unknown.join(", ")}\n${USAGE}\n`);
    return 2;
  }

  const logDir = mkdtempSync(path.join(os.tmpdir(), "waha-bench-logs-"));
  installSignalHandlers(`bench: children's logs kept in ${logDir}`);
  // The app's modules are loaded later, by the measurements: their logs stay off the table's stdout.
  // Children that need a level set their own.
  process.env.LOG_LEVEL ??= "warn";
  const startedAt = performance.now();
  const machine = await describeMachine();
  const progress = (message: string) =>
    process.stderr.write(`[${((performance.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  progress(`waha-campaigns bench (${values.quick ? "quick" : "full"}) on ${machineLine(machine)}`);
  const leftovers = await leftoverDatabases();
  if (leftovers.length > 0) progress(`note: databases left by an earlier, killed bench: ${leftovers.join(", ")}`);

  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  const durations: Record<string, number> = {};
  try {
    const fakeWaha = await startFakeWahaProcess(logDir);
    const ctx: BenchContext = { quick: values.quick, logDir, fakeWaha, tempDir: makeTempDir, pgliteDataDir: pgliteDataDirs(), progress };
    for (const name of selected) {
      const began = performance.now();
      try {
        const result = await measurements[name]!(ctx);
        rows.push(...result.rows);
        figures[name] = result.figures;
      } catch (error) {
        progress(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        rows.push({ section: name, label: name, ours: `error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, baseline: "—", target: "—", met: null });
      }
      durations[name] = Math.round(performance.now() - began);
      progress(`${name} done in ${(durations[name]! / 1000).toFixed(0)} s`);
    }
  } finally {
    await runCleanups();
  }

  const totalSeconds = Math.round((performance.now() - startedAt) / 1000);
  machine.loadAverageAtEnd = Math.round(os.loadavg()[0]! * 100) / 100;
  const table = renderTable(rows);
  const heading = `waha-campaigns bench, ${values.quick ? "--quick" : "full"} run${values.fleet ? " of --fleet" : ""}, ${totalSeconds} s\nMachine: ${machineLine(machine)}`;
  process.stdout.write(`\n${heading}\n\n${table}\n\n`);

  const failed = rows.some((row) => row.ours.startsWith("error:") || row.baseline.startsWith("error:"));
  if (failed) progress(`some measurements failed; children's logs kept in ${logDir}`);
  else if (values["keep-logs"]) progress(`children's logs kept in ${logDir}`);
  else rmSync(logDir, { recursive: true, force: true });

  if (values.json) {
    const report = { mode: values.quick ? "quick" : "full", machine, totalSeconds, durationsMs: durations, rows, figures };
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    progress(`figures written to ${values.json}`);
  }
  if (values.markdown) {
    writeFileSync(values.markdown, `${heading.replace("\nMachine:", "\n\nMachine:")}\n\n${table}\n`);
    progress(`table written to ${values.markdown}`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await runCleanups();
    process.exit(1);
  },
);
