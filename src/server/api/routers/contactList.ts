import { z } from "zod";
import {
  addContactsToList,
  createList,
  deleteList,
  getList,
  importCsvIntoList,
  importOptionsSchema,
  listLists,
  listMembers,
  listNameSchema,
  removeMembers,
  renameList,
} from "../../services/contactLists";
import { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS } from "../../services/contactImport";
import { pageInput } from "../../services/pagination";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a list id" }) });
const byIdOnly = strictInput(byId);

/**
 * One contact as sent, its keys untouched: a record schema would copy it and silently drop a
 * `__proto__` key that the import must refuse (contactImport.ts, reserved attribute names).
 */
const contactItem = z
  .custom<Record<string, unknown>>((value) => typeof value === "object" && value !== null && !Array.isArray(value), {
    message: 'Each contact must be an object such as {"phone": "+4915123456789", "first_name": "Ana"}',
  })
  .meta({ type: "object", additionalProperties: true, description: "phone (required), first_name, and any attributes" });

export const contactListRouter = router({
  list: protectedProcedure.input(strictInput(pageInput)).query(({ ctx, input }) => listLists(ctx.services.db, ctx.workspaceId, input)),
  get: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => getList(ctx.services.db, ctx.workspaceId, input.id)),
  create: protectedProcedure
    .input(strictInput(z.object({ name: listNameSchema }), { memberCount: "memberCount is read-only: add contacts with /contacts or /import" }))
    .mutation(({ ctx, input }) => createList(ctx.services.db, ctx.workspaceId, input.name)),
  rename: protectedProcedure
    .input(strictInput(byId.extend({ name: listNameSchema })))
    .mutation(({ ctx, input }) => renameList(ctx.services.db, ctx.workspaceId, input.id, input.name)),
  delete: protectedProcedure.input(byIdOnly).mutation(async ({ ctx, input }) => {
    await deleteList(ctx.services.db, ctx.workspaceId, input.id);
    return { ok: true };
  }),
  members: protectedProcedure
    .input(strictInput(byId.extend(pageInput.shape).extend({ search: z.string().max(100).optional() })))
    .query(({ ctx, input }) => listMembers(ctx.services.db, ctx.workspaceId, input.id, input)),
  removeMembers: protectedProcedure
    .input(strictInput(byId.extend({ contactIds: z.array(z.uuid()).max(1000) })))
    .mutation(({ ctx, input }) => removeMembers(ctx.services.db, ctx.workspaceId, input.id, input.contactIds)),
  importCsv: protectedProcedure
    .input(
      strictInput(
        byId.extend(importOptionsSchema.shape).extend({
          csv: z.string().min(1, "The file is empty").max(MAX_IMPORT_BYTES, "The file is larger than 10 MB"),
          lineOffset: z
            .number()
            .int()
            .min(0)
            .max(10_000_000)
            .optional()
            .meta({ description: "For a file sent in parts: lines before this part (after the header), added to every reported line" }),
        }),
      ),
    )
    .mutation(({ ctx, input }) => importCsvIntoList(ctx.services.db, ctx.workspaceId, input.id, input.csv, { ...input, quotas: ctx.services.quotas })),
  addContacts: protectedProcedure
    .input(
      strictInput(
        byId.extend(importOptionsSchema.shape).extend({
          contacts: z
            .array(contactItem)
            .min(1, "Send at least one contact")
            .max(MAX_IMPORT_ROWS, `At most ${MAX_IMPORT_ROWS} contacts at once`),
        }),
      ),
    )
    .mutation(({ ctx, input }) => addContactsToList(ctx.services.db, ctx.workspaceId, input.id, input.contacts, { ...input, quotas: ctx.services.quotas })),
});
