/**
 * REST v1 (shared/DESIGN.md §5): match a route of the table (routes.ts), authenticate the API key,
 * build the procedure's input from path, query and body, and call the tRPC procedure through a
 * server-side caller. Validation, workspace scoping and domain errors are the procedure's; this
 * file only speaks HTTP.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import type { AppServices } from "../app";
import { createCaller } from "../api/root";
import { childLogger } from "../logger";
import { type Caller, callerFromApiKey } from "../services/auth";
import { BODY_LIMIT_BYTES } from "../http/limits";
import { isJsonContentType, isPlainObject, parseJson, readBodyText, refuseDeclaredOverLimit } from "./body";
import { RestError, toRestError } from "./errors";
import { readImageBody } from "./imageBody";
import { type JsonSchema, primaryType, procedureInputSchema } from "./inputSchemas";
import { sendRecipientsCsv } from "../http/recipientsCsv";
import { openApiDocument } from "./openapi";
import { matchRoute, type ProcedureRoute } from "./routes";
import { binaryFileKind, binaryFileMessage } from "../services/binaryFile";

const log = childLogger("rest");

export async function handleRest(services: AppServices, req: IncomingMessage, res: ServerResponse, url: URL) {
  const method = req.method ?? "GET";
  try {
    const match = matchRoute(method, url.pathname);
    if (match.kind === "none") {
      throw new RestError("not_found", `No endpoint ${method} ${url.pathname}: see /api/v1/openapi.json`);
    }
    if (match.kind === "wrong-method") {
      res.setHeader("allow", match.allowed.join(", "));
      throw new RestError("method_not_allowed", `${url.pathname} answers ${match.allowed.join(", ")}, not ${method}`);
    }
    const { route, params } = match;
    if (route.kind === "public") {
      sendJson(res, 200, route.name === "health" ? await health(services) : openApiDocument());
      return;
    }
    refuseDeclaredOverLimit(req, bodyLimitOf(route));
    const caller = await authenticate(services, req);
    if (route.csvFormat && url.searchParams.has("format")) {
      await answerRecipientsFormat(services, caller, params.id!, url, res);
      return;
    }
    const input = await buildInput(route, params, url, req);
    refuseBinaryCsv(input);
    refuseNulCharacters(input);
    const trpc = createCaller({ services, caller, cookies: null });
    const result = await procedureOf(trpc, route.procedure)(input);
    if (route.status === 204) {
      res.statusCode = 204;
      res.end();
      return;
    }
    sendJson(res, route.status, route.present ? route.present(result) : result);
  } catch (error) {
    const restError = toRestError(error);
    if (restError.code === "internal") log.error({ err: error, method, path: url.pathname }, "REST request failed");
    if (!res.headersSent) sendJson(res, restError.status, restError.toBody());
    else res.end();
  }
}

async function authenticate(services: AppServices, req: IncomingMessage): Promise<Caller> {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new RestError("unauthorized", "Send your API key as Authorization: Bearer <api key>");
  const caller = await callerFromApiKey(services.db, match[1]!);
  if (!caller) throw new RestError("unauthorized", "This API key is unknown or was revoked");
  return caller;
}

/**
 * `?format=csv` streams every recipient as CSV (issue 14; http/recipientsCsv.ts); `?format=json` is the
 * page the route answers anyway. CSV takes no other parameter: it is the whole campaign.
 */
async function answerRecipientsFormat(services: AppServices, caller: Caller, campaignId: string, url: URL, res: ServerResponse) {
  const format = url.searchParams.get("format");
  if (format !== "csv") throw new RestError("bad_request", `format must be csv (or left out for JSON pages), not "${String(format).slice(0, 20)}"`);
  const others = [...url.searchParams.keys()].filter((key) => key !== "format");
  if (others.length > 0) throw new RestError("bad_request", `With format=csv the export holds every recipient: leave out ${others.join(", ")}`);
  await sendRecipientsCsv(services, caller, campaignId, res);
}

/** CSV imports may be large; every other body is JSON (or nothing) under the JSON limit. */
function bodyLimitOf(route: ProcedureRoute): number {
  return route.input === "csv" ? BODY_LIMIT_BYTES.csv : route.input === "image" ? BODY_LIMIT_BYTES.media : BODY_LIMIT_BYTES.json;
}

/** The server-side caller's function for a dotted procedure path ("campaign.get"). */
function procedureOf(trpc: ReturnType<typeof createCaller>, path: string): (input: unknown) => Promise<unknown> {
  return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], trpc) as (
    input: unknown,
  ) => Promise<unknown>;
}

