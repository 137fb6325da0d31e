import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "~/server/db/client";
import * as s from "~/server/db/schema";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";

for (const backend of backends) {
  describe(`[${backend}] schema and migrations`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await database?.close();
    });

    it("applies every migration: all tables exist", async () => {
      const rows = await queryRows<{ table_name: string }>(
        database.db,
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      const names = rows.map((row) => row.table_name);
      expect(names).toEqual(
        expect.arrayContaining([
          "api_keys", "auth_sessions", "campaign_recipients", "campaigns", "contact_list_members",
          "contact_lists", "contacts", "media_items", "templates", "users", "webhook_events",
          "whatsapp_sessions", "workspaces",
        ]),
      );
    });

    it("keeps a phone number unique within a workspace but not across workspaces", async () => {
      const [a, b] = await database.db.insert(s.workspaces).values([{ name: "A" }, { name: "B" }]).returning();
      await database.db.insert(s.contacts).values({ workspaceId: a!.id, phone: "+12015550101" });
      await expect(
        database.db.insert(s.contacts).values({ workspaceId: a!.id, phone: "+12015550101" }),
      ).rejects.toThrow();
      await database.db.insert(s.contacts).values({ workspaceId: b!.id, phone: "+12015550101" });
      const rows = await database.db.select().from(s.contacts).where(eq(s.contacts.phone, "+12015550101"));
      expect(rows).toHaveLength(2);
    });

    it("refuses a campaign that points at a list that does not exist", async () => {
      const [w] = await database.db.insert(s.workspaces).values({ name: "C" }).returning();
      const [session] = await database.db
        .insert(s.whatsappSessions)
        .values({ workspaceId: w!.id, name: "main", wahaSessionName: `c-${w!.id}` })
        .returning();
      await expect(
        database.db.insert(s.campaigns).values({
          workspaceId: w!.id, name: "x", listId: "00000000-0000-0000-0000-000000000000",
          sessionId: session!.id, scheduledAt: new Date(), delayMinMs: 0, delayMaxMs: 0,
        }),
      ).rejects.toThrow();
    });

    it("refuses a second recipient row for the same contact in one campaign", async () => {
      const [w] = await database.db.insert(s.workspaces).values({ name: "D" }).returning();
      const [list] = await database.db.insert(s.contactLists).values({ workspaceId: w!.id, name: "l" }).returning();
      const [session] = await database.db
        .insert(s.whatsappSessions)
        .values({ workspaceId: w!.id, name: "main", wahaSessionName: `d-${w!.id}` })
        .returning();
      const [contact] = await database.db.insert(s.contacts).values({ workspaceId: w!.id, phone: "+4915123456711" }).returning();
      const [campaign] = await database.db
        .insert(s.campaigns)
        .values({ workspaceId: w!.id, name: "c", listId: list!.id, sessionId: session!.id, scheduledAt: new Date(), delayMinMs: 0, delayMaxMs: 0 })
        .returning();
      const row = { campaignId: campaign!.id, contactId: contact!.id, position: 0, phone: contact!.phone, chatId: "4915123456711@c.us", renderedText: "hi" };
      await database.db.insert(s.campaignRecipients).values(row);
      await expect(database.db.insert(s.campaignRecipients).values({ ...row, position: 1 })).rejects.toThrow();
      // A WhatsApp number in use by a campaign cannot be deleted out from under it.
      await expect(database.db.delete(s.whatsappSessions).where(eq(s.whatsappSessions.id, session!.id))).rejects.toThrow();
    });

    it("a transaction never sees, nor swallows, another caller's statements", async () => {
      const [w] = await database.db.insert(s.workspaces).values({ name: "tx" }).returning();
      let releaseTransaction!: () => void;
      const holdOpen = new Promise<void>((resolve) => (releaseTransaction = resolve));
      let insideStarted!: () => void;
      const started = new Promise<void>((resolve) => (insideStarted = resolve));
      const transaction = database.db
        .transaction(async (tx) => {
          await tx.insert(s.contactLists).values({ workspaceId: w!.id, name: "inside" });
          insideStarted();
          await holdOpen;
          throw new Error("roll back");
        })
        .catch((error: Error) => error.message);
      await started;
      // Issued while the transaction is open: on PGlite it waits; on PostgreSQL it runs beside it.
      const outside = database.db.insert(s.contactLists).values({ workspaceId: w!.id, name: "outside" }).returning();
      await new Promise((resolve) => setTimeout(resolve, 50));
      releaseTransaction();
      expect(await transaction).toBe("roll back");
      await outside;
      const names = (await database.db.select().from(s.contactLists).where(eq(s.contactLists.workspaceId, w!.id))).map(
        (row) => row.name,
      );
      // The rollback took the inside row only; the outside statement was not part of it.
      expect(names).toEqual(["outside"]);
    });
  });
}
