import type { IncomingMessage, ServerResponse } from "node:http";
import type { SessionCookieJar } from "../api/trpc";
import { isHttps, type ProxyTrust } from "./proxy";

export const SESSION_COOKIE = "wc_session";

/** What a session token looks like (randomBytes(32) as base64url); anything else is no session. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * A cookie's value, or null when it is absent or cannot be decoded: a malformed cookie (`%E0%A4%A`)
 * must not fail the request, it only carries nothing.
 */
export function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key !== name) continue;
    try {
      return decodeURIComponent(rest.join("="));
    } catch {
      return null;
    }
  }
  return null;
}

/** The session token from the cookie, or null when there is none or it is not a token's shape. */
export function readSessionToken(req: IncomingMessage): string | null {
  const value = readCookie(req, SESSION_COOKIE);
  return value !== null && SESSION_TOKEN.test(value) ? value : null;
}

/**
 * HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), and Secure whenever
 * the browser's connection is https (directly, or to a TRUSTED_PROXY), so it never travels in clear.
 */
export function cookieJar(req: IncomingMessage, res: ServerResponse, trust: ProxyTrust): SessionCookieJar {
  const secure = isHttps(req, trust) ? "; Secure" : "";
  return {
    token: readSessionToken(req),
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
