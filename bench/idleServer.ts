/**
 * 5. An idle `npm start` (embedded defaults: PGlite, sandbox WAHA, node-cron), with the Next pages
 * already built: cold start (spawn to the first answer of GET /api/v1/health), on a fresh data
 * folder and again on the same folder (a restart), and the RSS of the server process once idle.
 * `npm start` rebuilds the pages when the sources are newer than the build: the bench builds first
 * (timed apart), and flags a start that rebuilt anyway (sources changed meanwhile).
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { pagesBuildIsStale } from "../scripts/pagesBuild";
import { REPO_ROOT, processTree, spawnProcess, tail } from "./lib/children";
import { sleep } from "./lib/childRuntime";
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { type Row, mb, ms } from "./lib/table";

const SECTION = "5. Idle server (npm start)";
const IDLE_MS = 5_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface StartOutcome {
  coldStartMs: number;
  rebuilt: boolean;
  healthStatus: string;
  serverRssBytes: number;
  treeRssBytes: number;
  processes: number;
  serverRssAfterPageBytes: number | null;
  pageStatus: number | null;
}

async function startOnce(ctx: BenchContext, dataDir: string, label: string): Promise<StartOutcome> {
  const port = await freePort();
  const logFile = path.join(ctx.logDir, `idle-${label}.log`);
  const started = performance.now();
  const proc = spawnProcess("npm", ["start"], {
    logFile,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: undefined,
      WAHA_URL: undefined,
      SCHEDULER_DRIVER: undefined,
    },
  });
  try {
    let health: { status?: string } | null = null;
    const deadline = Date.now() + 5 * 60_000;
    while (!health) {
      if (proc.child.exitCode !== null) throw new Error(`npm start exited with ${proc.child.exitCode}\n${tail(logFile)}`);
      if (Date.now() > deadline) throw new Error(`npm start did not answer within 5 min\n${tail(logFile)}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
        health = (await response.json()) as { status?: string };
      } catch {
        await sleep(50);
      }
    }
    const coldStartMs = performance.now() - started;
    const rebuilt = /Building the pages/.test(readFileSync(logFile, "utf8"));
    await sleep(IDLE_MS);
    const tree = processTree(proc.child.pid!);
    const server = tree.reduce((biggest, info) => (info.rssBytes > biggest.rssBytes ? info : biggest), tree[0]!);
    let pageStatus: number | null = null;
    let serverRssAfterPageBytes: number | null = null;
    try {
      const page = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
      pageStatus = page.status;
      await page.arrayBuffer();
      await sleep(1_000);
      serverRssAfterPageBytes = processTree(server.pid).find((info) => info.pid === server.pid)?.rssBytes ?? null;
    } catch {
      // the page is a side note; the health answer is the measurement
    }
    return {
      coldStartMs,
      rebuilt,
      healthStatus: health.status ?? "?",
      serverRssBytes: server.rssBytes,
      treeRssBytes: tree.reduce((total, info) => total + info.rssBytes, 0),
      processes: tree.length,
      serverRssAfterPageBytes,
      pageStatus,
    };
  } finally {
    await proc.stop(15_000);
  }
}

export async function measureIdleServer(ctx: BenchContext): Promise<MeasurementResult> {
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  let buildNote = "pages already built";
  try {
    if (pagesBuildIsStale(REPO_ROOT)) {
      ctx.progress("idle server: building the pages first (next build; not part of the figures)");
      const logFile = path.join(ctx.logDir, "next-build.log");
      const started = performance.now();
      const build = spawnProcess(process.execPath, [path.join(REPO_ROOT, "node_modules/next/dist/bin/next"), "build"], {
        logFile,
        env: { NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
      });
      const code = await build.exited;
      await build.stop();
      if (code !== 0) throw new Error(`next build failed (exit ${code})\n${tail(logFile)}`);
      figures.buildMs = performance.now() - started;
      buildNote = `pages built first in ${ms(figures.buildMs as number)}`;
    }
    // A start that rebuilt the pages (sources edited meanwhile: others work in this tree) measured
    // the build, not the start: try again (the build is fresh then).
    const measuredStart = async (label: string, folder: () => string) => {
      let dataDir = folder();
      let outcome = await startOnce(ctx, dataDir, label);
      for (let attempt = 2; outcome.rebuilt && attempt <= 3; attempt++) {
        ctx.progress(`idle server: that start rebuilt the pages (sources changed); again (${attempt}/3)`);
        dataDir = folder();
        outcome = await startOnce(ctx, dataDir, `${label}-${attempt}`);
      }
      return { outcome, dataDir };
    };
    ctx.progress("idle server: npm start on a fresh data folder");
    const first = await measuredStart("fresh", () => ctx.tempDir("idle"));
    const fresh = first.outcome;
    ctx.progress("idle server: npm start again on the same folder (restart)");
    const { outcome: restart } = await measuredStart("restart", () => first.dataDir);
    figures.fresh = fresh;
    figures.restart = restart;
    const flag = (outcome: StartOutcome) => (outcome.rebuilt ? " (**rebuilt the pages**: sources changed during the bench)" : "");
    rows.push(
      {
        section: SECTION,
        label: "cold start, fresh data folder (spawn → /api/v1/health answers)",
        ours: `${ms(fresh.coldStartMs)}${flag(fresh)}`,
        baseline: "—",
        target: "—",
        met: null,
      },
      {
        section: SECTION,
        label: "cold start, restart on existing data",
        ours: `${ms(restart.coldStartMs)}${flag(restart)}`,
        baseline: "—",
        target: "—",
        met: null,
      },
      {
        section: SECTION,
        label: `RSS of the idle server process (${IDLE_MS / 1000} s after start)`,
        ours: `${mb(restart.serverRssBytes)} after a restart, ${mb(restart.serverRssAfterPageBytes)} after rendering /; ${mb(fresh.serverRssBytes)} after the first start on a fresh folder`,
        baseline: `whole tree incl. npm and tsx wrappers: ${mb(restart.treeRssBytes)} in ${restart.processes} processes`,
        target: "—",
        met: null,
      },
    );
    figures.buildNote = buildNote;
  } catch (error) {
    rows.push({ section: SECTION, label: "npm start", ours: errorCell(error), baseline: "—", target: "—", met: null });
  }
  return { rows, figures };
}
