import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "~/env";

describe("environment", () => {
  it("gives the documented defaults when nothing is set", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      DATA_DIR: "./data",
      SCHEDULER_DRIVER: "node-cron",
      SEND_DELAY_MIN_MS: 6000,
      SEND_DELAY_MAX_MS: 12000,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.WAHA_URL).toBeUndefined();
  });

  it("treats empty strings as unset and accepts a 0/0 delay", () => {
    const env = parseEnv({ WAHA_URL: "", DATABASE_URL: " ", SEND_DELAY_MIN_MS: "0", SEND_DELAY_MAX_MS: "0" });
    expect(env.WAHA_URL).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    expect([env.SEND_DELAY_MIN_MS, env.SEND_DELAY_MAX_MS]).toEqual([0, 0]);
  });

  it("names every bad variable and what to put there", () => {
    let thrown: unknown;
    try {
      parseEnv({ PORT: "eighty", SCHEDULER_DRIVER: "cron", WAHA_URL: "not a url" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EnvError);
    const message = (thrown as EnvError).message;
    expect(message).toContain("PORT");
    expect(message).toContain("SCHEDULER_DRIVER");
    expect(message).toContain("WAHA_URL");
  });

  it("refuses a delay range whose maximum is below its minimum", () => {
    expect(() => parseEnv({ SEND_DELAY_MIN_MS: "9000", SEND_DELAY_MAX_MS: "100" })).toThrow(
      "SEND_DELAY_MAX_MS must be at least SEND_DELAY_MIN_MS (9000)",
    );
    expect(() => parseEnv({ SEND_DELAY_MIN_MS: "-5" })).toThrow("SEND_DELAY_MIN_MS must be 0 or more");
  });

  it("refuses pg-boss without PostgreSQL", () => {
    expect(() => parseEnv({ SCHEDULER_DRIVER: "pg-boss" })).toThrow(/SCHEDULER_DRIVER pg-boss needs PostgreSQL/);
  });

  it("never echoes a secret's value in the error", () => {
    expect(() => parseEnv({ BOOTSTRAP_API_KEY: "short-secret" })).toThrow(/BOOTSTRAP_API_KEY must be at least 16/);
    expect(() => parseEnv({ BOOTSTRAP_API_KEY: "short-secret" })).not.toThrow(/short-secret/);
  });

  it("stops the real start-up with a message naming the variable", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/worker/web.ts"], {
      env: { ...process.env, PORT: "not-a-port", NODE_ENV: "production" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("PORT must be a port number");
  });
});
