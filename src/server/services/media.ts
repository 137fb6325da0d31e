/** The media library: images checked by their bytes (not their name), kept under DATA_DIR/media. */
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { campaigns, mediaItems, templates } from "../db/schema";
import { ACTIVE_STATUSES } from "./campaignStatuses";
import { conflict, notFound, unprocessable } from "./errors";
import { afterCursor, newestFirst, type PageInput, toPage } from "./pagination";
import { assertMediaQuota, DEFAULT_QUOTAS, type QuotaDefaults } from "./quotas";

/** WhatsApp accepts images up to 5 MB. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const SIGNATURES: Array<{ mimetype: string; extension: string; matches: (bytes: Buffer) => boolean }> = [
  { mimetype: "image/jpeg", extension: "jpg", matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    mimetype: "image/png",
    extension: "png",
    matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  {
    mimetype: "image/webp",
    extension: "webp",
    matches: (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP",
  },
];

export function detectImageType(bytes: Buffer) {
  return SIGNATURES.find((signature) => signature.matches(bytes)) ?? null;
}

export class MediaService {
  constructor(
    private readonly db: Db,
    private readonly mediaDir: string,
    /** QUOTA_MEDIA_BYTES and the rest; DEFAULT_QUOTAS when not given. */
    private readonly quotas: QuotaDefaults = DEFAULT_QUOTAS,
  ) {}

  async upload(workspaceId: string, input: { filename: string; bytes: Buffer }) {
    if (input.bytes.length === 0) throw unprocessable("The file is empty", "file");
    if (input.bytes.length > MAX_IMAGE_BYTES) {
      throw unprocessable(`The image is ${(input.bytes.length / 1024 / 1024).toFixed(1)} MB; WhatsApp takes at most 5 MB`, "file");
    }
    const type = detectImageType(input.bytes);
    if (!type) throw unprocessable("Only JPEG, PNG or WebP images can be sent", "file");
    const storagePath = path.join(workspaceId, `${randomUUID()}.${type.extension}`);
    const filename = path.basename(input.filename).slice(0, 200) || `image.${type.extension}`;
    // Checked and recorded under the workspace's lock; the file is written only once the quota allows it.
    const item = await this.db.transaction(async (tx) => {
      await assertMediaQuota(tx, workspaceId, this.quotas, input.bytes.length);
      await mkdir(path.join(this.mediaDir, workspaceId), { recursive: true });
      await writeFile(path.join(this.mediaDir, storagePath), input.bytes);
      const [row] = await tx
        .insert(mediaItems)
        .values({ workspaceId, filename, mimetype: type.mimetype, sizeBytes: input.bytes.length, storagePath })
        .returning();
      return row!;
    });
    return item;
  }

  /** The library as the browser sees it: no storage paths. */
  async list(workspaceId: string, page: PageInput) {
    const rows = await this.db
      .select({
        id: mediaItems.id,
        filename: mediaItems.filename,
        mimetype: mediaItems.mimetype,
        sizeBytes: mediaItems.sizeBytes,
        createdAt: mediaItems.createdAt,
      })
      .from(mediaItems)
      .where(and(eq(mediaItems.workspaceId, workspaceId), afterCursor(page.cursor, mediaItems.createdAt, mediaItems.id)))
      .orderBy(...newestFirst(mediaItems.createdAt, mediaItems.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit);
  }

  async get(workspaceId: string, mediaId: string) {
    const [item] = await this.db
      .select()
      .from(mediaItems)
      .where(and(eq(mediaItems.id, mediaId), eq(mediaItems.workspaceId, workspaceId)));
    if (!item) throw notFound("Image");
    return item;
  }

  async read(workspaceId: string, mediaId: string) {
    const item = await this.get(workspaceId, mediaId);
    return { item, bytes: await readFile(path.join(this.mediaDir, item.storagePath)) };
  }

  async delete(workspaceId: string, mediaId: string) {
    const item = await this.get(workspaceId, mediaId);
    const [inUse] = await this.db
      .select({ name: campaigns.name })
      .from(campaigns)
      .where(and(eq(campaigns.mediaId, mediaId), inArray(campaigns.status, ACTIVE_STATUSES)))
      .limit(1);
    if (inUse) throw conflict(`Campaign "${inUse.name}" still sends this image: change or cancel it first`);
    const [template] = await this.db
      .select({ name: templates.name })
      .from(templates)
      .where(and(eq(templates.mediaId, mediaId), eq(templates.workspaceId, workspaceId)))
      .limit(1);
    if (template) throw conflict(`Template "${template.name}" shows this image: remove it from the template first`);
    await this.db.update(campaigns).set({ mediaId: null }).where(eq(campaigns.mediaId, mediaId));
    await this.db.delete(mediaItems).where(eq(mediaItems.id, mediaId));
    await rm(path.join(this.mediaDir, item.storagePath), { force: true });
  }
}
