/**
 * `npm start`: builds the pages when there is no build or the sources changed since, then starts
 * the web process. One command on a fresh clone.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = process.cwd();
const buildId = path.join(root, ".next", "BUILD_ID");

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const sourcesChanged =
  !existsSync(buildId) ||
  Math.max(newestMtime(path.join(root, "src")), statSync(path.join(root, "package-lock.json")).mtimeMs) >
    statSync(buildId).mtimeMs;
if (sourcesChanged) {
  console.log("Building the pages (first start, or the sources changed)...");
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
await import("../src/worker/web");
