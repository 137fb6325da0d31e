/**
 * Reading a request body under a size limit. The limit is checked against `Content-Length` before
 * a byte is read, and again while the body streams in (chunked bodies have no length), so memory
 * never holds more than the limit. A refused body is left unread; `discardUnreadBodyAfterAnswer`
 * drops what the client still sends after the answer, then closes the connection without a reset
 * that could erase the answer before the client has read it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DISCARD_CAP_BYTES, DISCARD_LINGER_MS } from "./limits";

export class BodyTooLargeError extends Error {
  constructor(public readonly limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** The declared `Content-Length`, or null when the body is chunked (or the header is not a number). */
export function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers["content-length"];
  if (header === undefined || !/^\d+$/.test(header.trim())) return null;
  return Number(header);
}

export function declaresMoreThan(req: IncomingMessage, limitBytes: number): boolean {
  const declared = declaredLength(req);
  return declared !== null && declared > limitBytes;
}

/** The whole body, or BodyTooLargeError as soon as it is known to pass `limitBytes`. */
export function readBoundedBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  if (declaresMoreThan(req, limitBytes)) return Promise.reject(new BodyTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        stop();
        req.pause();
        reject(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      stop();
      reject(new Error("The client closed the connection before the request body ended"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * Once the answer is complete: whatever of the body nobody read is dropped as it arrives, up to a
 * cap, then the connection is closed. Left alone, Node would read an unread body to its end, however
 * long. This starts at `prefinish` (the answer is complete, not yet flushed), before Node's own
 * `finish` handler would take the body over.
 *
 * The close is never a bare `destroy()`: closing a socket whose receive buffer still holds unread
 * bytes (the client is still sending) makes the kernel send a reset, and a client that gets the reset
 * before it has read the answer out of its own receive buffer loses the answer (Linux drops it:
 * ECONNRESET, status and body gone). So past the cap the server sends its FIN after the answer,
 * keeps dropping what still arrives, and cuts the connection only once the client has closed its
 * side or DISCARD_LINGER_MS have passed (the "lingering close" of RFC 9112, section 9.6).
 */
export function discardUnreadBodyAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once("prefinish", () => {
    if (req.complete || req.destroyed) return;
    let discarded = 0;
    let closing = false;
    req.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_CAP_BYTES && !closing) {
        closing = true;
        closeAfterAnswer(req, res);
      }
    });
    req.resume();
  });
}

/** FIN once the answer is flushed, drop what still comes, destroy when the client closed or the linger ran out. */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  if (socket.destroyed) return;
  const linger = setTimeout(() => socket.destroy(), DISCARD_LINGER_MS);
  linger.unref();
  socket.once("close", () => clearTimeout(linger));
  const halfClose = () => {
    if (!socket.destroyed) socket.end();
  };
  // `end()` on the socket goes out after what is already written to it; the answer was handed to the
  // socket by `finish` (normally long before the cap is reached).
  if (res.writableFinished) halfClose();
  else res.once("finish", halfClose);
}
