import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCaller } from "~/server/api/root";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return error instanceof TRPCError ? error.code : String(error);
  }
}

for (const backend of backends) {
  describe(`[${backend}] a workspace's rows are its own`, () => {
    let app: TestApp;
    let owner: Awaited<ReturnType<typeof createTestUser>>;
    let intruder: Awaited<ReturnType<typeof createTestUser>>;
    let ids: { list: string; template: string; session: string; campaign: string };

    beforeAll(async () => {
      app = await startTestApp(backend);
    });
    // Each test gets an owner with a number, a list, a template and a campaign, and an intruder in
    // another workspace who has nothing yet.
    beforeEach(async () => {
      owner = await createTestUser(app);
      intruder = await createTestUser(app);
      const session = await owner.trpc.whatsappSession.create({ name: "Sales" });
      const list = await owner.trpc.contactList.create({ name: "Customers" });
      await owner.trpc.contactList.addContacts({ id: list.id, contacts: [{ phone: "+4915123456711", first_name: "Lena" }] });
      const template = await owner.trpc.template.create({ name: "Hello", body: "Hi {{first_name|there}}" });
      const campaign = await owner.trpc.campaign.create({
        name: "Winter sale",
        listId: list.id,
        templateId: template.id,
        sessionId: session.id,
        scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
      });
      ids = { list: list.id, template: template.id, session: session.id, campaign: campaign.id };
    });
    afterAll(async () => {
      await app?.close();
    });

    it("an anonymous caller is refused everywhere but sign-up and log-in", async () => {
      const anonymous = createCaller({ services: app.services, caller: null, cookies: null });
      expect(await codeOf(anonymous.contactList.list({}))).toBe("UNAUTHORIZED");
      expect(await codeOf(anonymous.campaign.get({ id: ids.campaign }))).toBe("UNAUTHORIZED");
      expect(await anonymous.auth.me()).toBeNull();
    });

    it("another workspace cannot read the owner's rows: not found, never the data", async () => {
      expect(await codeOf(intruder.trpc.contactList.get({ id: ids.list }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.contactList.members({ id: ids.list }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.template.get({ id: ids.template }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.whatsappSession.get({ id: ids.session }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.campaign.get({ id: ids.campaign }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.campaign.recipients({ id: ids.campaign }))).toBe("NOT_FOUND");
      expect((await intruder.trpc.contactList.list({})).items).toEqual([]);
      expect((await intruder.trpc.campaign.list({})).items).toEqual([]);
      expect(await intruder.trpc.whatsappSession.list()).toEqual([]);
    });

    it("another workspace cannot change or delete the owner's rows", async () => {
      expect(await codeOf(intruder.trpc.contactList.rename({ id: ids.list, name: "mine now" }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.contactList.addContacts({ id: ids.list, contacts: [{ phone: "+4915123456799" }] }))).toBe(
        "NOT_FOUND",
      );
      expect(await codeOf(intruder.trpc.template.update({ id: ids.template, body: "hacked" }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.campaign.cancel({ id: ids.campaign }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.campaign.delete({ id: ids.campaign }))).toBe("NOT_FOUND");
      expect(await codeOf(intruder.trpc.contactList.delete({ id: ids.list }))).toBe("NOT_FOUND");
      // Nor use them in a campaign of its own.
      const session = await intruder.trpc.whatsappSession.create({ name: "Mine" });
      expect(
        await codeOf(
          intruder.trpc.campaign.create({
            name: "x",
            listId: ids.list,
            text: "hello",
            sessionId: session.id,
            scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
          }),
        ),
      ).toBe("UNPROCESSABLE_CONTENT");

      const list = await owner.trpc.contactList.get({ id: ids.list });
      expect(list.name).toBe("Customers");
      expect(list.memberCount).toBe(1);
      expect((await owner.trpc.template.get({ id: ids.template })).body).toBe("Hi {{first_name|there}}");
      expect((await owner.trpc.campaign.get({ id: ids.campaign })).status).toBe("Scheduled");
    });
  });
}
