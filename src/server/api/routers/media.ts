import { z } from "zod";
import { MAX_IMAGE_BYTES } from "../../services/media";
import { pageInput } from "../../services/pagination";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = strictInput(z.object({ id: z.uuid({ error: "Not an image id" }) }));

export const mediaRouter = router({
  list: protectedProcedure.input(strictInput(pageInput)).query(({ ctx, input }) => ctx.services.media.list(ctx.workspaceId, input)),
  /** The browser sends the file as base64 (JSON); the bytes are checked, not the name. */
  upload: protectedProcedure
    .input(
      strictInput(
        z.object({
          filename: z.string().min(1).max(200),
          dataBase64: z.string().min(1, "The file is empty").max(Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 8, "The image is larger than 5 MB"),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      ctx.services.media.upload(ctx.workspaceId, { filename: input.filename, bytes: Buffer.from(input.dataBase64, "base64") }),
    ),
  /** One image with its bytes as a data URL, for the dashboard's thumbnails and previews. */
  get: protectedProcedure.input(byId).query(async ({ ctx, input }) => {
    const { item, bytes } = await ctx.services.media.read(ctx.workspaceId, input.id);
    const { storagePath: _storagePath, ...shown } = item;
    return { ...shown, dataUrl: `data:${item.mimetype};base64,${bytes.toString("base64")}` };
  }),
  delete: protectedProcedure.input(byId).mutation(async ({ ctx, input }) => {
    await ctx.services.media.delete(ctx.workspaceId, input.id);
    return { ok: true };
  }),
});
