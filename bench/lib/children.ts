/**
 * Child processes: measurement tasks (bench/child.ts, forked with an IPC channel so each measurement
 * gets a fresh process and a clean RSS) and plain commands (workers, `npm start`, the fake WAHA),
 * each in its own process group so the whole tree is stopped, even on failure.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { openSync, readFileSync, readdirSync, closeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assertNotInterrupted, onCleanup } from "./cleanup";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CHILD_ENTRY = path.join(REPO_ROOT, "bench", "child.ts");

/** Messages a task child sends on its IPC channel. */
export type ChildMessage =
  | { type: "result"; value: unknown }
  | { type: "error"; message: string; stack?: string }
  | { type: "event"; name: string; value: unknown };

export interface TaskHandle<T> {
  child: ChildProcess;
  logFile: string;
  /** The task's return value; rejects on error, crash or timeout (the log file is named). */
  result: Promise<T>;
  /** Resolves with the value of the first `event` of that name the task emits. */
  event<E = unknown>(name: string, timeoutMs?: number): Promise<E>;
  /** Asks the task to finish (see childRuntime.stopRequested). */
  requestStop(): void;
  /** Kills it now (SIGKILL after a grace period). */
  kill(): Promise<void>;
}

export interface ForkOptions {
  env?: Record<string, string | undefined>;
  logFile: string;
  timeoutMs: number;
}

/** Runs `task` (see bench/child.ts) in a fresh `node --import tsx` process. */
export function forkTask<T>(task: string, args: unknown, options: ForkOptions): TaskHandle<T> {
  assertNotInterrupted(`task ${task}`);
  const log = openSync(options.logFile, "a");
  const child = fork(CHILD_ENTRY, [task, JSON.stringify(args)], {
    cwd: REPO_ROOT,
    execArgv: ["--import", "tsx", "--expose-gc"],
    env: { ...process.env, ...options.env },
    stdio: ["ignore", log, log, "ipc"],
    detached: true,
  });
  closeSync(log);
  const events = new Map<string, unknown>();
  const waiters = new Map<string, Array<(value: unknown) => void>>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, "SIGTERM");
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const forget = onCleanup(`kill task ${task} (pid ${child.pid})`, kill);

  const result = new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | null, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(() => {
      settle(new Error(`task ${task} timed out after ${Math.round(options.timeoutMs / 1000)} s (log: ${options.logFile})`));
      void kill();
    }, options.timeoutMs);
    child.on("message", (raw) => {
      const message = raw as ChildMessage;
      if (message.type === "result") settle(null, message.value as T);
      else if (message.type === "error") {
        const error = new Error(`task ${task} failed: ${message.message} (log: ${options.logFile})`);
        if (message.stack) error.stack = message.stack;
        settle(error);
      } else if (message.type === "event") {
        events.set(message.name, message.value);
        for (const wake of waiters.get(message.name) ?? []) wake(message.value);
        waiters.delete(message.name);
      }
    });
    child.once("exit", (code, signal) => {
      settle(new Error(`task ${task} exited (code ${code}, signal ${signal}) before answering (log: ${options.logFile})\n${tail(options.logFile)}`));
    });
  });
  // Once it answered, the child is done: make sure it goes away.
  void result.then(
    () => forget(),
    () => forget(),
  );

  return {
    child,
    logFile: options.logFile,
    result,
    event: <E>(name: string, timeoutMs = 60_000) =>
      new Promise<E>((resolve, reject) => {
        if (events.has(name)) return resolve(events.get(name) as E);
        const timer = setTimeout(() => reject(new Error(`task ${task}: no "${name}" after ${timeoutMs} ms (log: ${options.logFile})`)), timeoutMs);
        const list = waiters.get(name) ?? [];
        list.push((value) => {
          clearTimeout(timer);
          resolve(value as E);
        });
        waiters.set(name, list);
        result.catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      }),
    requestStop: () => {
      if (child.connected) child.send({ type: "stop" });
    },
    kill: () => forget(),
  };
}

export interface SpawnedProcess {
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** A command in its own process group, output appended to `logFile`. */
export function spawnProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; logFile: string; cwd?: string },
): SpawnedProcess {
  assertNotInterrupted(command);
  const log = openSync(options.logFile, "a");
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      signalGroup(child, "SIGKILL"); // leftovers of the group, if any
      return;
    }
    signalGroup(child, "SIGTERM");
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
    signalGroup(child, "SIGKILL");
  };
  const forget = onCleanup(`stop ${command} ${args.join(" ")} (pid ${child.pid})`, () => stop());
  return { child, logFile: options.logFile, exited, stop: (graceMs) => forget().then(() => stop(graceMs)) };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Waits until `pattern` appears in the file (a child's log). */
export async function waitForLog(file: string, pattern: RegExp, timeoutMs: number, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // not written yet
    }
    if (pattern.test(text)) return;
    if (alive && !alive()) throw new Error(`process ended before logging ${pattern} (log: ${file})\n${tail(file)}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${file} after ${timeoutMs} ms\n${tail(file)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// ------------------------------------------------------------------ memory of a process tree (Linux /proc)

export interface ProcessInfo {
  pid: number;
  ppid: number;
  rssBytes: number;
  command: string;
}

function readProcess(pid: number): ProcessInfo | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    return { pid, ppid, rssBytes: rssKb * 1024, command };
  } catch {
    return null;
  }
}

/** `rootPid` and all its descendants, with their RSS. */
export function processTree(rootPid: number): ProcessInfo[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((info): info is ProcessInfo => info !== null);
  const byParent = new Map<number, ProcessInfo[]>();
  for (const info of all) byParent.set(info.ppid, [...(byParent.get(info.ppid) ?? []), info]);
  const root = all.find((info) => info.pid === rootPid);
  if (!root) return [];
  const tree: ProcessInfo[] = [];
  const visit = (info: ProcessInfo) => {
    tree.push(info);
    for (const child of byParent.get(info.pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}
