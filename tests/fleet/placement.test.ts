import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { placementCandidates } from "~/server/services/wahaServers";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { restClient, type RestClient } from "../rest/helpers";

/**
 * Issue 15, placement: `POST /api/v1/sessions {name}` without serverId puts the number on the
 * least-loaded healthy WAHA server of the workspace (fewest numbers; the operator's default server
 * counts as one and wins a tie, then by name); a chosen server that is not healthy is 409 naming it;
 * with no healthy server the answer is 503. Judged by REST answers and the sessions each fake holds.
 */

const KEY_A = "server-a-secret-key-0001";
const KEY_B = "server-b-secret-key-0002";

async function sessionNamesOn(fake: FakeWaha, apiKey?: string): Promise<string[]> {
  const response = await fetch(`${fake.url}/api/sessions?all=true`, { headers: apiKey ? { "x-api-key": apiKey } : {} });
  expect(response.status).toBe(200);
  return ((await response.json()) as Array<{ name: string }>).map((session) => session.name);
}

describe("placement rule", () => {
  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
  it("fewest numbers first; on a tie the default server, then by name, then by registration; unhealthy never", () => {
    const servers = [
      { id: "b", name: "B", createdAt: at(1), health: "healthy" as const, numbers: 2 },
      { id: "a2", name: "A", createdAt: at(3), health: "healthy" as const, numbers: 2 },
      { id: "a1", name: "A", createdAt: at(2), health: "healthy" as const, numbers: 2 },
      { id: "down", name: "0 down", createdAt: at(0), health: "unreachable" as const, numbers: 0 },
      { id: "new", name: "Z", createdAt: at(4), health: "unknown" as const, numbers: 0 },
    ];
    expect(placementCandidates(servers, { healthy: true, numbers: 2 })).toEqual([null, "a1", "a2", "b"]);
    expect(placementCandidates(servers, { healthy: true, numbers: 3 })).toEqual(["a1", "a2", "b", null]);
    expect(placementCandidates(servers, { healthy: false, numbers: 0 })).toEqual(["a1", "a2", "b"]);
    expect(placementCandidates(servers.slice(3), null)).toEqual([]);
  });
});

