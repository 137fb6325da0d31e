/**
 * Whom a request comes from and whether it arrived over https. `X-Forwarded-*` headers are believed
 * only with TRUSTED_PROXY set (the app sits behind a reverse proxy that overwrites them); otherwise any
 * client could claim another address to dodge the log-in throttle, or claim https.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

export interface ProxyTrust {
  TRUSTED_PROXY: boolean;
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The client's IP address: the socket's peer, or the proxy's last-added `X-Forwarded-For` entry. */
export function clientAddress(req: IncomingMessage, trust: ProxyTrust): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (!trust.TRUSTED_PROXY) return peer;
  // The trusted proxy appends the address it saw; entries before it were written by the client.
  const forwarded = firstHeader(req, "x-forwarded-for")?.split(",").map((part) => part.trim()).filter(Boolean);
  return forwarded?.at(-1) ?? peer;
}

/** True when the browser's connection is https (directly, or to the trusted proxy). */
export function isHttps(req: IncomingMessage, trust: ProxyTrust): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  if (!trust.TRUSTED_PROXY) return false;
  const proto = firstHeader(req, "x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return proto === "https";
}
