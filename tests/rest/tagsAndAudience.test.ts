/**
 * Issue 15, tags and audiences, over REST in sandbox mode: tags from a CSV `tags` column and a
 * whole-import `?tag=`, edited by hand (PATCH /contacts/{id}/tags, scoped to the workspace), and a
 * campaign whose audience is a list and a tag minus an excluded tag: exactly those contacts get one
 * message each from the fake WAHA.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { inMs, type Json, restClient, type RestClient } from "./helpers";

const csv = [
  "phone_number,first_name,tags",
  '+4915123450001,Ana,"VIP; Berlin"',
  "+4915123450002,Ben,vip",
  '+4915123450003,Cem,"vip, blocked"',
  "+4915123450004,Dan,",
  // The same phone again: its tags are merged, not replaced.
  "+4915123450004,Dan,new",
].join("\n");

describe.each(backends)("[%s] REST contact tags and campaign audiences", (kind) => {
  let app: TestApp;
  let api: RestClient;
  let stranger: RestClient;

  beforeAll(async () => {
    app = await startTestApp(kind, { WAHA_URL: "" });
    api = restClient(app, (await createTestUser(app)).apiKey);
    stranger = restClient(app, (await createTestUser(app)).apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function members(listId: string): Promise<Map<string, Json>> {
    const page = await api("GET", `/api/v1/lists/${listId}/contacts?limit=100`);
    expect(page.status).toBe(200);
    return new Map(page.body.items.map((contact: Json) => [contact.phone, contact]));
  }

  it("imports tags from a tags column and a whole-import tag, and edits them by hand in the workspace only", async () => {
    const list = await api("POST", "/api/v1/lists", { name: "Tagged import" });
    const imported = await api("POST", `/api/v1/lists/${list.body.id}/import?tag=Spring`, csv, { "content-type": "text/csv" });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body).toMatchObject({ received: 5, added: 4, duplicatesMerged: 1, rejected: [] });
    let contacts = await members(list.body.id);
    expect(contacts.get("+4915123450001")).toMatchObject({ tags: ["berlin", "spring", "vip"], attributes: {} });
    expect(contacts.get("+4915123450003").tags).toEqual(["blocked", "spring", "vip"]);
    expect(contacts.get("+4915123450004").tags).toEqual(["new", "spring"]);

    // A re-import without a tags column keeps the tags the contact has.
    const again = await api("POST", `/api/v1/lists/${list.body.id}/contacts?tag=autumn`, [{ phone: "+4915123450002", first_name: "Ben" }]);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    contacts = await members(list.body.id);
    expect(contacts.get("+4915123450002").tags).toEqual(["autumn", "spring", "vip"]);

    const ana = contacts.get("+4915123450001");
    const edited = await api("PATCH", `/api/v1/contacts/${ana.id}/tags`, { add: [" Gold ", "vip"], remove: ["BERLIN", "never-had"] });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toEqual({ id: ana.id, tags: ["gold", "spring", "vip"] });
    expect((await members(list.body.id)).get("+4915123450001").tags).toEqual(["gold", "spring", "vip"]);

    // Another workspace's contact is not found, and its tags stay as they are.
    const foreign = await stranger("PATCH", `/api/v1/contacts/${ana.id}/tags`, { remove: ["vip"] });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: "not_found" });
    expect((await members(list.body.id)).get("+4915123450001").tags).toEqual(["gold", "spring", "vip"]);

    // Strict input: an unknown field, a tag holding a separator, an empty tag: 400 naming the fix.
    for (const body of [{ tags: ["x"] }, { add: ["a,b"] }, { add: [" "] }]) {
      const refused = await api("PATCH", `/api/v1/contacts/${ana.id}/tags`, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.message).toEqual(expect.any(String));
    }
    expect((await api("POST", `/api/v1/lists/${list.body.id}/import?tag=${encodeURIComponent("a;b")}`, csv, { "content-type": "text/csv" })).status).toBe(400);
  });

  it("sends to a list and a tag minus an excluded tag: exactly those contacts, one message each", async () => {
    const sandbox = app.services.fakeWaha!;
    const session = await api("POST", "/api/v1/sessions", { name: "Audience number" });
    expect((await api("POST", `/api/v1/sessions/${session.body.id}/simulate-scan`)).status).toBe(200);

    const shop = await api("POST", "/api/v1/lists", { name: "Shop" });
    expect((await api("POST", `/api/v1/lists/${shop.body.id}/import`, csv.replaceAll("+49151234500", "+49151234510").replace(/vip/gi, "gala"), { "content-type": "text/csv" })).status).toBe(200);
    const events = await api("POST", "/api/v1/lists", { name: "Events" });
    const added = await api("POST", `/api/v1/lists/${events.body.id}/contacts`, [
      { phone: "+4915123451005", first_name: "Eva", tags: "gala" }, // opted out below
      { phone: "+4915123451006", first_name: "Fay" }, // in the list, and tagged gala below: one message
      { phone: "+4915123451007", first_name: "Gus", tags: "blocked" }, // in the list, but excluded
      { phone: "+4915123451008", first_name: "Hal" }, // in the list only
    ]);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const shopContacts = await members(shop.body.id);
    const eventContacts = await members(events.body.id);
    expect((await api("PATCH", `/api/v1/contacts/${shopContacts.get("+4915123451002").id}/tags`, { remove: ["gala"] })).status).toBe(200);
    expect((await api("PATCH", `/api/v1/contacts/${eventContacts.get("+4915123451006").id}/tags`, { add: ["gala"] })).status).toBe(200);
    expect((await api("POST", `/api/v1/contacts/${eventContacts.get("+4915123451005").id}/opt-out`)).status).toBe(200);
    // Another workspace's contact with the tag is not reached.
    const otherWorkspaceList = await stranger("POST", "/api/v1/lists", { name: "Not ours" });
    await stranger("POST", `/api/v1/lists/${otherWorkspaceList.body.id}/contacts`, [{ phone: "+4915123451099", tags: "gala" }]);

    // A foreign list in the audience is refused.
    const refused = await api("POST", "/api/v1/campaigns", {
      name: "Nope",
      audience: { listIds: [otherWorkspaceList.body.id], tags: ["gala"] },
      text: "Hi",
      sessionId: session.body.id,
      scheduledAt: inMs(60_000),
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain("audience.listIds");
    // Excluded tags alone reach no one.
    expect(
      (await api("POST", "/api/v1/campaigns", { name: "Nobody", audience: { excludeTags: ["gala"] }, text: "Hi", sessionId: session.body.id, scheduledAt: inMs(60_000) })).status,
    ).toBe(422);

    const created = await api("POST", "/api/v1/campaigns", {
      name: "Gala evening",
      audience: { listIds: [events.body.id], tags: ["GALA"], excludeTags: ["blocked"] },
      text: "Hi {{first_name|there}}",
      sessionId: session.body.id,
      scheduledAt: inMs(1500),
      delayMinMs: 0,
      delayMaxMs: 0,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.audience).toEqual({ listIds: [events.body.id], tags: ["gala"], excludeTags: ["blocked"] });
    // gala: Ana, Fay; events list: Fay, Hal. Not Ben (gala removed), Cem and Gus (blocked), Eva (opted out), Dan.
    const expected = ["+4915123451001", "+4915123451006", "+4915123451008"].sort();
    expect(created.body.counts).toMatchObject({ total: expected.length, pending: expected.length });

    const done = await waitFor(
      "the audience campaign to complete",
      async () => {
        const campaign = await api("GET", `/api/v1/campaigns/${created.body.id}`);
        return campaign.body.status === "Completed" ? campaign.body : null;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(done.counts).toMatchObject({ total: expected.length, sent: expected.length, failed: 0 });
    const sent = sandbox.messages().filter((message) => message.session === session.body.wahaSessionName);
    expect(sent.map((message) => `+${message.chatId.replace(/@.*$/, "")}`).sort()).toEqual(expected);
    expect(sent.find((message) => message.chatId.startsWith("4915123451006"))?.text).toBe("Hi Fay");
  });

  it("a draft with tags and no list can be scheduled, and PATCH changes its audience", async () => {
    const session = await api("POST", "/api/v1/sessions", { name: "Draft number" });
    const list = await api("POST", "/api/v1/lists", { name: "Draft audience" });
    await api("POST", `/api/v1/lists/${list.body.id}/contacts?tag=drafty`, [{ phone: "+4915123452001" }, { phone: "+4915123452002", tags: "quiet" }]);
    const draft = await api("POST", "/api/v1/campaigns", { name: "Tags only", status: "Draft", sessionId: session.body.id, text: "Hello" });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    // Neither a list nor tags: scheduling names what is missing.
    const missing = await api("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, { scheduledAt: inMs(60_000) });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ field: "listId" });
    expect(missing.body.error.message).toContain("audience");

    const patched = await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { audience: { tags: ["Drafty"], excludeTags: ["quiet", "quiet"] } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.audience).toEqual({ tags: ["drafty"], excludeTags: ["quiet"] });
    const scheduled = await api("POST", `/api/v1/campaigns/${draft.body.id}/schedule`, { scheduledAt: inMs(60_000) });
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(200);
    expect(scheduled.body).toMatchObject({ status: "Scheduled", listId: null, counts: { total: 1, pending: 1 } });

    // An unknown audience field is refused naming the fields it takes.
    const unknown = await api("PATCH", `/api/v1/campaigns/${draft.body.id}`, { audience: { tag: ["x"] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("listIds, tags, excludeTags");
    expect((await api("DELETE", `/api/v1/campaigns/${draft.body.id}`)).status).toBe(204);
  });
});