describe.each(backends)("[%s] placing a number on the least-loaded healthy WAHA server", (kind) => {
  let app: TestApp;
  let fakeA: FakeWaha;
  let fakeB: FakeWaha;
  const newOwner = async () => restClient(app, (await createTestUser(app)).apiKey);
  async function registerBoth(owner: RestClient) {
    const a = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: fakeA.url, apiKey: KEY_A });
    const b = await owner("POST", "/api/v1/waha-servers", { name: "WAHA B", url: fakeB.url, apiKey: KEY_B });
    expect([a.body.health, b.body.health]).toEqual(["healthy", "healthy"]);
    return { a: a.body as { id: string }, b: b.body as { id: string } };
  }
  /** Where each new number landed: "default", "A" or "B", read from the fakes. */
  async function whereIs(wahaSessionName: string, { aIsDown = false } = {}): Promise<string> {
    const on = [
      (await sessionNamesOn(app.fakeWaha)).includes(wahaSessionName) ? "default" : null,
      !aIsDown && (await sessionNamesOn(fakeA, KEY_A)).includes(wahaSessionName) ? "A" : null,
      (await sessionNamesOn(fakeB, KEY_B)).includes(wahaSessionName) ? "B" : null,
    ].filter((where) => where !== null);
    expect(on).toHaveLength(1);
    return on[0]!;
  }
  /** A server's health, checked now (as the timer does). */
  async function checkHealth() {
    await app.services.wahaServers.checkAll();
  }

  beforeAll(async () => {
    fakeA = await startFakeWaha({ port: 0, apiKey: KEY_A });
    fakeB = await startFakeWaha({ port: 0, apiKey: KEY_B });
    app = await startTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
    await fakeA?.close();
    await fakeB?.close();
  });

  it("numbers without serverId fill the default server, A and B in turn, fewest numbers first", async () => {
    const owner = await newOwner();
    const { a, b } = await registerBoth(owner);
    const placed: string[] = [];
    for (const name of ["One", "Two", "Three", "Four", "Five"]) {
      const created = await owner("POST", "/api/v1/sessions", { name });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      placed.push(await whereIs(created.body.wahaSessionName));
      expect(created.body.serverId).toBe({ default: null, A: a.id, B: b.id }[placed.at(-1)!]);
    }
    expect(placed).toEqual(["default", "A", "B", "default", "A"]);
    expect((await owner("GET", `/api/v1/waha-servers/${a.id}`)).body.numbers).toBe(2);
    expect((await owner("GET", `/api/v1/waha-servers/${b.id}`)).body.numbers).toBe(1);

    // An explicit choice is kept, load or not; null names the default server.
    const chosen = await owner("POST", "/api/v1/sessions", { name: "Chosen A", serverId: a.id });
    expect(await whereIs(chosen.body.wahaSessionName)).toBe("A");
    const onDefault = await owner("POST", "/api/v1/sessions", { name: "Chosen default", serverId: null });
    expect(await whereIs(onDefault.body.wahaSessionName)).toBe("default");
    // Another workspace's load does not count: a stranger's first number goes to its own default.
    const stranger = await newOwner();
    await registerBoth(stranger);
    const theirs = await stranger("POST", "/api/v1/sessions", { name: "Theirs" });
    expect(await whereIs(theirs.body.wahaSessionName)).toBe("default");
  });

  it("an unreachable server gets no new number: chosen, 409 naming it; placed, the next healthy one", async () => {
    const owner = await newOwner();
    const { a } = await registerBoth(owner);
    await fakeA.stopServing();
    try {
      await checkHealth();
      expect((await owner("GET", `/api/v1/waha-servers/${a.id}`)).body.health).toBe("unreachable");
      const refused = await owner("POST", "/api/v1/sessions", { name: "On down A", serverId: a.id });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/WAHA server "WAHA A" is unreachable/);
      expect((await owner("GET", "/api/v1/sessions")).body.items).toEqual([]);

      const placed: string[] = [];
      for (const name of ["One", "Two", "Three"]) {
        const created = await owner("POST", "/api/v1/sessions", { name });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body.serverId).not.toBe(a.id);
        placed.push(await whereIs(created.body.wahaSessionName, { aIsDown: true }));
      }
      expect(placed).toEqual(["default", "B", "default"]);
    } finally {
      await fakeA.serveAgain();
      await checkHealth();
    }
  });

  it("no healthy server at all: 503 naming the servers, and no number is made", async () => {
    const owner = await newOwner();
    await registerBoth(owner);
    const existing = await owner("POST", "/api/v1/sessions", { name: "Before", serverId: null });
    expect(existing.status).toBe(201);
    await Promise.all([fakeA.stopServing(), fakeB.stopServing(), app.fakeWaha.stopServing()]);
    try {
      await checkHealth();
      // Reading the number finds the default server unreachable too (that is how the app knows).
      await owner("GET", `/api/v1/sessions/${existing.body.id}`);
      const refused = await owner("POST", "/api/v1/sessions", { name: "Nowhere" });
      expect(refused.status).toBe(503);
      expect(refused.body.error.message).toMatch(/No healthy WAHA server/);
      expect(refused.body.error.message).toMatch(/WAHA A \(unreachable\)/);
      expect(refused.body.error.message).toMatch(/WAHA B \(unreachable\)/);
      expect((await owner("GET", "/api/v1/sessions")).body.items.map((number: { name: string }) => number.name)).toEqual(["Before"]);
    } finally {
      await Promise.all([fakeA.serveAgain(), fakeB.serveAgain(), app.fakeWaha.serveAgain()]);
      await checkHealth();
      await app.services.waha.listSessions(); // the default server is seen answering again
    }
  });
});
