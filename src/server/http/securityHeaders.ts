/**
 * Security headers on every answer, pages and APIs alike. Nothing may frame the app
 * (`frame-ancestors 'none'`, clickjacking), content types are not sniffed, no URL leaks to other
 * sites in `Referer`, and over https the browser is told to stay on https (HSTS).
 *
 * Pages: Next.js writes its hydration data as inline scripts and styles, so pages allow
 * 'unsafe-inline' for both (no nonces); everything else comes from this origin only. APIs answer
 * data, never a document: `default-src 'none'`, and `Cache-Control: no-store` so no shared or
 * browser cache keeps a workspace's data.
 */
import type { ServerResponse } from "node:http";

export type ResponseKind = "api" | "page";

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function pageCsp(devPages: boolean): string {
  return [
    "default-src 'self'",
    // The dev server (npm run dev) evaluates modules and reloads over a WebSocket.
    `script-src 'self' 'unsafe-inline'${devPages ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    // Thumbnails and previews are data: URLs (media.get).
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${devPages ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** One year; a site that turns https off again must first serve `max-age=0`. */
const HSTS = "max-age=31536000";

export function setSecurityHeaders(res: ServerResponse, options: { kind: ResponseKind; https: boolean; devPages?: boolean }) {
  res.setHeader("Content-Security-Policy", options.kind === "api" ? API_CSP : pageCsp(options.devPages ?? false));
  // For browsers that predate frame-ancestors.
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  if (options.https) res.setHeader("Strict-Transport-Security", HSTS);
  if (options.kind === "api") res.setHeader("Cache-Control", "no-store");
}
