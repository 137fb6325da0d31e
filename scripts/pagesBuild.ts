/**
 * Whether the Next.js pages need building, and building them. `npm start`, the browser test and the
 * bench all ask the same question, here. Pages import server code as types only, so only their own
 * sources and the build configuration count.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const PAGE_INPUTS = ["src/app", "src/components", "src/trpc", "next.config.ts", "postcss.config.mjs", "tsconfig.json", "package-lock.json"];

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
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const newestSource = Math.max(...PAGE_INPUTS.map((input) => newestMtime(path.join(root, input))));
  return newestSource > statSync(buildId).mtimeMs;
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
