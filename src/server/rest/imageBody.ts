/**
 * `POST /api/v1/media`: the request body is the image itself, as `curl --data-binary @photo.jpg`
 * sends it, under the media body limit. It becomes the input of the `media.upload` procedure
 * (`dataBase64`), which checks the bytes (JPEG, PNG or WebP, at most 5 MB) as it does for the
 * dashboard; the Content-Type only has to say it is an image, the bytes decide which.
 */
import type { IncomingMessage } from "node:http";
import { BODY_LIMIT_BYTES, describeBytes } from "../http/limits";
import { BodyTooLargeError, readBoundedBody } from "../http/requestBody";
import { RestError } from "./errors";

export const IMAGE_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;

/** `filename` is a default the `?filename=` query parameter overrides. */
export async function readImageBody(req: IncomingMessage): Promise<{ filename: string; dataBase64: string }> {
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (!type.startsWith("image/")) {
    throw new RestError(
      "bad_request",
      `Send the image itself as the body with its Content-Type (${IMAGE_CONTENT_TYPES.join(", ")}), e.g. ` +
        "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg'; not a form upload or JSON",
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readBoundedBody(req, BODY_LIMIT_BYTES.media);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new RestError("payload_too_large", `The image is larger than ${describeBytes(BODY_LIMIT_BYTES.media)}; WhatsApp takes at most 5 MB`);
    }
    throw error;
  }
  if (bytes.length === 0) throw new RestError("bad_request", "The body is empty: send the image's bytes");
  const extension = type.slice("image/".length).replace(/[^a-z0-9]/g, "") || "img";
  return { filename: `upload.${extension}`, dataBase64: bytes.toString("base64") };
}
