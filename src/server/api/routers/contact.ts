import { z } from "zod";
import { MAX_IMPORT_BYTES } from "../../services/contactImport";
import { optInContact, optOutContact } from "../../services/optOut/contactOptOut";
import {
  exportSuppressionCsv,
  getOptOutSettings,
  importSuppression,
  listSuppressed,
  optOutSettingsPatch,
  updateOptOutSettings,
} from "../../services/optOut/suppression";
import { contactConversation } from "../../services/replies/conversation";
import { editContactTags, tagListSchema } from "../../services/contactTags";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a contact id" }) });
const byIdOnly = strictInput(byId);

/** One contact, its opt-out, and the suppression list (issue 14). */
export const contactRouter = router({
  /** The contact, its opt-out state and its conversation: our sends and its replies, in time order. */
  conversation: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => contactConversation(ctx.services.db, ctx.workspaceId, input.id)),
  optOut: protectedProcedure
    .input(byIdOnly)
    .mutation(({ ctx, input }) => optOutContact(ctx.services.db, ctx.workspaceId, input.id, ctx.caller.via === "api-key" ? "api" : "manual")),
  /** Adds, then removes, tags on one contact (issue 15). */
  editTags: protectedProcedure
    .input(strictInput(byId.extend({ add: tagListSchema.optional(), remove: tagListSchema.optional() })))
    .mutation(({ ctx, input }) => editContactTags(ctx.services.db, ctx.workspaceId, input.id, input)),
  optIn: protectedProcedure.input(byIdOnly).mutation(({ ctx, input }) => optInContact(ctx.services.db, ctx.workspaceId, input.id, ctx.caller.userId)),
  suppressed: protectedProcedure
    .input(strictInput(z.object({ limit: z.number().int().min(1).max(1000).optional() })).optional())
    .query(({ ctx, input }) => listSuppressed(ctx.services.db, ctx.workspaceId, input?.limit)),
  exportSuppressed: protectedProcedure.query(async ({ ctx }) => ({ csv: await exportSuppressionCsv(ctx.services.db, ctx.workspaceId) })),
  importSuppressed: protectedProcedure
    .input(
      strictInput(
        z.object({
          csv: z.string().min(1, "The file is empty").max(MAX_IMPORT_BYTES, "The file is larger than 10 MB"),
          defaultCountry: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, "defaultCountry is a two-letter country code such as DE").optional(),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      importSuppression(ctx.services.db, ctx.workspaceId, input.csv, { ...(input.defaultCountry ? { defaultCountry: input.defaultCountry } : {}), quotas: ctx.services.quotas }),
    ),
  optOutSettings: protectedProcedure.query(({ ctx }) => getOptOutSettings(ctx.services.db, ctx.workspaceId)),
  updateOptOutSettings: protectedProcedure
    .input(strictInput(optOutSettingsPatch))
    .mutation(({ ctx, input }) => updateOptOutSettings(ctx.services.db, ctx.workspaceId, input)),
});
