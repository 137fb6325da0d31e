/**
 * The whole journey in a real browser, on the embedded defaults (PGlite + the sandbox fake WAHA):
 * sign up, connect a number, import a messy CSV, write a template, schedule a campaign 15 s ahead,
 * watch it complete, and see every recipient sent. Screenshots of each step go to
 * screenshots/journey/ (docs/screenshots.md).
 *
 * It drives Debian's chromium through playwright-core, found (or installed, as root) once per run by
 * tests/e2e/chromium.ts. Where no Chromium can be had, both tests skip with the reason, which the
 * run's summary prints with the command that enables them; `.ci/run` requires the journey.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseCsv } from "csv-parse/sync";
import { fixturePath } from "../fixtures/paths";
import { ensurePagesBuilt } from "../../scripts/pagesBuild";
import { CHROMIUM_ARGS, signUp, skipWithoutChromium } from "./sandboxApp";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const messyCsv = fixturePath("contacts-messy.csv");
const screenshotDir = path.join(repoRoot, "screenshots", "journey");
const chromiumPath = inject("chromiumPath");
const ONE_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** `next build` when there is no build or a page source changed since. */
function buildPagesIfNeeded() {
  ensurePagesBuilt(repoRoot, { show: false });
}

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

let app: ChildProcess | null = null;
let appLog = "";
let appStdout = "";
let appPort = 0;
let dataDir = "";
let baseUrl = "";
let browser: Browser | null = null;
let context: BrowserContext | null = null;
let page: Page;
let step = 0;
const dialogs: string[] = [];
const pageErrors: string[] = [];

