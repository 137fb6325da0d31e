import { z } from "zod";
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  knownAttributes,
  listTemplates,
  previewTemplate,
  templateInput,
  updateTemplate,
} from "../../services/templates";
import { pageInput } from "../../services/pagination";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a template id" }) });
const byIdOnly = strictInput(byId);

export const templateRouter = router({
  list: protectedProcedure.input(strictInput(pageInput)).query(({ ctx, input }) => listTemplates(ctx.services.db, ctx.workspaceId, input)),
  get: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => getTemplate(ctx.services.db, ctx.workspaceId, input.id)),
  create: protectedProcedure
    .input(strictInput(templateInput))
    .mutation(({ ctx, input }) => createTemplate(ctx.services.db, ctx.workspaceId, input)),
  update: protectedProcedure
    .input(strictInput(byId.extend(templateInput.partial().shape)))
    .mutation(({ ctx, input: { id, ...changes } }) => updateTemplate(ctx.services.db, ctx.workspaceId, id, changes)),
  delete: protectedProcedure.input(byIdOnly).mutation(async ({ ctx, input }) => {
    await deleteTemplate(ctx.services.db, ctx.workspaceId, input.id);
    return { ok: true };
  }),
  /** Placeholders usable in this workspace (built-ins and imported columns). */
  placeholders: protectedProcedure.query(async ({ ctx }) => ({
    builtIn: ["first_name", "phone"],
    attributes: await knownAttributes(ctx.services.db, ctx.workspaceId),
  })),
  preview: protectedProcedure
    .input(
      strictInput(
        z.object({ body: z.string().max(4096), contactId: z.uuid().optional(), listId: z.uuid().optional() }),
      ),
    )
    .query(({ ctx, input }) => previewTemplate(ctx.services.db, ctx.workspaceId, input)),
});
