/**
 * What `npm start` prints (issue 16): human log lines on a terminal, JSON elsewhere, and one plain
 * ready line. The journey (tests/e2e/journey.test.ts) reads the real line from the started app.
 */
import { describe, expect, it } from "vitest";
import { prettyLogLine } from "~/server/logPretty";
import { createLogger, resolveLogFormat } from "~/server/logger";
import { readyLine } from "~/worker/readyLine";

function jsonLineOf(write: (log: ReturnType<typeof createLogger>) => void): string {
  let written = "";
  const log = createLogger({ write: (line: string) => void (written += line) }, { level: "info" });
  write(log);
  return written;
}

describe("terminal output", () => {
  it("the ready line names the app's URL, the WhatsApp side and where the data is", () => {
    expect(readyLine({ host: "0.0.0.0", port: 3000, sandbox: true, database: "pglite", dataDir: "./data" })).toBe(
      "waha-campaigns is ready: http://localhost:3000 (sandbox WhatsApp, data in ./data)",
    );
    expect(readyLine({ host: "127.0.0.1", port: 4100, sandbox: false, database: "postgres", dataDir: "./data" })).toBe(
      "waha-campaigns is ready: http://localhost:4100 (WhatsApp through WAHA, data in PostgreSQL)",
    );
    expect(readyLine({ host: "192.168.1.5", port: 80, sandbox: true, database: "pglite", dataDir: "/srv/wc" })).toBe(
      "waha-campaigns is ready: http://192.168.1.5:80 (sandbox WhatsApp, data in /srv/wc)",
    );
  });

  it("LOG_FORMAT=auto is human on a TTY and JSON in a pipe; json and pretty are forced", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("a pretty line reads time, level, component, message and fields, with an error's stack below", () => {
    const json = jsonLineOf((log) => log.child({ component: "runner" }).warn({ campaignId: "c1", note: "two words" }, "paused"));
    expect(JSON.parse(json)).toMatchObject({ level: 40, component: "runner", msg: "paused" });
    expect(prettyLogLine(json)).toMatch(/^\d\d:\d\d:\d\d WARN {2}runner: paused campaignId=c1 note="two words"\n$/);

    const failed = prettyLogLine(jsonLineOf((log) => log.error({ err: new Error("disk full") }, "start-up failed")));
    expect(failed).toMatch(/^\d\d:\d\d:\d\d ERROR start-up failed\n {4}Error: disk full\n {4,}at /);
    expect(failed).not.toContain("{");
  });
});
