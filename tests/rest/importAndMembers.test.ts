/**
 * Import messages and a list's members as a caller sees them (issue 16): an unknown country code
 * named, 00 read as +, a binary file refused, a part of a larger file keeping the file's line
 * numbers, and members in import order with their total.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { type Json, restClient, type RestClient } from "./helpers";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

describe.each(backends)("[%s] import messages and list members", (kind) => {
  let app: TestApp;
  let api: RestClient;
  let apiKey: string;
  const newList = async (name: string) => (await api("POST", "/api/v1/lists", { name })).body.id as string;

  beforeAll(async () => {
    app = await startTestApp(kind, { WAHA_URL: "" });
    apiKey = (await createTestUser(app)).apiKey;
    api = restClient(app, apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("names an unknown country code and reads 00 as +", async () => {
    const listId = await newList("Codes");
    const answer = await api("POST", `/api/v1/lists/${listId}/import`, "phone_number\n+999 123456789\n0049 151 23456799\n", { "content-type": "text/csv" });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ received: 2, added: 1, rejected: [{ line: 2, value: "+999 123456789" }] });
    expect(answer.body.rejected[0].reason).toMatch(/^Unknown country code \+999/);
    const members = await api("GET", `/api/v1/lists/${listId}/contacts`);
    expect(members.body.items.map((contact: Json) => contact.phone)).toEqual(["+4915123456799"]);
  });

  it("refuses a PNG sent as the CSV with 400 saying what it is, and saves nothing", async () => {
    const listId = await newList("Picture");
    const answer = await api("POST", `/api/v1/lists/${listId}/import`, PNG.toString("latin1"), { "content-type": "text/csv" });
    const viaJson = await api("POST", `/api/v1/lists/${listId}/import`, { csv: PNG.toString("utf8") });
    for (const refused of [answer, viaJson]) {
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/not a CSV text file: export the sheet as CSV/);
    }
    expect((await api("GET", `/api/v1/lists/${listId}`)).body.memberCount).toBe(0);
  });

  it("a part of a larger file (lineOffset) reports rejected rows by their line in the whole file", async () => {
    const listId = await newList("Parts");
    const answer = await api("POST", `/api/v1/lists/${listId}/import`, { csv: "phone_number\n+4915123456701\nhello\n", lineOffset: 5000 });
    expect(answer.status).toBe(200);
    expect(answer.body.rejected).toEqual([{ line: 5003, value: "hello", reason: expect.any(String) as unknown }]);
  });

  it("lists members in import order, paged, with the total", async () => {
    const listId = await newList("Ordered");
    const phones = Array.from({ length: 7 }, (_, index) => `+49151234568${String(9 - index).padStart(2, "0")}`);
    await api("POST", `/api/v1/lists/${listId}/import`, `phone_number\n${phones.slice(0, 5).join("\n")}\n`, { "content-type": "text/csv" });
    await api("POST", `/api/v1/lists/${listId}/contacts`, phones.slice(5).map((phone) => ({ phone })));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Json } = await api("GET", `/api/v1/lists/${listId}/contacts?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(7);
      seen.push(...page.body.items.map((contact: Json) => contact.phone as string));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(phones);
    const found = await api("GET", `/api/v1/lists/${listId}/contacts?search=${encodeURIComponent("456803")}`);
    expect(found.body).toMatchObject({ total: 1, items: [{ phone: "+4915123456803" }] });
    expect((await api("GET", `/api/v1/lists/${listId}/contacts?cursor=bm9wZQ`)).status).toBe(400);
  });
});
