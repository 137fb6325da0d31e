/**
 * The fleet pages of issue 15 in a real browser, on the embedded defaults (PGlite + the sandbox fake
 * WAHA) with a second WAHA server of the test's own (tools/fake-waha, reached by the app over HTTP):
 * the server is registered under Numbers > WAHA servers, listed healthy, and its API key is never on
 * the page; a number added on it is scanned there; a campaign over both numbers (balanced) sends to
 * every recipient once; a recurring campaign's form previews its next runs as the rule is typed, and
 * its page lists the next 5 occurrences; an every-minute series over both numbers (sticky) shows its
 * past run, each contact messaged again from the number that messaged them before. Judged by the
 * pages and by the messages the second server received. Screenshots at 1366×900 (and 390×844 for a
 * few) go to screenshots/fleet/ (docs/screenshots.md).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePagesBuilt } from "../../scripts/pagesBuild";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { openPage, type SandboxApp, signUp, skipWithoutChromium, startSandboxApp } from "./sandboxApp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const screenshotDir = path.join(repoRoot, "screenshots", "fleet");
const chromiumPath = inject("chromiumPath");
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
/** The second server's WAHA_API_KEY: typed into the form once, then never on a page again. */
const SERVER_KEY = "fleet-e2e-server-key-7f3a9c";
/** The browser's zone: the repeat section starts in it; the test moves the rule to Jakarta (UTC+7, no daylight saving). */
const BROWSER_ZONE = "America/New_York";
const PHONES = ["+12015550131", "+12015550132", "+12015550133", "+12015550134", "+12015550135", "+12015550136", "+12015550137", "+12015550138"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
let sandbox: SandboxApp | null = null;
let serverB: FakeWaha | null = null;
let dataDir = "";
let baseUrl = "";
let browser: Browser | null = null;
let context: BrowserContext | null = null;
let page: Page;
let step = 0;
const pageErrors: string[] = [];
const appLog = () => sandbox?.log() ?? "";
const chatOf = (phone: string) => `${phone.slice(1)}@c.us`;
/**
 * What the pages show after the server acted: they read again every 3–5 s (numbers, servers, a
 * campaign), so a look waits up to 20 s, where expect.poll's default gives up after 1 s.
 */
const pollFor = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000 });

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

/** A local date-time for the datetime-local input, `ms` from now (in the browser's zone). */
function localInput(ms: number): Promise<string> {
  return page.evaluate((offset) => {
    const date = new Date(Date.now() + offset);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }, ms);
}

/**
 * The next `count` Mondays at 09:00 in Jakarta after now, as the pages write them ("Mon 7 Dec 2026,
 * 09:00"; punctuation left to the browser's ICU): 09:00 there is 02:00 UTC the same day, all year.
 */
function jakartaMondays(count: number): RegExp[] {
  const at = new Date();
  at.setUTCHours(2, 0, 0, 0);
  while (at.getUTCDay() !== 1 || at.getTime() <= Date.now()) at.setUTCDate(at.getUTCDate() + 1);
  return Array.from({ length: count }, (_, index) => {
    const day = new Date(at.getTime() + index * 7 * 86_400_000);
    return new RegExp(`^Mon,? ${day.getUTCDate()} ${MONTHS[day.getUTCMonth()]}t?,? ${day.getUTCFullYear()},? 09:00`);
  });
}

/** Picks a number in the campaign form by its name (the option also shows its phone and status). */
async function chooseNumber(name: string) {
  const select = page.getByTestId("campaign-session");
  const value = await select.locator("option", { hasText: name }).getAttribute("value");
  await select.selectOption(value!);
}

/** The items of a list on the page, as read. */
const itemsOf = (testId: string) => page.getByTestId(testId).locator("li").allInnerTexts();

/** The second server's sessions, as it lists them to a caller with its key. */
async function sessionsOnServerB(): Promise<string[]> {
  const response = await fetch(`${serverB!.url}/api/sessions?all=true`, { headers: { "x-api-key": SERVER_KEY } });
  expect(response.status).toBe(200);
  return ((await response.json()) as Array<{ name: string }>).map((session) => session.name);
}

