/**
 * Replies and opt-outs in a real browser (issue 14), on the embedded defaults (PGlite + the sandbox
 * fake WAHA, whose `message` webhooks come back to the app): a campaign goes out, one contact
 * replies "Thanks!" and another "STOP" (simulated from the contact page, sandbox only), the campaign
 * page counts and lists the replies, the suppression list shows the opted-out contact and exports
 * and imports CSV, and the contact is opted back in by hand. Screenshots go to screenshots/replies/.
 * Same set-up as tests/e2e/journey.test.ts (Chromium from tests/e2e/chromium.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePagesBuilt } from "../../scripts/pagesBuild";
import { openPage, type SandboxApp, signUp, skipWithoutChromium, startSandboxApp } from "./sandboxApp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const screenshotDir = path.join(repoRoot, "screenshots", "replies");
const chromiumPath = inject("chromiumPath");
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
  sandbox = await startSandboxApp(repoRoot, "waha-campaigns-e2e-replies-");
  ({ dataDir, baseUrl } = sandbox);
}

async function stopApp() {
  const app = sandbox;
  sandbox = null;
  await app?.stop();
}

async function shot(name: string) {
  step += 1;
  await page.screenshot({ path: path.join(screenshotDir, `${String(step).padStart(2, "0")}-${name}.png`), fullPage: true });
}


describe("replies and opt-outs in a browser", () => {
  beforeAll(async () => {
    if (!chromiumPath) return;
    rmSync(screenshotDir, { recursive: true, force: true });
    mkdirSync(screenshotDir, { recursive: true });
    ensurePagesBuilt(repoRoot, { show: false });
    await startApp();
    ({ browser, context, page } = await openPage(chromiumPath, { viewport: { width: 1280, height: 900 }, locale: "en-US", acceptDownloads: true }, pageErrors));
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stopApp();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("a reply is counted on its campaign, a STOP reply opts out, the suppression list exports and imports, and a person opts back in", async (testContext) => {
    skipWithoutChromium(testContext);
    try {
      // A number, a list of three, a campaign sent now.
      await page.goto(`${baseUrl}/`);
      await signUp(page, "replies@example.com");
      await page.getByTestId("nav-numbers").click();
      await page.getByTestId("session-name").fill("Replies");
      await page.getByTestId("session-create").click();
      const card = page.getByTestId("session-Replies");
      await card.getByTestId("simulate-scan").click();
      await expect.poll(() => card.getByTestId("session-status").textContent(), { timeout: 15_000 }).toMatch(/Connected|WORKING/);

      const csvPath = path.join(dataDir, "replies.csv");
      writeFileSync(csvPath, "phone_number,first_name\n+12015550101,Ana\n+12015550102,Budi\n+12015550103,Carla\n");
      await page.getByTestId("nav-contacts").click();
      await page.getByTestId("list-name").fill("Repliers");
      await page.getByTestId("list-create").click();
      await page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/);
      const listUrl = page.url();
      await page.getByTestId("csv-file").setInputFiles(csvPath);
      await expect.poll(() => page.getByTestId("map-phone").inputValue()).toBe("phone_number");
      await page.getByTestId("import-submit").click();
      await page.getByTestId("import-result").waitFor();

      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.getByTestId("campaign-name").fill("Replies welcome");
      await page.getByTestId("campaign-list").selectOption({ label: "Repliers (3 contacts)" });
      await page.getByTestId("mode-text").check();
      await page.getByTestId("campaign-text").fill("Hi {{first_name|there}}, new prices are out. Reply STOP to stop these messages.");
      const when = await page.evaluate(() => {
        const date = new Date(Date.now() + 12_000);
        if (date.getSeconds() === 0) date.setSeconds(1);
        const pad = (n: number) => String(n).padStart(2, "0");
        return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
      });
      await page.getByTestId("campaign-when").fill(when);
      await page.getByTestId("campaign-submit").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      const campaignUrl = page.url();
      await expect.poll(() => page.getByTestId("campaign-status").textContent(), { timeout: 60_000, interval: 500 }).toBe("Completed");

      // Ana replies "Thanks!" from her contact page (the sandbox sends it as WAHA's message webhook).
      await page.goto(listUrl);
      await page.getByTestId("members").getByRole("link", { name: "+12015550101" }).click();
      await page.waitForURL(/\/contact\/[0-9a-f-]{36}$/);
      await expect.poll(() => page.getByTestId("conversation-sent").count()).toBe(1);
      await page.getByTestId("simulate-reply-text").fill("Thanks!");
      await page.getByTestId("simulate-reply").click();
      await expect.poll(() => page.getByTestId("conversation-received").textContent(), { timeout: 10_000 }).toContain("Thanks!");
      expect(await page.getByTestId("opt-out-state").textContent()).toContain("Receives campaign messages");
      await shot("contact-conversation-reply");

      // Budi replies "STOP": he is opted out.
      await page.goto(listUrl);
      await page.getByTestId("members").getByRole("link", { name: "+12015550102" }).click();
      await page.waitForURL(/\/contact\/[0-9a-f-]{36}$/);
      const budiUrl = page.url();
      await page.getByTestId("simulate-reply-text").fill("STOP");
      await page.getByTestId("simulate-reply").click();
      await expect.poll(() => page.getByTestId("opt-out-state").textContent(), { timeout: 10_000 }).toContain("opted out");
      expect(await page.getByTestId("opt-out-state").textContent()).toContain("STOP keyword");
      await shot("contact-opted-out-by-stop");

      // The campaign counts and lists both replies, with links to the contacts.
      await page.goto(campaignUrl);
      const replies = page.getByTestId("campaign-replies");
      await expect.poll(() => page.getByTestId("replied-count").textContent()).toContain("2 replied");
      expect(await page.getByTestId("replied-count").textContent()).toContain("66.7% of 3 sent");
      expect(await page.getByTestId("reply-list").textContent()).toContain("Thanks!");
      expect(await page.getByTestId("reply-list").textContent()).toContain("STOP");
      await replies.scrollIntoViewIfNeeded();
      await shot("campaign-replies");

      // The suppression list: Budi; export, then import another number.
      await page.getByTestId("nav-contacts").click();
      await page.getByTestId("suppression-link").click();
      await page.waitForURL("**/contacts/suppression");
      await expect.poll(() => page.getByTestId("suppressed").textContent()).toContain("+12015550102");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("suppression-export").click()]);
      const exported = readFileSync((await download.path())!, "utf8");
      expect(exported.split("\n")[0]).toBe("phone,opted_out_at,source");
      expect(exported).toContain("+12015550102,");
      const importPath = path.join(dataDir, "suppress.csv");
      writeFileSync(importPath, "phone\n+12015550199\n");
      await page.getByTestId("suppression-file").setInputFiles(importPath);
      await page.getByTestId("suppression-import").click();
      await expect.poll(() => page.getByTestId("suppressed").textContent()).toContain("+12015550199");
      await shot("suppression-list");

      // Budi is opted back in by hand, with a confirmation.
      await page.goto(budiUrl);
      await page.getByTestId("opt-in").click();
      await page.getByTestId("confirm-ok").click();
      await expect.poll(() => page.getByTestId("opt-out-state").textContent()).toContain("Receives campaign messages");
      expect(await page.getByTestId("opt-out-state").textContent()).toContain("Opted back in");
      await shot("contact-opted-back-in");
      expect(pageErrors).toEqual([]);
    } catch (error) {
      await shot("failure").catch(() => undefined);
      throw new Error(`${(error as Error).message}\n--- app log (tail) ---\n${appLog().slice(-5000)}`, { cause: error });
    }
  }, 300_000);
});
