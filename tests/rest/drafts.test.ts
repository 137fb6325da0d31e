/**
 * Drafts (issue 16): a campaign saved without a time (`status: "Draft"`), edited, then scheduled with
 * POST /api/v1/campaigns/{id}/schedule, which is where everything is checked. A draft is never
 * armed or claimed: nothing is sent for it until it is scheduled.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { findScheduledCampaigns } from "~/server/services/scheduling/sweep";
import { inMs, restClient, type RestClient } from "./helpers";

describe.each(backends)("[%s] campaign drafts over REST", (kind) => {
  let app: TestApp;
  let api: RestClient;
  let stranger: RestClient;
  let sessionId: string;
  let wahaSessionName: string;
  let listId: string;

  beforeAll(async () => {
    app = await startTestApp(kind, { WAHA_URL: "" });
    api = restClient(app, (await createTestUser(app)).apiKey);
    stranger = restClient(app, (await createTestUser(app)).apiKey);
    const session = await api("POST", "/api/v1/sessions", { name: "Main number" });
    sessionId = session.body.id;
    wahaSessionName = session.body.wahaSessionName;
    await api("POST", `/api/v1/sessions/${sessionId}/simulate-scan`);
    const list = await api("POST", "/api/v1/lists", { name: "Drafted" });
    listId = list.body.id;
    await api("POST", `/api/v1/lists/${listId}/contacts`, [
      { phone: "+4915123450001", first_name: "Mia" },
      { phone: "+4915123450002", first_name: "Noah" },
    ]);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("saves a draft with only a name, lists it under Draft, and refuses to schedule it until it is complete", async () => {
    const draft = await api("POST", "/api/v1/campaigns", { name: "Spring sale", status: "Draft" });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    expect(draft.body).toMatchObject({ status: "Draft", scheduledAt: null, listId: null, messageText: null, templateId: null, sessionId });

    const drafts = await api("GET", "/api/v1/campaigns?status=Draft");
    expect(drafts.body.items.map((c: { id: string }) => c.id)).toContain(draft.body.id);
    expect((await stranger("GET", `/api/v1/campaigns/${draft.body.id}`)).status).toBe(404);

    // Scheduling checks everything, naming the first thing to fill in.
    const schedule = (body: unknown) => api("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, body);
    const noList = await schedule({ scheduledAt: inMs(60_000) });
    expect(noList.status).toBe(422);
    expect(noList.body.error).toMatchObject({ code: "unprocessable", field: "listId" });

    expect((await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { listId })).body).toMatchObject({ status: "Draft", listId });
    const noText = await schedule({ scheduledAt: inMs(60_000) });
    expect(noText.status).toBe(422);
    expect(noText.body.error.message).toBe("Choose a template or write the message text");

    // An unknown placeholder waits in a draft, and is refused when scheduling.
    expect((await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { text: "Hi {{first_name}} from {{shop}}" })).status).toBe(200);
    const unknown = await schedule({ scheduledAt: inMs(60_000) });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toContain("shop");

    await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { text: "Hi {{first_name}}, spring is here" });
    const noTime = await schedule({});
    expect(noTime.status).toBe(422);
    expect(noTime.body.error).toMatchObject({ field: "scheduledAt" });
    const past = await schedule({ scheduledAt: inMs(-60_000) });
    expect(past.status).toBe(422);
    expect(past.body.error.message).toBe("The scheduled time has passed: choose a time in the future");

    // Still a draft after every refusal.
    expect((await api("GET", `/api/v1/campaigns/${draft.body.id}`)).body).toMatchObject({ status: "Draft", scheduledAt: null });
    expect((await stranger("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, { scheduledAt: inMs(60_000) })).status).toBe(404);
  });

  it("checks what a draft does give: no template and text both, no other workspace's list, delays in order", async () => {
    const otherList = await stranger("POST", "/api/v1/lists", { name: "Theirs" });
    const foreign = await api("POST", "/api/v1/campaigns", { name: "x", status: "Draft", listId: otherList.body.id });
    expect(foreign.status).toBe(422);
    expect(foreign.body.error).toMatchObject({ field: "listId" });
    const template = await api("POST", "/api/v1/templates", { name: "T", body: "Hello" });
    const both = await api("POST", "/api/v1/campaigns", { name: "x", status: "Draft", templateId: template.body.id, text: "Hi" });
    expect(both.status).toBe(422);
    const delays = await api("POST", "/api/v1/campaigns", { name: "x", status: "Draft", delayMinMs: 5000, delayMaxMs: 1000 });
    expect(delays.status).toBe(422);
    expect(delays.body.error.message).toBe("The longest delay must not be shorter than the shortest");
    const badStatus = await api("POST", "/api/v1/campaigns", { name: "x", status: "Running" });
    expect(badStatus.status).toBe(400);
    // Without status, a campaign is scheduled, so its time is required.
    const noTime = await api("POST", "/api/v1/campaigns", { name: "x", listId, text: "Hi" });
    expect(noTime.status).toBe(422);
    expect(noTime.body.error.message).toContain('status "Draft"');
  });

  it("one placeholder syntax: defaultName and {Name} are refused, saying to write {{first_name|fallback}}", async () => {
    const old = await api("POST", "/api/v1/campaigns", { name: "Old client", status: "Draft", defaultName: "friend" });
    expect(old.status).toBe(400);
    expect(old.body.error).toMatchObject({ field: "defaultName", message: expect.stringContaining("{{first_name|friend}}") });
    const seedStyle = await api("POST", "/api/v1/campaigns", { name: "Seed style", listId, text: "Hi {Name}!", scheduledAt: inMs(60_000) });
    expect(seedStyle.status).toBe(400);
    expect(seedStyle.body.error).toMatchObject({ field: "text", message: expect.stringMatching(/^Write \{\{first_name\|friend\}\} instead of \{Name\}/) });
    const template = await api("POST", "/api/v1/templates", { name: "Seed style", body: "Dear {name}" });
    expect(template.status).toBe(400);
    expect(template.body.error).toMatchObject({ field: "body" });
  });

  it("never sends a draft, even with its planned time passed; once scheduled it sends every message", async () => {
    const before = app.services.fakeWaha!.messages().length;
    const draft = await api("POST", "/api/v1/campaigns", {
      name: "Planned",
      status: "Draft",
      listId,
      text: "Hi {{first_name}}, planned",
      scheduledAt: inMs(1500),
      delayMinMs: 0,
      delayMaxMs: 0,
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    expect(draft.body.status).toBe("Draft");

    // The sweep's read of what is due leaves drafts out; an explicit start is refused.
    await waitFor("the draft's planned time to pass", async () => Date.now() > new Date(draft.body.scheduledAt).getTime() + 100);
    const due = await findScheduledCampaigns(app.services.db, new Date(Date.now() + 86_400_000));
    expect(due.map((c) => c.id)).not.toContain(draft.body.id);
    await app.services.scheduler.startCampaignNow(draft.body.id);
    const still = await api("GET", `/api/v1/campaigns/${draft.body.id}`);
    expect(still.body).toMatchObject({ status: "Draft", startedAt: null, counts: { sent: 0 } });
    expect(app.services.fakeWaha!.messages().length).toBe(before);

    // A draft is not paused (it waits for its user), and a scheduled campaign is not "scheduled" twice.
    expect((await api("POST", `/api/v1/campaigns/${draft.body.id}/pause`)).status).toBe(409);

    const scheduled = await api("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, { scheduledAt: inMs(1500) });
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(200);
    expect(scheduled.body).toMatchObject({ status: "Scheduled", counts: { total: 2, pending: 2 } });
    const again = await api("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, { scheduledAt: inMs(60_000) });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain("only a draft can be scheduled");

    const done = await waitFor(
      "the scheduled draft to complete",
      async () => {
        const campaign = await api("GET", `/api/v1/campaigns/${draft.body.id}`);
        return campaign.body.status === "Completed" ? campaign.body : null;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(done.counts).toMatchObject({ total: 2, sent: 2 });
    const sent = app.services.fakeWaha!.messages().slice(before);
    expect(sent.map((m) => m.text).sort()).toEqual(["Hi Mia, planned", "Hi Noah, planned"]);
    expect(new Set(sent.map((m) => m.session))).toEqual(new Set([wahaSessionName]));
  });

  it("keeps a draft's planned time for /schedule without a body time, and PATCH scheduledAt: null takes it away", async () => {
    const at = inMs(120_000);
    const draft = await api("POST", "/api/v1/campaigns", { name: "Later", status: "Draft", listId, text: "Hello", scheduledAt: at });
    expect(new Date(draft.body.scheduledAt).getTime()).toBe(new Date(at).getTime());
    const cleared = await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { scheduledAt: null });
    expect(cleared.body).toMatchObject({ status: "Draft", scheduledAt: null });
    await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { scheduledAt: at });
    const scheduled = await api("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, {});
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(200);
    expect(scheduled.body.status).toBe("Scheduled");
    expect(new Date(scheduled.body.scheduledAt).getTime()).toBe(new Date(at).getTime());
    // A scheduled campaign keeps a time.
    const noTime = await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { scheduledAt: null });
    expect(noTime.status).toBe(422);
    expect(noTime.body.error).toMatchObject({ field: "scheduledAt" });
    expect((await api("POST", `/api/v1/campaigns/${draft.body.id}/cancel`)).body.status).toBe("Cancelled");
  });
});