async function startApp() {
  const port = await freePort();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "waha-campaigns-e2e-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    SEND_DELAY_MIN_MS: "0",
    SEND_DELAY_MAX_MS: "500",
    LOG_LEVEL: "warn",
  };
  // The embedded defaults: PGlite and the sandbox WAHA, node-cron.
  for (const name of ["DATABASE_URL", "WAHA_URL", "WAHA_API_KEY", "SCHEDULER_DRIVER", "BOOTSTRAP_ADMIN_EMAIL", "BOOTSTRAP_ADMIN_PASSWORD", "BOOTSTRAP_API_KEY"]) {
    delete env[name];
  }
  const child = spawn(process.execPath, ["--import", "tsx", "src/worker/web.ts"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  app = child;
  const keep = (chunk: Buffer) => {
    appLog = (appLog + chunk.toString()).slice(-20_000);
  };
  appStdout = "";
  appPort = port;
  child.stdout?.on("data", (chunk: Buffer) => {
    appStdout = (appStdout + chunk.toString()).slice(-50_000);
  });
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${appLog}`);
    try {
      const response = await fetch(`${baseUrl}/api/v1/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the app did not answer /api/v1/health within 120 s:\n${appLog}`);
}

async function stopApp() {
  const child = app;
  app = null;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The steps docs/screenshots.md shows, under stable names. `UPDATE_DOC_SCREENSHOTS=1 npx vitest run
 * tests/e2e` rewrites them in docs/screenshots/ (the screen as seen, JPEG, to keep the repository small).
 */
const docScreenshotDir = path.join(repoRoot, "docs", "screenshots");
const DOC_SCREENSHOTS: Record<string, string> = {
  "log-in-page": "log-in.jpg",
  "signed-up-overview": "overview-first-visit.jpg",
  "number-connected": "number-connected.jpg",
  "import-result": "import-result.jpg",
  "campaign-form": "campaign-form.jpg",
  "campaign-completed": "campaign-completed.jpg",
  "phone-overview": "phone-overview.jpg",
  "phone-campaigns": "phone-campaigns.jpg",
  "phone-new-campaign": "phone-new-campaign.jpg",
  "cancel-dialog": "cancel-dialog.jpg",
  "stale-tab-log-in": "stale-tab-log-in.jpg",
};

async function shot(name: string) {
  step += 1;
  await page.screenshot({ path: path.join(screenshotDir, `${String(step).padStart(2, "0")}-${name}.png`), fullPage: true });
  const docName = DOC_SCREENSHOTS[name];
  if (docName && process.env.UPDATE_DOC_SCREENSHOTS === "1") {
    await page.screenshot({ path: path.join(docScreenshotDir, docName), type: "jpeg", quality: 70 });
  }
}

/** The reporter prints this note in the run's summary (tests/backendReporter.ts). */

// The second test continues in the first one's workspace (same browser page), so they run in order.
// The two tests tell one story in one browser and one app: the second goes on in the page the first
// signed up in, with the number and the list the first made (and the screenshots follow that order).
// So this describe keeps its order, while every other test runs shuffled (vitest.config.ts).
describe("the dashboard journey in a browser", { shuffle: false }, () => {
  beforeAll(async () => {
    if (!chromiumPath) return;
    rmSync(screenshotDir, { recursive: true, force: true });
    mkdirSync(screenshotDir, { recursive: true });
    mkdirSync(docScreenshotDir, { recursive: true });
    buildPagesIfNeeded();
    await startApp();
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    // A zone far from the server's: the scheduled time must survive the trip as ISO with an offset.
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, timezoneId: "America/New_York", locale: "en-US" });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Contact names hold markup (<script>alert(1)</script>): a dialog would mean it ran.
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // An uncaught exception in a page (a React crash, a hydration failure) fails the journey.
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stopApp();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("signs up, connects a number, imports a CSV, writes a template and watches a campaign send to everyone", async (testContext) => {
    skipWithoutChromium(testContext);
    try {
      // 0. The terminal: pino JSON on stdout (not a TTY here), then one plain ready line with the app's URL.
      const readyLine = `waha-campaigns is ready: http://localhost:${appPort} (sandbox WhatsApp, data in ${dataDir})`;
      await expect.poll(() => appStdout, { timeout: 20_000 }).toContain(readyLine);
      const stdoutLines = appStdout.split("\n").filter((line) => line.trim() !== "");
      expect(stdoutLines.findIndex((line) => line.includes("http://"))).toBe(stdoutLines.indexOf(readyLine));
      for (const line of stdoutLines.filter((item) => item.startsWith("{"))) expect(() => JSON.parse(line) as unknown).not.toThrow();
      expect(stdoutLines.filter((line) => line.includes('"level"')).length).toBeGreaterThan(0);

      // The icon answers.
      const favicon = await fetch(`${baseUrl}/favicon.ico`);
      expect(favicon.status).toBe(200);
      expect(favicon.headers.get("content-type")).toMatch(/^image\//);

      // 1. Sign up. The log-in page shows the sandbox banner too, in full on this first view.
      await page.goto(`${baseUrl}/`);
      await expect.poll(() => page.getByTestId("sandbox-banner").textContent()).toContain("fake WAHA");
      await shot("log-in-page");
      await signUp(page, "owner@example.com");
      await expect.poll(() => page.getByTestId("sandbox-banner").textContent()).toContain("fake WAHA");
      await expect.poll(() => page.getByTestId("ban-notice").isVisible()).toBe(true);
      await shot("signed-up-overview");

      // 2. Add a WhatsApp number; simulate the QR scan; it is WORKING.
      await page.getByTestId("nav-numbers").click();
      await page.getByTestId("session-name").fill("Sales");
      await page.getByTestId("session-create").click();
      const card = page.getByTestId("session-Sales");
      await card.waitFor();
      await card.getByTestId("session-qr").waitFor({ timeout: 10_000 }).catch(() => undefined);
      await shot("number-waiting-for-scan");
      await card.getByTestId("simulate-scan").click();
      // Words in the badge; WAHA's code in its tooltip.
      await expect.poll(() => card.getByTestId("session-status").textContent(), { timeout: 15_000 }).toBe("Connected");
      expect(await card.getByTestId("session-status").getAttribute("title")).toBe("WAHA status: WORKING");
      expect(await card.getByTestId("session-unlink").textContent()).toBe("Unlink number");
      await shot("number-connected");

      // 3. Create a list and import the messy CSV with default country US.
      await page.getByTestId("nav-contacts").click();
      await page.getByTestId("list-name").fill("Customers");
      await page.getByTestId("list-create").click();
      await page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/);
      await page.getByTestId("csv-file").setInputFiles(messyCsv);
      await expect.poll(() => page.getByTestId("csv-preview").textContent()).toContain("Dewi");
      await page.getByTestId("default-country").selectOption("US");
      await expect.poll(() => page.getByTestId("map-phone").inputValue()).toBe("phone_number");
      await shot("import-preview-and-mapping");
      await page.getByTestId("import-submit").click();
      const result = page.getByTestId("import-result");
      await result.waitFor();
      expect(await result.getByTestId("import-kept").textContent()).toBe("6");
      expect(await result.getByTestId("import-duplicates").textContent()).toBe("1");
      expect(await result.getByTestId("import-rejected-count").textContent()).toContain("3 rows rejected");
      const line5 = await result.getByTestId("rejected-line-5").textContent();
      const line6 = await result.getByTestId("rejected-line-6").textContent();
      const line7 = await result.getByTestId("rejected-line-7").textContent();
      expect(line5).toContain("12345");
      expect(line5).toMatch(/not a/i);
      expect(line6).toContain("hello");
      expect(line6).toMatch(/no digits/i);
      expect(line7).toMatch(/empty/i);
      // Markup in a name is shown as text, never run.
      await expect.poll(() => page.getByTestId("members").textContent()).toContain("<script>alert(1)</script>");
      await shot("import-result");

      // 4. A template with a fallback; preview it with a real contact.
      await page.getByTestId("nav-templates").click();
      await page.getByTestId("template-name").fill("Welcome");
      await page.getByTestId("template-body").fill("Hi {{first_name|there}}, *thanks* for being with us. _See you soon!_");
      // Without a chosen contact, the preview shows the contact that fills the most placeholders (issue 16):
      // a real name, not the fallback. Contacts imported together tie, so which one is not fixed, and a
      // name may hold a comma ("Quoted, Name").
      await expect.poll(() => page.getByTestId("message-preview").textContent()).toMatch(/Hi (?!there,)\S.*, thanks for being with us\./);
      expect(await page.getByTestId("message-preview").locator("strong").textContent()).toBe("thanks");
      await page.getByTestId("preview-list").selectOption({ label: "Customers (6)" });
      const dewi = page.getByTestId("preview-contact").locator("option", { hasText: "Dewi" });
      await dewi.waitFor({ state: "attached" });
      await page.getByTestId("preview-contact").selectOption((await dewi.getAttribute("value"))!);
      await expect.poll(() => page.getByTestId("message-preview").textContent()).toContain("Hi Dewi,");
      await page.getByTestId("template-save").click();
      await expect.poll(() => page.getByTestId("templates").textContent()).toContain("Welcome");
      await shot("template");

      // 5. Schedule a campaign 15 seconds ahead, in the browser's time zone.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.waitForURL("**/campaigns/new");
      await page.getByTestId("campaign-name").fill("Spring hello");
      await page.getByTestId("campaign-list").selectOption({ label: "Customers (6 contacts)" });
      await page.getByTestId("campaign-template").selectOption({ label: "Welcome" });
      await expect.poll(() => page.getByTestId("campaign-delay-max").inputValue()).toBe("0.5");
      const when = await page.evaluate(() => {
        const date = new Date(Date.now() + 15_000);
        // Chrome writes a whole minute as HH:mm; keep seconds so the field reads back what was typed.
        if (date.getSeconds() === 0) date.setSeconds(1);
        const pad = (n: number) => String(n).padStart(2, "0");
        return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
      });
      await page.getByTestId("campaign-when").fill(when);
      await expect.poll(() => page.getByText("America/New_York").first().isVisible()).toBe(true);
      await shot("campaign-form");
      await page.getByTestId("campaign-submit").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Scheduled");
      await shot("campaign-scheduled");

      // 6. Watch the progress bar until the campaign completes.
      const status = page.getByTestId("campaign-status");
      await expect.poll(() => status.textContent(), { timeout: 45_000, interval: 250 }).toMatch(/Running|Completed/);
      if ((await status.textContent()) === "Running") await shot("campaign-running");
      await expect.poll(() => status.textContent(), { timeout: 60_000, interval: 500 }).toBe("Completed");
      await expect.poll(() => page.getByTestId("campaign-progress-text").textContent()).toBe("Sent 6 of 6");
      expect(await page.getByTestId("campaign-progress-bar").getAttribute("aria-valuenow")).toBe("6");
      expect(await page.getByTestId("campaign-progress-bar").getAttribute("aria-valuemax")).toBe("6");
      await shot("campaign-completed");

      // 7. The overview lists the result; open the campaign and see every recipient sent.
      await page.getByTestId("nav-overview").click();
      const recent = page.getByTestId("overview-recent");
      await expect.poll(() => recent.textContent()).toContain("Spring hello");
      expect(await recent.textContent()).toContain("Completed");
      await shot("overview-with-result");
      await recent.getByRole("link", { name: "Spring hello" }).click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      const rows = page.getByTestId("recipient-row");
      await expect.poll(() => rows.count()).toBe(6);
      const statuses = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute("data-status")));
      expect(statuses).toEqual(Array(6).fill("sent"));
      await page.getByTestId("recipients").scrollIntoViewIfNeeded();
      await shot("recipients-all-sent");

      // 8. The same pages on a phone-sized screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByTestId("nav-overview").click();
      await expect.poll(() => page.getByTestId("overview-recent").textContent()).toContain("Spring hello");
      await shot("phone-overview");
      const overflows = () => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      expect(await overflows()).toBe(false);
      await page.getByTestId("overview-recent").getByRole("link", { name: "Spring hello" }).click();
      await expect.poll(() => page.getByTestId("recipient-row").count()).toBe(6);
      expect(await overflows()).toBe(false);
      await shot("phone-campaign");
      // The campaigns list: no sideways page scroll, the Progress column within the screen, the navigation wrapped.
      await page.getByTestId("nav-campaigns").click();
      await expect.poll(() => page.getByTestId("campaigns").textContent()).toContain("Spring hello");
      expect(await overflows()).toBe(false);
      const progressHeader = await page.getByTestId("campaigns").getByRole("columnheader", { name: "Progress" }).boundingBox();
      expect(progressHeader).not.toBeNull();
      expect(progressHeader!.x + progressHeader!.width).toBeLessThanOrEqual(390);
      const navigation = await page.getByRole("navigation", { name: "Main" }).evaluate((element) => ({ scroll: element.scrollWidth, width: element.clientWidth }));
      expect(navigation.scroll).toBeLessThanOrEqual(navigation.width);
      const templatesLink = await page.getByTestId("nav-templates").boundingBox();
      expect(templatesLink!.x + templatesLink!.width).toBeLessThanOrEqual(390);
      await shot("phone-campaigns");
      // The new-campaign form on a phone: the preview comes before the submit button.
      await page.getByTestId("campaign-new").click();
      await page.waitForURL("**/campaigns/new");
      const previewTop = (await page.getByRole("heading", { name: "Preview" }).boundingBox())!.y;
      const submitTop = (await page.getByTestId("campaign-submit").boundingBox())!.y;
      expect(previewTop).toBeLessThan(submitTop);
      expect(await page.getByTestId("campaign-session").locator("option", { hasText: "Sales" }).textContent()).toContain("Connected");
      await page.getByTestId("campaign-submit").scrollIntoViewIfNeeded();
      await shot("phone-new-campaign");

      // 9. After the send (issue 14): the funnel moves with WAHA's acks (the sandbox acks each send up to
      // DEVICE), and the recipients' outcomes download as CSV with the browser's session.
      await page.setViewportSize({ width: 1366, height: 900 });
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaigns").getByRole("link", { name: "Spring hello" }).click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      await expect.poll(() => page.getByTestId("funnel-sent").getAttribute("data-count")).toBe("6");
      await expect.poll(() => page.getByTestId("funnel-delivered").getAttribute("data-count"), { timeout: 20_000, interval: 500 }).toBe("6");
      await page.getByTestId("campaign-funnel").scrollIntoViewIfNeeded();
      await shot("campaign-funnel");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("campaign-export-csv").click()]);
      expect(download.suggestedFilename()).toMatch(/^campaign-[0-9a-f-]{36}-recipients\.csv$/);
      const csvText = readFileSync((await download.path())!, "utf8");
      expect(csvText.split("\r\n")[0]).toBe("phone,name,outcome,status,skipReason,sentAt,ack,ackAt,repliedAt,lastError");
      // Parsed, not split on commas: a name such as "Quoted, Name" is one quoted cell.
      const csvRecords = parseCsv(csvText, { columns: true }) as Array<Record<string, string>>;
      expect(csvRecords).toHaveLength(6);
      expect(csvRecords.map((record) => record.outcome)).toEqual(Array(6).fill("delivered"));
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
    } catch (error) {
      await shot("failure").catch(() => undefined);
      throw new Error(`${(error as Error).message}\n--- app log (tail) ---\n${appLog.slice(-5000)}`, { cause: error });
    }
  }, 300_000);

  it("uploads an image, manages API keys, and edits, pauses, resumes, cancels and deletes a campaign", async (testContext) => {
    skipWithoutChromium(testContext);
    try {
      await page.setViewportSize({ width: 1366, height: 900 });

      // Media: a real PNG is kept and shown; a text file named .png is refused by the server with its reason.
      const pngPath = path.join(dataDir, "pixel.png");
      writeFileSync(pngPath, Buffer.from(ONE_PIXEL_PNG, "base64"));
      const fakePath = path.join(dataDir, "not-an-image.png");
      writeFileSync(fakePath, "just text");
      await page.getByTestId("nav-media").click();
      await page.getByTestId("media-file").setInputFiles(fakePath);
      await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("Only JPEG, PNG or WebP");
      await page.getByTestId("media-file").setInputFiles(pngPath);
      const thumb = page.getByTestId("media-library").getByRole("img", { name: "pixel.png" });
      await expect.poll(async () => (await thumb.getAttribute("src")) ?? "").toMatch(/^data:image\/png;base64,/);
      await shot("media");

      // API keys: shown once, then revoked.
      await page.getByTestId("nav-api-keys").click();
      await page.getByTestId("api-key-name").fill("CI");
      await page.getByTestId("api-key-create").click();
      await expect.poll(() => page.getByTestId("api-key-value").inputValue()).toMatch(/^wc_/);
      await shot("api-key-created");
      await page.getByTestId("api-keys").getByRole("button", { name: "Revoke" }).click();
      await page.getByTestId("confirm-ok").click();
      await expect.poll(() => page.getByTestId("api-keys").textContent()).toContain("revoked");

      // A campaign with its own text and the image, an hour ahead.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.getByTestId("campaign-name").fill("Later");
      await page.getByTestId("campaign-list").selectOption({ label: "Customers (6 contacts)" });
      await page.getByTestId("mode-text").check();
      await page.getByTestId("campaign-text").fill("Hello {{first_name|friend}}, ~old~ *new* prices");
      await page.getByTestId("campaign-media").selectOption({ label: "pixel.png" });
      // The sample contact is the preview's choice (MessagePreview): the text around the name is checked.
      await expect.poll(() => page.getByTestId("message-preview").textContent()).toMatch(/Hello (?!friend,)\S.*, old new prices/);
      await page.getByTestId("campaign-submit").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Scheduled");

      // A test to my own number, now, without touching the campaign.
      await page.getByTestId("send-test-phone").fill("+1 201 555 0199");
      await page.getByTestId("send-test-submit").click();
      await expect.poll(() => page.getByTestId("send-test-result").textContent()).toContain("Sent to +12015550199");
      expect(await page.getByTestId("campaign-status").textContent()).toBe("Scheduled");

      // Edit while not started.
      await page.getByTestId("campaign-edit").click();
      await page.getByTestId("campaign-name").fill("Later, renamed");
      await page.getByTestId("campaign-submit").click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Later, renamed");

      // Pause and resume (it goes back to waiting for its time).
      await page.getByTestId("campaign-pause").click();
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Paused");
      await expect.poll(() => page.getByTestId("pause-reason").textContent()).toContain("you paused it");
      await page.getByTestId("campaign-resume").click();
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Scheduled");
      // The history tells who paused it and who resumed it, newest first.
      await expect.poll(() => page.getByTestId("campaign-event").allTextContents()).toEqual([
        expect.stringContaining("Resumed by you"),
        expect.stringContaining("Paused by you"),
      ]);
      await shot("campaign-later-scheduled");

      // The list it uses cannot be deleted meanwhile; the server says why.
      await page.getByTestId("nav-contacts").click();
      await page.getByTestId("lists").locator("li", { hasText: "Customers" }).getByRole("button", { name: "Delete" }).click();
      await page.getByTestId("confirm-ok").click();
      await expect.poll(() => page.getByTestId("lists").getByRole("alert").textContent()).toContain("still uses this list");
      await shot("list-delete-refused");

      // Cancel, then delete.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaigns").getByRole("link", { name: "Later, renamed" }).click();
      await page.getByTestId("campaign-cancel").click();
      // The dialog's buttons say what each one does.
      expect(await page.getByTestId("confirm-dismiss").textContent()).toBe("Keep sending");
      expect(await page.getByTestId("confirm-ok").textContent()).toBe("Cancel campaign");
      await shot("cancel-dialog");
      await page.getByTestId("confirm-ok").click();
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Cancelled");
      await page.getByTestId("campaign-delete").click();
      await page.getByTestId("confirm-ok").click();
      await page.waitForURL(/\/campaigns$/);
      await expect.poll(() => page.getByTestId("campaigns").textContent()).toContain("Spring hello");
      await expect.poll(() => page.getByTestId("campaigns").textContent()).not.toContain("Later, renamed");

      // A stale tab: logged out in another tab, the numbers page (which polls) goes to the log-in
      // page instead of showing errors over old data, and comes back after logging in.
      await page.getByTestId("nav-numbers").click();
      await page.waitForURL("**/numbers");
      const otherTab = await context!.newPage();
      await otherTab.goto(`${baseUrl}/overview`);
      await otherTab.getByTestId("log-out").click();
      await otherTab.waitForURL(`${baseUrl}/`);
      await otherTab.close();
      await page.waitForURL(`${baseUrl}/?next=%2Fnumbers`, { timeout: 20_000 });
      await shot("stale-tab-log-in");
      await page.getByTestId("auth-email").fill("owner@example.com");
      await page.getByTestId("auth-password").fill("correct horse battery");
      await page.getByTestId("auth-submit").click();
      await page.waitForURL(`${baseUrl}/numbers`);
      await expect.poll(() => page.getByTestId("session-Sales").isVisible()).toBe(true);
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
    } catch (error) {
      await shot("failure").catch(() => undefined);
      throw new Error(`${(error as Error).message}\n--- app log (tail) ---\n${appLog.slice(-5000)}`, { cause: error });
    }
  }, 120_000);
});
