/**
 * The campaign status rules (src/server/services/campaignStatuses.ts), through the tRPC procedures:
 * which user action each status allows, and which statuses still hold a campaign's list, template
 * and image. The expected tables are written out here, not read from the module.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CampaignStatus, campaignStatus, campaigns, contactLists, mediaItems, templates, whatsappSessions } from "~/server/db/schema";
import { ACTIVE_STATUSES, CAMPAIGN_STATUSES, FINAL_STATUSES, LIVE_STATUSES } from "~/server/services/campaignStatuses";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";

const ALL: CampaignStatus[] = ["Draft", "Scheduled", "Running", "Paused", "Completed", "Failed", "Cancelled"];

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return error instanceof TRPCError ? error.code : String(error);
  }
}

/** Every status → "ok" for those listed, CONFLICT for the others. */
const allowedFrom = (...statuses: CampaignStatus[]) => Object.fromEntries(ALL.map((s) => [s, statuses.includes(s) ? "ok" : "CONFLICT"]));

describe("the status lists", () => {
  it("name every status of the database enum once, active or final", () => {
    expect([...CAMPAIGN_STATUSES]).toEqual(campaignStatus.enumValues);
    expect([...ACTIVE_STATUSES, ...FINAL_STATUSES].sort()).toEqual([...campaignStatus.enumValues].sort());
    // The pages poll what changes by itself: every active status but a draft.
    expect([...LIVE_STATUSES]).toEqual(ACTIVE_STATUSES.filter((status) => status !== "Draft"));
  });
});

describe.each(backends)("[%s] what each status allows", (kind) => {
  let app: TestApp;
  let user: Awaited<ReturnType<typeof createTestUser>>;
  let sessionId: string;

  beforeAll(async () => {
    app = await startTestApp(kind);
    user = await createTestUser(app);
    const [session] = await app.services.db
      .insert(whatsappSessions)
      .values({ workspaceId: user.workspaceId, name: "Sales", wahaSessionName: "wc-sales-status", status: "WORKING" })
      .returning();
    sessionId = session!.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  let counter = 0;
  /** A campaign in `status` with its own list, template and image (services never create drafts, so straight into the table). */
  async function seed(status: CampaignStatus) {
    const n = ++counter;
    const db = app.services.db;
    const [list] = await db.insert(contactLists).values({ workspaceId: user.workspaceId, name: `List ${n}` }).returning();
    const [template] = await db.insert(templates).values({ workspaceId: user.workspaceId, name: `Template ${n}`, body: "Hi" }).returning();
    const [media] = await db
      .insert(mediaItems)
      .values({ workspaceId: user.workspaceId, filename: "a.png", mimetype: "image/png", sizeBytes: 1, storagePath: `missing-${n}.png` })
      .returning();
    const [campaign] = await db
      .insert(campaigns)
      .values({
        workspaceId: user.workspaceId,
        name: `Campaign ${n}`,
        listId: list!.id,
        templateId: template!.id,
        mediaId: media!.id,
        sessionId,
        status,
        scheduledAt: new Date(Date.now() + 3600_000),
        delayMinMs: 0,
        delayMaxMs: 0,
        // A running campaign is held by another process: the sweep must not take it over meanwhile.
        ...(status === "Running" ? { leaseHolder: "another-process", leaseExpiresAt: new Date(Date.now() + 3600_000), startedAt: new Date() } : {}),
      })
      .returning();
    return { campaign: campaign!.id, list: list!.id, template: template!.id, media: media!.id };
  }

  async function each(action: (ids: Awaited<ReturnType<typeof seed>>) => Promise<unknown>) {
    const results: Record<string, string> = {};
    for (const status of ALL) results[status] = await outcome(action(await seed(status)));
    return results;
  }

  it("edit and reschedule: only before it starts", async () => {
    expect(await each((ids) => user.trpc.campaign.update({ id: ids.campaign, name: "Renamed" }))).toEqual(allowedFrom("Draft", "Scheduled"));
  });

  it("pause: a scheduled or running campaign", async () => {
    expect(await each((ids) => user.trpc.campaign.pause({ id: ids.campaign }))).toEqual(allowedFrom("Scheduled", "Running"));
  });

  it("resume: a paused campaign", async () => {
    expect(await each((ids) => user.trpc.campaign.resume({ id: ids.campaign }))).toEqual(allowedFrom("Paused"));
  });

  it("cancel: any campaign that has not ended", async () => {
    expect(await each((ids) => user.trpc.campaign.cancel({ id: ids.campaign }))).toEqual(allowedFrom("Draft", "Scheduled", "Running", "Paused"));
  });

  it("delete: any campaign (an active one is cancelled first)", async () => {
    expect(await each((ids) => user.trpc.campaign.delete({ id: ids.campaign }))).toEqual(allowedFrom(...ALL));
  });

  it("a list and an image stay while a campaign may still send; a template while it may still render it", async () => {
    const active = allowedFrom("Completed", "Failed", "Cancelled");
    expect(await each((ids) => user.trpc.contactList.delete({ id: ids.list }))).toEqual(active);
    expect(await each((ids) => user.trpc.media.delete({ id: ids.media }))).toEqual(active);
    // A running campaign rendered its texts when it started.
    expect(await each((ids) => user.trpc.template.delete({ id: ids.template }))).toEqual(allowedFrom("Running", "Completed", "Failed", "Cancelled"));
  });
});
