/**
 * The app in sandbox mode as a child process, for the browser tests beside the journey: a free port,
 * its own data folder, and no outside configuration (no DATABASE_URL, WAHA_URL or bootstrap user).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { inject, type TestContext } from "vitest";

/**
 * Without a Chromium a browser test is skipped with the reason (tests/e2e/chromium.ts); CI sets
 * REQUIRE_BROWSER_JOURNEY=1, so there a missing Chromium fails the run instead (tests/globalSetup.ts).
 */
export function skipWithoutChromium(testContext: TestContext): void {
  if (!inject("chromiumPath")) testContext.skip(inject("chromiumMissing") ?? "no Chromium");
}

/** Chromium with one page in a new context: 15 s per action, the page's uncaught errors pushed to `pageErrors`. */
export async function openPage(
  chromiumPath: string,
  contextOptions: BrowserContextOptions,
  pageErrors: string[],
): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return { browser, context, page };
}

/** Signs a new owner up on the home page (sign-up is open in sandbox mode); resolves on the overview. */
export async function signUp(page: Page, email: string): Promise<void> {
  await page.getByTestId("auth-toggle").click();
  await page.getByTestId("auth-email").fill(email);
  await page.getByTestId("auth-password").fill("correct horse battery");
  await page.getByTestId("auth-submit").click();
  await page.waitForURL("**/overview");
}

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface SandboxApp {
  baseUrl: string;
  dataDir: string;
  /** The tail of its stdout and stderr, for a failure's message. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts the app from `repoRoot` and resolves once /api/v1/health answers (120 s at most). `extraEnv`
 * adds settings an operator would set on top of the defaults (e.g. ENCRYPTION_KEY).
 */
export async function startSandboxApp(repoRoot: string, dataDirPrefix: string, extraEnv: Record<string, string> = {}): Promise<SandboxApp> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), dataDirPrefix));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    SEND_DELAY_MIN_MS: "0",
    SEND_DELAY_MAX_MS: "200",
    LOG_LEVEL: "warn",
  };
  for (const name of ["DATABASE_URL", "WAHA_URL", "WAHA_API_KEY", "SCHEDULER_DRIVER", "BOOTSTRAP_ADMIN_EMAIL", "BOOTSTRAP_ADMIN_PASSWORD", "BOOTSTRAP_API_KEY"]) {
    delete env[name];
  }
  Object.assign(env, extraEnv);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/worker/web.ts"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let appLog = "";
  const keep = (chunk: Buffer) => {
    appLog = (appLog + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const app: SandboxApp = {
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    log: () => appLog,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${appLog}`);
    try {
      if ((await fetch(`${app.baseUrl}/api/v1/health`)).ok) return app;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await app.stop();
  throw new Error(`the app did not answer /api/v1/health within 120 s:\n${appLog}`);
}
