/**
 * The fake WAHA in a process of its own (as a real WAHA would be), so its work does not share an
 * event loop with the code under measurement. Controlled through its /__fake/ API.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type SpawnedProcess, REPO_ROOT, spawnProcess, waitForLog } from "./children";

export interface FakeWahaProcess {
  url: string;
  process: SpawnedProcess;
  /** Creates the sessions if unknown and makes them WORKING (a finished QR scan). */
  setWorking(names: string[]): Promise<void>;
  /** Forgets the messages recorded so far (keeps sessions). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** `name` names its log file (`<name>.log`): several fakes may run at once (the fleet bench's servers). */
export async function startFakeWahaProcess(logDir: string, name = "fake-waha"): Promise<FakeWahaProcess> {
  const logFile = path.join(logDir, `${name}.log`);
  const child = spawnProcess(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "tools/fake-waha/main.ts"), "--port", "0"], {
    logFile,
    env: { LOG_LEVEL: "warn" },
  });
  await waitForLog(logFile, /listening on http:\/\/\S+/, 30_000, () => child.child.exitCode === null);
  const url = /listening on (http:\/\/\S+)/.exec(readFileSync(logFile, "utf8"))![1]!;

  const control = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(url + route, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`fake WAHA ${method} ${route}: HTTP ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };

  return {
    url,
    process: child,
    setWorking: async (names) => {
      // A few at a time: this is set-up, not measured.
      for (let start = 0; start < names.length; start += 25) {
        await Promise.all(
          names.slice(start, start + 25).map((name) => control("POST", `/__fake/sessions/${encodeURIComponent(name)}/status`, { status: "WORKING" })),
        );
      }
    },
    reset: () => control("POST", "/__fake/reset", {}),
    stop: () => child.stop(5_000),
  };
}
