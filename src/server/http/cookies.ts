import type { IncomingMessage, ServerResponse } from "node:http";
import type { SessionCookieJar } from "../api/trpc";

export const SESSION_COOKIE = "wc_session";

export function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it). */
export function cookieJar(req: IncomingMessage, res: ServerResponse): SessionCookieJar {
  const secure = req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
  return {
    token: readCookie(req, SESSION_COOKIE),
    set(token, expiresAt) {
      res.appendHeader(
        "Set-Cookie",
        `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Expires=${expiresAt.toUTCString()}${secure}`,
      );
    },
    clear() {
      res.appendHeader("Set-Cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`);
    },
  };
}
