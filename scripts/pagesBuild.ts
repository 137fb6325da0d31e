/**
 * Whether the Next.js pages need building, and building them. `npm start`, the browser test and the
 * bench all ask the same question, here. Pages import server code as types only, so only their own
 * sources and the build configuration count.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";

const PAGE_INPUTS = ["src/app", "src/components", "src/trpc", "next.config.mjs", "postcss.config.mjs", "tsconfig.json", "package-lock.json"];

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** True when there is no build, or a page source changed since the last one. */
export function pagesBuildIsStale(root: string): boolean {
  const builtAgo = ageMs(path.join(root, ".next", "BUILD_ID"));
  if (builtAgo === null) return true;
  const newestSource = Math.max(...PAGE_INPUTS.map((input) => newestMtime(path.join(root, input))));
  return newestSource > Date.now() - builtAgo;
}

/** `next build`; throws with its output when it fails (shown live when `show` is set). */
export function buildPages(root: string, options: { show: boolean }): void {
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    stdio: options.show ? "inherit" : "pipe",
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status})\n${result.stdout ?? ""}\n${result.stderr ?? ""}`);
}

const BUILD_LOCK = ".next-build.lock";
/** A lock older than this belongs to a build that died; `next build` takes a few minutes at most. */
const STALE_LOCK_MS = 15 * 60 * 1000;

/** How long ago the file was last written, or null when there is none. */
function ageMs(file: string): number | null {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds the pages unless they are current, once across processes: several browser test files start
 * at the same time, and two `next build` in one folder refuse each other. The first takes the lock and
 * builds; the others wait for it, then find the build current.
 */
export function ensurePagesBuilt(root: string, options: { show: boolean }): void {
  const lockPath = path.join(root, BUILD_LOCK);
  for (;;) {
    // Current, and nobody building (in that order: a build in progress may already have written its
    // BUILD_ID, but it still holds the lock).
    const stale = pagesBuildIsStale(root);
    const lockAge = ageMs(lockPath);
    if (!stale && lockAge === null) return;
    if (lockAge !== null) {
      if (lockAge > STALE_LOCK_MS) rmSync(lockPath, { force: true });
      sleepSync(500);
      continue;
    }
    let lock: number;
    try {
      lock = openSync(lockPath, "wx");
    } catch {
      continue; // another process took it first
    }
    try {
      if (pagesBuildIsStale(root)) buildPages(root, options);
      return;
    } finally {
      closeSync(lock);
      rmSync(lockPath, { force: true });
    }
  }
}
