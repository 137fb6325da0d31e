/**
 * Finds the Chromium the browser journey drives, once per `vitest run` (tests/globalSetup.ts):
 * 1. `CHROMIUM_PATH` when set (a path that does not exist is reported, not replaced);
 * 2. `chromium` or `chromium-browser` on PATH;
 * 3. as root with apt-get: installs Debian's `chromium` (about a minute, said beforehand);
 * 4. otherwise none, with the reason and the command that enables the journey.
 * playwright-core's own browser download cannot work on these machines, so Debian's build is the one.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

export type ChromiumLookup = { path: string; reason: null } | { path: null; reason: string };

export const ENABLE_JOURNEY_HINT = "apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium binary)";

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return null;
}

function findInstalled(searchPath: string): string | null {
  return onPath("chromium", searchPath) ?? onPath("chromium-browser", searchPath);
}

function installWithApt(log: (line: string) => void): string | null {
  log("Browser journey: no Chromium found; installing Debian's chromium with apt-get (about a minute)...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { env, encoding: "utf8" });
  if (update.status !== 0) return `apt-get update failed: ${(update.stderr || update.stdout).trim().slice(-300)}`;
  const install = spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { env, encoding: "utf8" });
  if (install.status !== 0) return `apt-get install chromium failed: ${(install.stderr || install.stdout).trim().slice(-300)}`;
  return null;
}

export function resolveChromium(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => console.log(line),
): ChromiumLookup {
  const configured = env.CHROMIUM_PATH?.trim();
  if (configured) {
    return executable(configured)
      ? { path: configured, reason: null }
      : { path: null, reason: `CHROMIUM_PATH=${configured} is not an executable file` };
  }
  const searchPath = env.PATH ?? "";
  const found = findInstalled(searchPath);
  if (found) return { path: found, reason: null };

  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !onPath("apt-get", searchPath)) {
    return { path: null, reason: `no chromium or chromium-browser on PATH, and ${isRoot ? "no apt-get" : "not root"} to install it` };
  }
  const failure = installWithApt(log);
  if (failure) return { path: null, reason: failure };
  const installed = findInstalled(searchPath);
  return installed ? { path: installed, reason: null } : { path: null, reason: "apt-get installed chromium but it is not on PATH" };
}
