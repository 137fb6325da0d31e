/**
 * Preloaded into the big-campaign bench's server (`NODE_OPTIONS=--import …/bench/bigCampaignProbe.mjs`,
 * inherited by every node process `npm start` makes): when BIG_PROBE_FILE is set, samples
 * `process.memoryUsage()` every 100 ms and writes, every 500 ms, the latest sample and the one where
 * RSS peaked to `<BIG_PROBE_FILE>.<pid>` (JSON). PGlite's WebAssembly memory shows in `external`
 * (measured: 142–150 MB; not in `arrayBuffers`); `heapUsed` is JavaScript's own.
 * Plain JavaScript: it is loaded before tsx would compile anything of ours.
 */
import { renameSync, writeFileSync } from "node:fs";
import process from "node:process";
import { setInterval } from "node:timers";

const file = process.env.BIG_PROBE_FILE;
if (file) {
  let peak = null;
  let latest = null;
  const sample = () => {
    const usage = process.memoryUsage();
    latest = { at: Date.now(), rss: usage.rss, heapTotal: usage.heapTotal, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
    if (!peak || latest.rss > peak.rss) peak = latest;
  };
  setInterval(sample, 100).unref();
  setInterval(() => {
    try {
      // Written aside and renamed: the bench never reads a half-written file.
      writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify({ pid: process.pid, peak, latest }));
      renameSync(`${file}.${process.pid}.tmp`, `${file}.${process.pid}`);
    } catch {
      // the bench reads what it finds
    }
  }, 500).unref();
}