/** Path parameters always win: a body cannot point a call at another id than the URL's. */
async function buildInput(route: ProcedureRoute, params: Record<string, string>, url: URL, req: IncomingMessage) {
  const schema = procedureInputSchema(route.procedure);
  const queryNames = !schema
    ? []
    : route.input === "query"
      ? Object.keys(schema.properties ?? {}).filter((name) => !(name in params))
      : (route.queryFields ?? []);
  refuseUnknownQueryParameters(url.searchParams, queryNames);
  if (route.input === "none") await refuseBody(route, req);
  if (!schema) return undefined;
  const fromQuery = queryValues(url.searchParams, queryNames, schema.properties ?? {});
  switch (route.input) {
    case "none":
    case "query":
      return { ...fromQuery, ...params };
    case "json": {
      const parsed = parseJson(await readBodyText(req, bodyLimitOf(route)));
      const body = parsed === undefined ? {} : parsed;
      if (Array.isArray(body) && route.arrayBodyField) return { ...fromQuery, [route.arrayBodyField]: body, ...params };
      if (!isPlainObject(body)) {
        throw new RestError(
          "bad_request",
          route.arrayBodyField
            ? `The request body must be a JSON array of ${route.arrayBodyField} or an object`
            : "The request body must be a JSON object",
        );
      }
      return { ...fromQuery, ...body, ...params };
    }
    case "image":
      return { ...(await readImageBody(req)), ...fromQuery, ...params };
    case "csv": {
      if (/^multipart\//i.test(req.headers["content-type"] ?? "")) {
        throw new RestError(
          "bad_request",
          "Send the CSV file as the request body (curl --data-binary @file.csv -H 'Content-Type: text/csv'), not as a form upload",
          "csv",
        );
      }
      const text = await readBodyText(req, bodyLimitOf(route));
      if (isJsonContentType(req)) {
        const body = parseJson(text);
        if (!isPlainObject(body)) throw new RestError("bad_request", "A JSON body must be an object {csv, defaultCountry?}");
        return { ...fromQuery, ...body, ...params };
      }
      return { ...fromQuery, csv: text, ...params };
    }
  }
}

/**
 * A route that takes no body (pause, cancel, delete, ...) refuses one rather than ignore what it
 * says; nothing, or `{}` as some clients send with every POST, is fine.
 */
async function refuseBody(route: ProcedureRoute, req: IncomingMessage): Promise<void> {
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) return;
  const text = (await readBodyText(req, bodyLimitOf(route))).trim();
  if (!text || /^\{\s*\}$/.test(text)) return;
  throw new RestError("bad_request", `${route.method} ${route.path} takes no request body: the path says everything it needs`);
}

/** As unknown body fields (api/strictInput.ts): a misspelt `?staus=` is told, not ignored. */
function refuseUnknownQueryParameters(search: URLSearchParams, accepted: string[]): void {
  for (const name of search.keys()) {
    if (accepted.includes(name)) continue;
    const takes = accepted.length > 0 ? `this endpoint takes ${accepted.join(", ")}` : "this endpoint takes no query parameters";
    throw new RestError("bad_request", `Unknown query parameter ${JSON.stringify(name)}: ${takes}`, name);
  }
}

/** An image or a workbook sent as the CSV: said as such, before the NUL check names a mere symptom. */
function refuseBinaryCsv(input: unknown): void {
  const csv = isPlainObject(input) ? input.csv : undefined;
  const kind = typeof csv === "string" ? binaryFileKind(csv) : null;
  if (kind) throw new RestError("bad_request", binaryFileMessage(kind), "csv");
}

/**
 * PostgreSQL text cannot hold U+0000: a string with one would fail in the database as a 500.
 * Refuse it here, naming the field (keys count too: JSON contacts' keys become attributes).
 * Walks with a stack of its own, not recursion: no input is deep enough to overflow it.
 */
function refuseNulCharacters(input: unknown): void {
  const refuse = (at: string[]) => {
    const field = at.join(".") || undefined;
    throw new RestError("bad_request", `${field ? `${field}: ` : ""}Text cannot contain NUL (\\u0000) characters`, field);
  };
  // Children are pushed last-first, so the first bad field in document order is the one named.
  const pending: Array<{ value: unknown; path: string[] }> = [{ value: input, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === "string") {
      if (value.includes("\u0000")) refuse(path);
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push({ value: value[index], path: [...path, String(index)] });
    } else if (isPlainObject(value)) {
      const entries = Object.entries(value);
      if (entries.some(([key]) => key.includes("\u0000"))) refuse(path);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, item] = entries[index]!;
        pending.push({ value: item, path: [...path, key] });
      }
    }
  }
}

/**
 * Query strings are text; the input schema says what each field takes: arrays from repeated or
 * comma-separated values, numbers and booleans parsed (zod still has the last word).
 */
function queryValues(
  search: URLSearchParams,
  names: string[],
  properties: Record<string, JsonSchema>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const raw = search.getAll(name);
    if (raw.length === 0) continue;
    const type = primaryType(properties[name]);
    if (type === "array") {
      values[name] = raw.flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
      continue;
    }
    const last = raw[raw.length - 1]!;
    if ((type === "integer" || type === "number") && /^-?\d+(\.\d+)?$/.test(last.trim())) values[name] = Number(last);
    else if (type === "boolean" && (last === "true" || last === "false")) values[name] = last === "true";
    else values[name] = last;
  }
  return values;
}

/**
 * Unauthenticated, so it costs no WAHA call: WAHA's state is what the app already saw (the last call
 * that ended, e.g. the periodic status read of the numbers), the database's a `select 1`.
 */
export async function health(services: AppServices) {
  const db = await services.db
    .execute(sql`select 1`)
    .then(() => "ok" as const)
    .catch(() => "error" as const);
  const seen = services.waha.reachability();
  const waha = services.sandbox ? ("sandbox" as const) : seen.state === "unreachable" ? ("unreachable" as const) : seen.state === "answering" ? ("ok" as const) : ("unknown" as const);
  const scheduler = services.scheduler.status();
  return {
    status: db === "ok" && scheduler.initialized && waha !== "unreachable" ? "ok" : "degraded",
    db,
    scheduler: { driver: scheduler.driver, initialized: scheduler.initialized, armedJobs: scheduler.armedJobs },
    waha,
    wahaLastAnsweredAt: seen.lastAnsweredAt?.toISOString() ?? null,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}
