/**
 * REST v1 (shared/DESIGN.md §5). For now: health. The full API maps onto the same tRPC procedures.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import type { AppServices } from "../app";

export async function handleRest(services: AppServices, req: IncomingMessage, res: ServerResponse, url: URL) {
  if (req.method === "GET" && url.pathname === "/api/v1/health") {
    sendJson(res, 200, await health(services));
    return;
  }
  sendJson(res, 404, { error: { code: "not_found", message: `No endpoint ${req.method} ${url.pathname}` } });
}

export async function health(services: AppServices) {
  const db = await services.db
    .execute(sql`select 1`)
    .then(() => "ok" as const)
    .catch(() => "error" as const);
  const waha = services.sandbox
    ? ("sandbox" as const)
    : await services.waha
        .listSessions()
        .then(() => "ok" as const)
        .catch(() => "unreachable" as const);
  const scheduler = services.scheduler.status();
  return {
    status: db === "ok" && scheduler.initialized && waha !== "unreachable" ? "ok" : "degraded",
    db,
    scheduler: { driver: scheduler.driver, initialized: scheduler.initialized, armedJobs: scheduler.armedJobs },
    waha,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}
