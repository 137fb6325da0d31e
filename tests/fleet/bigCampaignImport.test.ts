/**
 * The CSV import parsed as a stream and written 1,000 rows at a time (issue 15, big campaigns): a
 * file spanning several chunks gives the same contacts, list and counts as one read whole would — a
 * phone repeated in a later chunk merged into one contact, a bad row reported with its line, and a
 * refused file (over the contact quota) leaving nothing behind.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { importCsvIntoList } from "~/server/services/contactLists";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";

const phone = (index: number) => `+4917${(10_000_000 + index).toString()}`;

for (const backend of backends) {
  describe(`[${backend}] a CSV import over several chunks`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await database?.close();
    });

    async function workspaceWithList(quotaContacts: number | null = null) {
      const [workspace] = await database.db.insert(s.workspaces).values({ name: "w", quotaContacts }).returning();
      const [list] = await database.db.insert(s.contactLists).values({ workspaceId: workspace!.id, name: "l" }).returning();
      return { workspaceId: workspace!.id, listId: list!.id };
    }

    it("2,500 rows: a phone repeated 2,000 rows later is one contact with the later values; a bad row is reported with its line", async () => {
      const { workspaceId, listId } = await workspaceWithList();
      const lines = ["phone,first_name,city"];
      for (let index = 0; index < 2_500; index++) {
        if (index === 2_300) lines.push(`${phone(7)},Later,Berlin`);
        else if (index === 1_500) lines.push("not a number,Bad,Nowhere");
        else lines.push(`${phone(index)},Name${index},Hamburg`);
      }
      const result = await importCsvIntoList(database.db, workspaceId, listId, `${lines.join("\n")}\n`, { defaultCountry: "DE", lineOffset: 100 });

      expect(result).toMatchObject({ received: 2_500, added: 2_498, updated: 0, duplicatesMerged: 1 });
      expect(result.rejected).toHaveLength(1);
      // Line 1,502 of the file (header + 1,500 rows before it), after the 100 lines of the earlier parts.
      expect(result.rejected[0]).toMatchObject({ line: 1_602, value: "not a number" });
      const [merged] = await database.db.select().from(s.contacts).where(eq(s.contacts.phone, phone(7)));
      expect(merged).toMatchObject({ firstName: "Later", attributes: { city: "Berlin" } });
      const members = (await database.db.execute(sql`select count(*)::int as n from contact_list_members where list_id = ${listId}`)) as unknown as { rows: Array<{ n: number }> };
      expect(Number(members.rows[0]!.n)).toBe(2_498);
      // The list keeps the file's order: the repeated phone where it first appeared.
      const ordered = await database.db
        .select({ phone: s.contacts.phone })
        .from(s.contactListMembers)
        .innerJoin(s.contacts, eq(s.contacts.id, s.contactListMembers.contactId))
        .where(eq(s.contactListMembers.listId, listId))
        .orderBy(s.contactListMembers.position)
        .limit(10);
      expect(ordered.map((row) => row.phone)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(phone));
    });

    it("an import over the contact quota is refused whole, even after several chunks were written", async () => {
      const { workspaceId, listId } = await workspaceWithList(1_500);
      const lines = ["phone"];
      for (let index = 0; index < 2_100; index++) lines.push(phone(50_000 + index));
      await expect(importCsvIntoList(database.db, workspaceId, listId, `${lines.join("\n")}\n`, {})).rejects.toThrow(/quota/i);
      const left = (await database.db.execute(sql`select count(*)::int as n from contacts where workspace_id = ${workspaceId}`)) as unknown as { rows: Array<{ n: number }> };
      expect(Number(left.rows[0]!.n)).toBe(0);
    });
  });
}
