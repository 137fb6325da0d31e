/**
 * The campaign form in a real browser (issue 16 U1), on the embedded defaults (PGlite + the sandbox
 * fake WAHA): a campaign is saved as a draft with only its name, found under the Draft tab, edited,
 * and scheduled later; each mistake (an unknown placeholder, a past time, delays out of order) is
 * shown once and goes away when fixed; the scheduled draft sends. Screenshots at 1366×900 and
 * 390×844 go to screenshots/campaign-form/ (docs/screenshots.md). Same set-up as
 * tests/e2e/journey.test.ts (Chromium from tests/e2e/chromium.ts).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePagesBuilt } from "../../scripts/pagesBuild";
import { openPage, type SandboxApp, signUp, skipWithoutChromium, startSandboxApp } from "./sandboxApp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const screenshotDir = path.join(repoRoot, "screenshots", "campaign-form");
const chromiumPath = inject("chromiumPath");
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
let sandbox: SandboxApp | null = null;
let dataDir = "";
let baseUrl = "";
let browser: Browser | null = null;
let context: BrowserContext | null = null;
let page: Page;
let step = 0;
const pageErrors: string[] = [];
const appLog = () => sandbox?.log() ?? "";

async function startApp() {
  sandbox = await startSandboxApp(repoRoot, "waha-campaigns-e2e-form-");
  ({ dataDir, baseUrl } = sandbox);
}

async function stopApp() {
  const app = sandbox;
  sandbox = null;
  await app?.stop();
}

/** A screenshot at the desktop size (1366×900) and, with `phone`, at a phone's (390×844) too. */
async function shot(name: string, options: { phone?: boolean } = {}) {
  step += 1;
  const prefix = String(step).padStart(2, "0");
  await page.screenshot({ path: path.join(screenshotDir, `${prefix}-${name}-1366.png`), fullPage: true });
  if (!options.phone) return;
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(screenshotDir, `${prefix}-${name}-390.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

/** How many times `text` is on the page (toasts included): a mistake is said once. */
async function timesShown(text: string): Promise<number> {
  return page.evaluate((needle) => document.body.innerText.split(needle).length - 1, text);
}

/** A local date-time for the datetime-local input, `ms` from now. */
function localInput(ms: number): Promise<string> {
  return page.evaluate((offset) => {
    const date = new Date(Date.now() + offset);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }, ms);
}


describe("the campaign form in a browser: drafts and errors shown once", () => {
  beforeAll(async () => {
    if (!chromiumPath) return;
    rmSync(screenshotDir, { recursive: true, force: true });
    mkdirSync(screenshotDir, { recursive: true });
    ensurePagesBuilt(repoRoot, { show: false });
    await startApp();
    ({ browser, context, page } = await openPage(chromiumPath, { viewport: DESKTOP, locale: "en-US" }, pageErrors));
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stopApp();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("saves a draft, schedules it later, and says each mistake once until it is fixed", async (testContext) => {
    skipWithoutChromium(testContext);
    try {
      await page.goto(`${baseUrl}/`);
      await signUp(page, "drafts@example.com");
      await page.getByTestId("nav-numbers").click();
      await page.getByTestId("session-name").fill("Shop");
      await page.getByTestId("session-create").click();
      const card = page.getByTestId("session-Shop");
      await card.getByTestId("simulate-scan").click();
      await expect.poll(() => card.getByTestId("session-status").textContent(), { timeout: 15_000 }).toMatch(/Connected|WORKING/);

      // Two contacts; only the second has a city: the preview picks her.
      const csvPath = path.join(dataDir, "form.csv");
      writeFileSync(csvPath, "phone_number,first_name,city\n+12015550111,Ana,\n+12015550112,Budi,Lisbon\n");
      await page.getByTestId("nav-contacts").click();
      await page.getByTestId("list-name").fill("Regulars");
      await page.getByTestId("list-create").click();
      await page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/);
      await page.getByTestId("csv-file").setInputFiles(csvPath);
      await expect.poll(() => page.getByTestId("map-phone").inputValue()).toBe("phone_number");
      await page.getByTestId("import-submit").click();
      await page.getByTestId("import-result").waitFor();

      // A draft with only its name.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.getByTestId("campaign-name").fill("Spring draft");
      await page.getByTestId("campaign-when").fill("");
      await shot("new-campaign-form", { phone: true });
      await page.getByTestId("campaign-save-draft").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      const draftUrl = page.url();
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Draft");
      await page.getByTestId("campaign-schedule").waitFor();
      await shot("draft-saved", { phone: true });

      // The Draft tab lists it.
      await page.getByTestId("nav-campaigns").click();
      await page.getByRole("group", { name: "Filter by status" }).getByRole("button", { name: "Draft", exact: true }).click();
      await expect.poll(() => page.getByTestId("campaigns").textContent()).toContain("Spring draft");
      await shot("draft-tab", { phone: true });

      // Edit: an unknown placeholder is said once (by the preview), also after trying to schedule.
      await page.goto(draftUrl);
      await page.getByTestId("campaign-edit").click();
      await page.getByTestId("campaign-list").selectOption({ label: "Regulars (2 contacts)" });
      await page.getByTestId("mode-text").check();
      await page.getByTestId("campaign-text").fill("Hi {{first_name}}, {{shop}} opens in {{city}}!");
      await expect.poll(() => timesShown("Unknown placeholder")).toBe(1);
      await page.getByTestId("campaign-when").fill(await localInput(3_600_000));
      await page.getByTestId("campaign-submit").click();
      await expect.poll(() => page.getByTestId("campaign-submit").isEnabled()).toBe(true);
      expect(await timesShown("Unknown placeholder")).toBe(1);
      expect(await page.getByTestId("campaign-status").textContent()).toBe("Draft");

      // The fixed text: the preview shows the contact that has a city, not "opens in !".
      await page.getByTestId("campaign-text").fill("Hi {{first_name}}, we open in {{city}}!");
      await expect.poll(() => timesShown("Unknown placeholder")).toBe(0);
      await expect.poll(() => page.getByTestId("message-preview").textContent()).toContain("Hi Budi, we open in Lisbon!");

      // A past time: one error, by the field, in red; fixed, it goes away.
      await page.getByTestId("campaign-when").fill(await localInput(-3_600_000));
      await expect.poll(() => timesShown("The scheduled time has passed")).toBe(1);
      expect(await page.getByTestId("campaign-when").getAttribute("aria-invalid")).toBe("true");
      await page.getByTestId("campaign-submit").click();
      expect(await timesShown("The scheduled time has passed")).toBe(1);
      await shot("past-time-error", { phone: true });

      // Delays out of order: one error, gone once fixed.
      await page.getByTestId("campaign-delay-min").fill("5");
      await page.getByTestId("campaign-delay-max").fill("1");
      await expect.poll(() => timesShown("The longest delay must not be shorter")).toBe(1);
      await page.getByTestId("campaign-delay-min").fill("0");
      await expect.poll(() => timesShown("The longest delay must not be shorter")).toBe(0);
      await page.getByTestId("campaign-delay-max").fill("0");

      // Scheduled 12 s ahead: it leaves the drafts, and sends.
      await page.getByTestId("campaign-when").fill(await localInput(12_000));
      await expect.poll(() => timesShown("The scheduled time has passed")).toBe(0);
      await page.getByTestId("campaign-submit").click();
      await expect.poll(() => page.getByTestId("campaign-status").textContent()).toBe("Scheduled");
      await shot("draft-scheduled", { phone: true });
      await expect.poll(() => page.getByTestId("campaign-status").textContent(), { timeout: 60_000, interval: 500 }).toBe("Completed");
      expect(pageErrors).toEqual([]);
    } catch (error) {
      await shot("failure").catch(() => undefined);
      throw new Error(`${(error as Error).message}\n--- app log (tail) ---\n${appLog().slice(-5000)}`, { cause: error });
    }
  }, 300_000);
});
