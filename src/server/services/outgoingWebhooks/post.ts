/**
 * One HTTP POST of a delivery, with a deadline, no redirects followed, and the SSRF guard in the
 * connection's own DNS lookup (addressPolicy.ts). Never throws: the answer or why there is none.
 */
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { guardedLookup, privateAddressReason } from "./addressPolicy";

export type PostOutcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

export function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return resolve({ ok: false, status: null, error: "invalid URL" });
    }
    // An IP literal is connected to without a lookup: check it here.
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!options.allowPrivate && isIP(host)) {
      const reason = privateAddressReason(host);
      if (reason) return resolve({ ok: false, status: null, error: `refused: ${reason}` });
    }
    const request = (url.protocol === "https:" ? https : http).request(url, {
      method: "POST",
      agent: false,
      lookup: guardedLookup(options.allowPrivate),
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "user-agent": "waha-campaigns-webhooks/1", ...headers },
    });
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(outcome);
    };
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (text.length < 500) text += chunk;
      });
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) finish({ ok: true, status });
        else finish({ ok: false, status, error: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}` });
      });
      response.on("error", (error) => finish({ ok: false, status: response.statusCode ?? null, error: error.message }));
    });
    request.on("error", (error: NodeJS.ErrnoException) => finish({ ok: false, status: null, error: error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message }));
    request.end(body);
  });
}
