/**
 * Preloaded into each fleet-bench worker (`node --import tsx --import ./bench/fleetProbe.mjs
 * src/worker/worker.ts`): the worker itself is unchanged. Counts every SQL statement the process
 * sends at the driver (node-postgres `Client#query`, which the app's pool, Drizzle's transactions,
 * pg-boss, LISTEN and the presence lock all go through), per statement shape, and samples the
 * process's RSS, CPU time and event-loop delay. Every second it writes the cumulative figures to
 * FLEET_PROBE_FILE (JSON), so the bench can take the difference between two instants.
 * Plain JavaScript: it is loaded before tsx would compile anything of ours.
 */
import { renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import process from "node:process";
import { setInterval } from "node:timers";

const file = process.env.FLEET_PROBE_FILE;
if (file) {
  // The app's own `pg` (CommonJS, one module instance per process): patching its prototype counts all clients.
  const require = createRequire(path.join(process.cwd(), "package.json"));
  const pg = require("pg");
  const counts = { total: 0, byShape: new Map() };
  const shapeOf = (text) => {
    const raw = typeof text === "string" ? text : text && typeof text === "object" && "text" in text ? String(text.text) : String(text);
    return raw
      .replace(/'(?:[^']|'')*'/g, "?")
      .replace(/\b\d+(?:\.\d+)?\b/g, "?")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, 90);
  };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (...args) {
    counts.total++;
    const shape = shapeOf(args[0]);
    counts.byShape.set(shape, (counts.byShape.get(shape) ?? 0) + 1);
    return original.apply(this, args);
  };

  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  let peakRss = 0;
  const write = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
    const cpu = process.cpuUsage();
    const byShape = Object.fromEntries([...counts.byShape.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40));
    const snapshot = {
      pid: process.pid,
      at: Date.now(),
      statements: counts.total,
      byShape,
      rssBytes: rss,
      peakRssBytes: peakRss,
      heapUsedBytes: process.memoryUsage().heapUsed,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      // Since the previous write: how late timers fired (the event loop busy with other work).
      loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
      loopDelayMaxMs: Math.round(loop.max / 1e4) / 100,
    };
    loop.reset();
    try {
      // Written aside and renamed: the bench never reads a half-written file.
      writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
      renameSync(`${file}.tmp`, file);
    } catch {
      // the bench removed its folder: nothing to report to
    }
  };
  setInterval(write, 1_000).unref();
  process.on("exit", write);
}