describe("the fleet pages in a browser: a second WAHA server, two numbers, recurring campaigns", () => {
  beforeAll(async () => {
    if (!chromiumPath) return;
    rmSync(screenshotDir, { recursive: true, force: true });
    mkdirSync(screenshotDir, { recursive: true });
    ensurePagesBuilt(repoRoot, { show: false });
    serverB = await startFakeWaha({ port: 0, apiKey: SERVER_KEY });
    // Registered servers' keys are stored encrypted: the operator sets a key to encrypt them with.
    sandbox = await startSandboxApp(repoRoot, "waha-campaigns-e2e-fleet-", { ENCRYPTION_KEY: "fleet-e2e-encryption-key-0123456789" });
    ({ dataDir, baseUrl } = sandbox);
    ({ browser, context, page } = await openPage(chromiumPath, { viewport: DESKTOP, locale: "en-US", timezoneId: BROWSER_ZONE }, pageErrors));
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    const app = sandbox;
    sandbox = null;
    await app?.stop();
    await serverB?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("registers a server, sends over two numbers once each, and shows a series' next and past runs", async (testContext) => {
    skipWithoutChromium(testContext);
    try {
      await page.goto(`${baseUrl}/`);
      await signUp(page, "fleet@example.com");

      // Numbers > WAHA servers: register the second server with its key.
      await page.getByTestId("nav-numbers").click();
      await page.getByTestId("nav-waha-servers").click();
      await page.waitForURL("**/numbers/servers");
      await page.getByTestId("server-name").fill("WAHA 2");
      await page.getByTestId("server-url").fill(serverB!.url);
      await page.getByTestId("server-api-key").fill(SERVER_KEY);
      await page.getByTestId("server-create").click();
      const servers = page.getByTestId("waha-servers");
      await pollFor(() => servers.textContent()).toContain("WAHA 2");
      const listed = servers.locator("li", { hasText: "WAHA 2" });
      expect(await listed.innerText()).toContain("healthy");
      expect(await listed.innerText()).toContain(serverB!.url);
      expect(await listed.innerText()).toContain("key stored");
      expect(await listed.innerText()).not.toContain("not checked yet");
      // The key is nowhere: not in the text, not in the form, not in the HTML; nor after a reload.
      expect(await page.getByTestId("server-api-key").inputValue()).toBe("");
      expect(await page.content()).not.toContain(SERVER_KEY);
      await shot("server-registered", { phone: true });
      await page.reload();
      await pollFor(() => servers.textContent()).toContain("WAHA 2");
      expect(await page.content()).not.toContain(SERVER_KEY);

      // Two numbers: "Shop" on the sandbox's default server, "Branch" on WAHA 2.
      await page.getByRole("link", { name: "Back to numbers" }).click();
      await page.waitForURL(/\/numbers$/);
      await page.getByTestId("session-name").fill("Shop");
      await page.getByLabel("WAHA server").selectOption({ label: "Default server" });
      await page.getByTestId("session-create").click();
      const shop = page.getByTestId("session-Shop");
      await shop.getByTestId("simulate-scan").click();
      await pollFor(() => shop.getByTestId("session-status").textContent()).toBe("Connected");
      expect(await shop.getByTestId("session-server").innerText()).toBe("Default server");

      await page.getByTestId("session-name").fill("Branch");
      await page.getByLabel("WAHA server").selectOption({ label: "WAHA 2 (healthy)" });
      await page.getByTestId("session-create").click();
      const branch = page.getByTestId("session-Branch");
      await pollFor(() => branch.getByTestId("session-server").innerText()).toMatch(/^WAHA 2\s+healthy/);
      // The number is a session on WAHA 2, waiting for its scan; the test plays the phone there.
      const [branchSession] = await sessionsOnServerB();
      expect(branchSession).toBeTruthy();
      await pollFor(() => branch.getByTestId("session-status").textContent()).toBe("Waiting for scan");
      // The sandbox cannot play the phone of a number on another server: no "Simulate scan" for it.
      await pollFor(() => branch.getByTestId("session-qr").isVisible()).toBe(true);
      expect(await branch.getByTestId("simulate-scan").count()).toBe(0);
      serverB!.setSessionStatus(branchSession!, "WORKING", { id: "12015550999@c.us", pushName: "Branch phone" });
      await expect.poll(() => branch.getByTestId("session-status").textContent(), { timeout: 20_000 }).toBe("Connected");
      await shot("two-numbers", { phone: true });

      // Eight contacts in one list.
      const csvPath = path.join(dataDir, "fleet.csv");
      writeFileSync(csvPath, `phone_number,first_name\n${PHONES.map((phone, index) => `${phone},Guest${index + 1}`).join("\n")}\n`);
      await page.getByTestId("nav-contacts").click();
      await page.getByTestId("list-name").fill("Fleet");
      await page.getByTestId("list-create").click();
      await page.waitForURL(/\/contacts\/[0-9a-f-]{36}$/);
      await page.getByTestId("csv-file").setInputFiles(csvPath);
      await pollFor(() => page.getByTestId("map-phone").inputValue()).toBe("phone_number");
      await page.getByTestId("import-submit").click();
      await page.getByTestId("import-result").waitFor();

      // A campaign over both numbers, shared (balanced), 12 s ahead.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.getByTestId("campaign-name").fill("Both numbers");
      await chooseNumber("Shop");
      await page.getByTestId("campaign-more-numbers").getByLabel(/Branch/).check();
      await page.getByTestId("campaign-number-assignment").selectOption("balanced");
      await page.getByTestId("campaign-list").selectOption({ label: "Fleet (8 contacts)" });
      await page.getByTestId("mode-text").check();
      await page.getByTestId("campaign-text").fill("Hello {{first_name}}, both numbers here");
      await page.getByTestId("campaign-delay-min").fill("0");
      await page.getByTestId("campaign-delay-max").fill("0.3");
      await page.getByTestId("campaign-when").fill(await localInput(12_000));
      await shot("campaign-two-numbers-form", { phone: true });
      await page.getByTestId("campaign-submit").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      await expect.poll(() => page.getByTestId("campaign-status").textContent(), { timeout: 60_000, interval: 500 }).toBe("Completed");
      // Each number's share, read from the page once the run is over.
      const numbers = page.getByTestId("campaign-numbers");
      expect(await numbers.innerText()).toContain("Shared: whichever number is free sends next");
      const sentBy = async (name: string) => Number((await numbers.locator("li", { hasText: name }).innerText()).match(/(\d+) sent/)?.[1] ?? NaN);
      await expect.poll(async () => (await sentBy("Shop")) + (await sentBy("Branch")), { timeout: 15_000 }).toBe(PHONES.length);
      const [shopSent, branchSent] = [await sentBy("Shop"), await sentBy("Branch")];
      expect(shopSent).toBeGreaterThan(0);
      expect(branchSent).toBeGreaterThan(0);
      // Every recipient once, all sent.
      const rows = page.getByTestId("recipient-row");
      await pollFor(() => rows.count()).toBe(PHONES.length);
      expect(new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-status"))))).toEqual(new Set(["sent"]));
      expect((await rows.locator("td:nth-child(2)").allInnerTexts()).sort()).toEqual([...PHONES].sort());
      // WAHA 2 received exactly Branch's share, each to a different contact of the list.
      const firstRun = serverB!.messages().filter((message) => message.text?.includes("both numbers here"));
      expect(firstRun).toHaveLength(branchSent);
      expect(firstRun.every((message) => message.session === branchSession)).toBe(true);
      const branchChats = firstRun.map((message) => message.chatId).sort();
      expect(new Set(branchChats).size).toBe(branchSent);
      expect(branchChats.every((chat) => PHONES.map(chatOf).includes(chat))).toBe(true);
      await shot("campaign-two-numbers-completed", { phone: true });

      // A recurring campaign: the preview follows the rule as it is typed.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.getByTestId("campaign-name").fill("Monday mornings");
      await chooseNumber("Shop");
      await page.getByTestId("campaign-list").selectOption({ label: "Fleet (8 contacts)" });
      await page.getByTestId("mode-text").check();
      await page.getByTestId("campaign-text").fill("Good morning {{first_name}}");
      await page.getByTestId("campaign-repeat-on").check();
      // "Send at" steps aside: the rule gives the times. It starts in the browser's zone.
      await pollFor(() => page.getByTestId("campaign-when").isVisible()).toBe(false);
      expect(await page.getByTestId("campaign-repeat-zone").inputValue()).toBe(BROWSER_ZONE);
      const preview = page.getByTestId("campaign-repeat-next");
      expect(await preview.innerText()).toContain(`Next runs (${BROWSER_ZONE})`);
      await page.getByTestId("campaign-repeat-cron").fill("0 9 * *");
      await pollFor(() => page.getByTestId("campaign-repeat").innerText()).toContain("Not a cron expression");
      expect(await preview.count()).toBe(0);
      await page.getByTestId("campaign-repeat-cron").fill("0 9 * * *");
      // Every day: five days in a row at 09:00.
      await pollFor(() => itemsOf("campaign-repeat-next")).toHaveLength(5);
      const daily = await itemsOf("campaign-repeat-next");
      expect(daily.every((item) => item.endsWith("09:00"))).toBe(true);
      expect(new Set(daily.map((item) => item.slice(0, 3))).size).toBe(5);
      await page.getByTestId("campaign-repeat-cron").fill("0 9 * * MON");
      await page.getByTestId("campaign-repeat-zone").fill("Mars/Olympus");
      await pollFor(() => page.getByTestId("campaign-repeat").innerText()).toContain('Unknown time zone "Mars/Olympus"');
      await page.getByTestId("campaign-repeat-zone").fill("Asia/Jakarta");
      await pollFor(() => preview.innerText()).toContain("Next runs (Asia/Jakarta)");
      const expected = jakartaMondays(5);
      const previewed = await itemsOf("campaign-repeat-next");
      expect(previewed).toHaveLength(5);
      previewed.forEach((item, index) => expect(item).toMatch(expected[index]!));
      await shot("repeat-preview", { phone: true });
      await page.getByTestId("campaign-submit").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      await pollFor(() => page.getByTestId("campaign-status").textContent()).toBe("Recurring");

      // The series page: its rule; one run, the next Monday's, waiting (a series holds its next run
      // ahead, made just after the series itself); and the same 5 Mondays from the server.
      const series = page.getByTestId("campaign-series");
      await pollFor(() => series.innerText()).toContain("Repeats 0 9 * * MON in Asia/Jakarta");
      const runRows = page.getByTestId("series-runs").locator("tbody tr");
      await pollFor(() => runRows.allInnerTexts()).toHaveLength(1);
      const [nextRun] = await runRows.allInnerTexts();
      expect(nextRun!.replaceAll("\t", " ")).toMatch(expected[0]!);
      expect(nextRun).toContain("Scheduled");
      expect(nextRun).toContain(`0 of ${PHONES.length} recipients`);
      await pollFor(() => itemsOf("series-next")).toHaveLength(5);
      const listedNext = await itemsOf("series-next");
      listedNext.forEach((item, index) => {
        expect(item).toMatch(expected[index]!);
        expect(item).toContain("(Asia/Jakarta)");
      });
      await shot("series-next-occurrences", { phone: true });

      // An every-minute series over both numbers, sticky: its first run, listed under Runs, sends
      // each contact from the number that messaged them in the first campaign.
      await page.getByTestId("nav-campaigns").click();
      await page.getByTestId("campaign-new").click();
      await page.getByTestId("campaign-name").fill("Every minute");
      await chooseNumber("Shop");
      await page.getByTestId("campaign-more-numbers").getByLabel(/Branch/).check();
      await page.getByTestId("campaign-number-assignment").selectOption("sticky");
      await page.getByTestId("campaign-list").selectOption({ label: "Fleet (8 contacts)" });
      await page.getByTestId("mode-text").check();
      await page.getByTestId("campaign-text").fill("Minute news for {{first_name}}");
      await page.getByTestId("campaign-delay-min").fill("0");
      await page.getByTestId("campaign-delay-max").fill("0.3");
      await page.getByTestId("campaign-repeat-on").check();
      await page.getByTestId("campaign-repeat-cron").fill("* * * * *");
      await pollFor(() => itemsOf("campaign-repeat-next")).toHaveLength(5);
      await page.getByTestId("campaign-submit").click();
      await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
      await pollFor(() => page.getByTestId("campaign-status").textContent()).toBe("Recurring");
      expect(await page.getByTestId("campaign-numbers").innerText()).toContain("Each contact keeps the number that messaged them before");
      const runs = page.getByTestId("series-runs");
      const completedRun = runs.locator("tr", { hasText: "Completed" }).first();
      await completedRun.waitFor({ timeout: 100_000 });
      expect(await completedRun.innerText()).toContain(`${PHONES.length} of ${PHONES.length} recipients`);
      // The next minute's run may have begun already: the contacts WAHA 2 messaged, not how often.
      const minuteRun = serverB!.messages().filter((message) => message.text?.includes("Minute news"));
      expect([...new Set(minuteRun.map((message) => message.chatId))].sort()).toEqual(branchChats);
      await shot("series-past-run", { phone: true });
      // The run links back to its series.
      await completedRun.getByRole("link").click();
      await pollFor(() => page.getByTestId("campaign-run-of").innerText()).toContain("A run of the recurring campaign Every minute");
      expect(await page.getByTestId("campaign-status").textContent()).toBe("Completed");
      await shot("series-run");
      expect(pageErrors).toEqual([]);
    } catch (error) {
      await shot("failure").catch(() => undefined);
      throw new Error(`${(error as Error).message}\n--- app log (tail) ---\n${appLog().slice(-5000)}`, { cause: error });
    }
  }, 420_000);
});
