/**
 * Issue 12, "never a 500": a bounded fuzz of REST v1 driven by its own OpenAPI document. Every
 * operation gets requests generated from its parameters and body schema (valid-ish: real ids of the
 * workspace, future dates, known countries) and hostile ones (wrong types, unknown fields, junk ids,
 * bad cursors, malformed JSON, wrong content types, no or a wrong API key, a method the path does not
 * answer). The run is deterministic (a fixed fast-check seed) and sequential. It asserts:
 *   - no answer is a 500;
 *   - every error is `{error: {code, message, field?, retryable?}}` with the code of its status;
 *   - every status is one the document lists for that operation (405 for a method it does not answer);
 *   - every success validates against the document's response schema (required fields present).
 * The counts by status are printed for the closing note.
 */
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AnyTRPCProcedure } from "@trpc/server";
import { appRouter } from "~/server/api/root";
import { procedureInputSchema } from "~/server/rest/inputSchemas";
import { openApiDocument } from "~/server/rest/openapi";
import type { ProcedurePath } from "~/server/rest/routes";
import { openSession } from "~/server/services/auth";
import { REST_ERROR_STATUS } from "~/server/rest/errors";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { type Json, restClient } from "../rest/helpers";

const SEED = 20261130;
const REQUESTS = 2400;
const TRPC_CALLS = 800;
const METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"] as const;

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  $ref?: string;
}

interface Operation {
  method: string;
  path: string;
  operationId: string;
  parameters: Array<{ name: string; in: "path" | "query"; required?: boolean; schema: JsonSchema }>;
  body: { contentTypes: string[]; schema: JsonSchema | null } | null;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: JsonSchema }> }>;
  isPublic: boolean;
}

interface FuzzRequest {
  operation: Operation;
  method: string;
  path: string;
  body: { contentType: string; payload: string | Uint8Array<ArrayBuffer> } | null;
  auth: "valid" | "none" | "wrong";
}

const doc = openApiDocument() as unknown as {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, JsonSchema> };
};

function resolve(schema: JsonSchema | undefined): JsonSchema {
  if (!schema?.$ref) return schema ?? {};
  const name = schema.$ref.replace("#/components/schemas/", "");
  return resolve(doc.components.schemas[name]);
}

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => {
    const content = operation.requestBody?.content as Record<string, { schema: JsonSchema }> | undefined;
    return {
      method: method.toUpperCase(),
      path,
      operationId: operation.operationId as string,
      parameters: (operation.parameters ?? []) as Operation["parameters"],
      body: content ? { contentTypes: Object.keys(content), schema: content["application/json"] ? resolve(content["application/json"].schema) : null } : null,
      responses: operation.responses as Operation["responses"],
      isPublic: Array.isArray(operation.security) && operation.security.length === 0,
    };
  }),
);

/**
 * Real ids of the fuzzing workspace: seeded before the run and grown by every 201, so valid-ish
 * requests reach the services. Requests are generated up front, so they hold a token (`@id7@`)
 * that becomes one of the ids when the request is sent, the newest ones more often.
 */
const pool: string[] = [];
const POOL_TOKEN = /(?:@|%40)id(\d+)(?:@|%40)/g;
const fromPool = (text: string) =>
  text.replace(POOL_TOKEN, (_token, n: string) => pool[Math.max(0, pool.length - 1 - (Number(n) % Math.min(pool.length, 12)))] ?? "");

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", " ", "null", "undefined", "__proto__", "constructor", "../../etc/passwd", "%00", "\u0000", "0", "-1", "1e309", "NaN", "😀".repeat(30), "x".repeat(5000)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<unknown>(null, true, false, 0, -1, 2 ** 53, 1.5, [], {}, [null], JSON.parse('{"__proto__":1}')),
);
const uuidValue = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 999 }).map((n) => `@id${n}@`) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: hostileString },
);
const dateValue = fc.oneof(
  fc.integer({ min: 2, max: 60 * 24 * 400 }).map((minutes) => new Date(Date.now() + minutes * 60_000).toISOString()),
  fc.integer({ min: 1, max: 60 * 24 * 400 }).map((minutes) => new Date(Date.now() - minutes * 60_000).toISOString()),
  fc.constantFrom("2030-02-30T10:00:00Z", "2030-01-01T10:00:00", "2030-01-01", "9999-12-31T23:59:59+14:00", "tomorrow"),
);
/** A cursor as the API writes one (base64url JSON), with parts that may not be what it writes. */
const cursorValue = fc.oneof(
  fc.record({ createdAt: fc.oneof(dateValue, hostileString, fc.integer()), id: fc.oneof(uuidValue, fc.integer()) }).map((value) => Buffer.from(JSON.stringify(value)).toString("base64url")),
  fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value) ?? "").toString("base64url")),
  fc.nat().map(String),
  hostileString,
);

/** `arbitrary` one time in `oneIn`, else null. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** A value for `schema`: mostly of its type and range, sometimes anything at all. */
function valueFor(schema: JsonSchema | undefined, name = "", depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolve(schema);
  const typed = typedValue(resolved, name, depth);
  return fc.oneof({ weight: 15, arbitrary: typed }, { weight: 1, arbitrary: hostileValue });
}

function typedValue(schema: JsonSchema, name: string, depth: number): fc.Arbitrary<unknown> {
  if (name === "cursor") return cursorValue;
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((variant) => typedValue(resolve(variant), name, depth)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number":
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, -1e9), max: Math.min(schema.maximum ?? 100_000, 1e9) });
    case "string":
      if (schema.format === "uuid") return uuidValue;
      if (schema.format === "date-time") return dateValue;
      if (schema.pattern === "^[A-Za-z]{2}$") return fc.constantFrom("US", "DE", "id", "XX", "U");
      if (name === "phone") return fc.constantFrom("+4915123456789", "2015550123", "+1 (201) 555-0199", "12", "phone");
      return fc.string({ maxLength: Math.min(schema.maxLength ?? 60, 120) });
    case "array":
      return depth > 3 ? fc.constant([]) : fc.array(valueFor(schema.items, name, depth + 1), { maxLength: 3 });
    case "object":
      return depth > 3 ? fc.constant({}) : objectFor(schema, depth + 1);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** The object's fields (required ones usually there), sometimes with a field it does not take. */
function objectFor(schema: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(properties).map(([key, property]) =>
    fc.tuple(fc.constant(key), valueFor(property, key, depth), fc.integer({ min: 0, max: 19 })),
  );
  const extra = sometimes(fc.tuple(fc.constantFrom("status", "extra", "__proto__", "createdAt", "id", "workspaceId"), hostileValue), 6);
  return fc.tuple(fc.tuple(...entries), extra).map(([fields, unknown]) => {
    const object: Record<string, unknown> = {};
    for (const [key, value, roll] of fields) {
      // Required fields are left out 1 time in 20, optional ones half the time.
      if (required.has(key) ? roll > 0 : roll >= 10) object[key] = value;
    }
    if (unknown) Object.defineProperty(object, unknown[0], { value: unknown[1], enumerable: true, writable: true, configurable: true });
    return object;
  });
}

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");

function bodyFor(operation: Operation): fc.Arbitrary<FuzzRequest["body"]> {
  const hostile = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((value) => ({ contentType: "application/json", payload: JSON.stringify(value) ?? "" })),
    fc.string({ maxLength: 200 }).map((text) => ({ contentType: "application/json", payload: text })),
    fc.constantFrom("{", '{"a":', "[1,2", '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "\u0000").map((payload) => ({ contentType: "application/json", payload })),
    fc
      .tuple(fc.constantFrom("text/plain", "text/csv", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "image/png"), fc.string({ maxLength: 200 }))
      .map(([contentType, payload]) => ({ contentType, payload })),
  );
  if (!operation.body) return fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hostile });
  const typed: Array<fc.Arbitrary<FuzzRequest["body"]>> = [];
  if (operation.body.schema) {
    typed.push(valueFor(operation.body.schema).map((value) => ({ contentType: "application/json", payload: JSON.stringify(value) ?? "" })));
  }
  if (operation.body.contentTypes.includes("text/csv")) {
    const cell = fc.oneof(fc.constantFrom("+4915123456789", "2015550123", "Ana", "", '"quoted, cell"', "constructor"), fc.string({ maxLength: 12 }));
    const line = fc.tuple(fc.array(cell, { minLength: 1, maxLength: 4 }), fc.constantFrom(",", ";", "\t")).map(([cells, separator]) => cells.join(separator));
    typed.push(
      fc.tuple(fc.constantFrom("phone_number,first_name,city", "phone;name", "first_name", "", "phone,__proto__,toString"), fc.array(line, { maxLength: 5 })).map(([header, lines]) => ({
        contentType: "text/csv",
        payload: [header, ...lines].join("\n"),
      })),
    );
  }
  const images = operation.body.contentTypes.filter((type) => type.startsWith("image/"));
  if (images.length > 0) {
    typed.push(
      fc.tuple(fc.constantFrom(...images, "image/gif"), fc.oneof(fc.constant(PNG), fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)))).map(([contentType, bytes]) => ({
        contentType,
        payload: new Uint8Array(bytes),
      })),
    );
  }
  return fc.oneof({ weight: 4, arbitrary: fc.oneof(...typed) }, { weight: 1, arbitrary: hostile });
}

function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = operation.parameters.filter((p) => p.in === "path");
  const queryParams = operation.parameters.filter((p) => p.in === "query");
  const pathValues = fc.tuple(...pathParams.map((p) => valueFor(p.schema, p.name)));
  const queryValues = fc.tuple(...queryParams.map((p) => fc.option(valueFor(p.schema, p.name), { freq: 2 })));
  const unknownQuery = sometimes(fc.tuple(fc.constantFrom("foo", "__proto__", "status", "cursor"), hostileString), 8);
  const method = fc.oneof({ weight: 12, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) });
  const auth = fc.oneof({ weight: 20, arbitrary: fc.constant("valid" as const) }, { weight: 1, arbitrary: fc.constantFrom("none" as const, "wrong" as const) });
  return fc.record({ pathValues, queryValues, unknownQuery, method, auth, body: bodyFor(operation) }).map((generated) => {
    let path = operation.path;
    pathParams.forEach((param, index) => {
      // An empty segment would be another path (`/campaigns/` is the collection): never this operation's.
      const value = String(generated.pathValues[index] ?? "") || "~";
      path = path.replace(`{${param.name}}`, encodeURIComponent(value));
    });
    const search = new URLSearchParams();
    queryParams.forEach((param, index) => {
      const value = generated.queryValues[index];
      if (value === null || value === undefined) return;
      for (const item of Array.isArray(value) ? value : [value]) search.append(param.name, typeof item === "string" ? item : JSON.stringify(item));
    });
    if (generated.unknownQuery) search.append(...generated.unknownQuery);
    const query = search.toString();
    return { operation, method: generated.method, path: query ? `${path}?${query}` : path, body: generated.body, auth: generated.auth };
  });
}

describe.each(backends)("[%s] REST v1 fuzz (fast-check over the OpenAPI document)", (kind) => {
  let app: TestApp;
  let apiKey: string;
  let sessionToken: string;

  // An app of its own for each run, so that its counts do not depend on which run went first.
  beforeEach(async () => {
    app = await startTestApp(kind);
    pool.length = 0;
    const user = await createTestUser(app);
    apiKey = user.apiKey;
    sessionToken = (await openSession(app.services.db, user)).token;
    // Something of each kind, so that generated ids often name real rows.
    const api = restClient(app, apiKey);
    const session = await api("POST", "/api/v1/sessions", { name: "Fuzz number" });
    app.fakeWaha.setSessionStatus(session.body.wahaSessionName, "WORKING", { id: "4915100000001@c.us" });
    const list = await api("POST", "/api/v1/lists", { name: "Fuzz list" });
    await api("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123456789", first_name: "Ana", city: "Bonn" }]);
    const template = await api("POST", "/api/v1/templates", { name: "Fuzz template", body: "Hi {{first_name|there}}" });
    const image = await fetch(`${app.url}/api/v1/media?filename=fuzz.png`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "image/png" },
      body: new Uint8Array(PNG),
    }).then((response) => response.json() as Promise<Json>);
    const campaign = await api("POST", "/api/v1/campaigns", {
      name: "Fuzz campaign",
      listId: list.body.id,
      templateId: template.body.id,
      sessionId: session.body.id,
      scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    pool.push(session.body.id, list.body.id, template.body.id, image.id, campaign.body.id);
    expect(pool.every((id) => typeof id === "string")).toBe(true);
  });
  afterEach(async () => {
    await app?.close();
  });

  it(`${REQUESTS} generated requests: no 500, every error {error:{code,message}}, every status documented, every success as documented`, async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "https://waha-campaigns.local/openapi", components: doc.components });
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    const validatorFor = (ref: string) => {
      if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: `https://waha-campaigns.local/openapi${ref}` }));
      return validators.get(ref)!;
    };

    const requests = fc.sample(fc.constantFrom(...operations).chain(requestFor), { seed: SEED, numRuns: REQUESTS });
    const byStatus = new Map<number, number>();
    const problems: string[] = [];
    const startedAt = Date.now();
    for (const request of requests) {
      const headers: Record<string, string> = {};
      if (request.auth === "valid") headers.authorization = `Bearer ${apiKey}`;
      if (request.auth === "wrong") headers.authorization = "Bearer wc_not_a_key";
      // fetch sends no body with a GET (a server would ignore it anyway).
      const body = request.method === "GET" ? null : request.body;
      if (body) headers["content-type"] = body.contentType;
      const payload = typeof body?.payload === "string" ? fromPool(body.payload) : body?.payload;
      const path = fromPool(request.path);
      const response = await fetch(`${app.url}${path}`, { method: request.method, headers, body: payload ?? undefined });
      const text = await response.text();
      byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
      const where = `${request.method} ${path.slice(0, 160)} (${request.operation.operationId}) -> ${response.status}`;
      let answer: Json = null;
      try {
        answer = text ? JSON.parse(text) : null;
      } catch {
        problems.push(`${where}: the answer is not JSON: ${text.slice(0, 200)}`);
        continue;
      }
      if (response.status >= 500 && response.status !== 503) problems.push(`${where}: ${text.slice(0, 300)}`);
      if (response.status >= 400) {
        const error = answer?.error;
        const keys = error && typeof error === "object" ? Object.keys(error).filter((key) => !["code", "message", "field", "retryable"].includes(key)) : ["(no error object)"];
        if (!error || typeof error.code !== "string" || typeof error.message !== "string" || !error.message || keys.length > 0 || Object.keys(answer).length !== 1) {
          problems.push(`${where}: not {error:{code,message}}: ${text.slice(0, 200)}`);
        } else if ((REST_ERROR_STATUS as Record<string, number>)[error.code] !== response.status) {
          problems.push(`${where}: code ${error.code} does not go with status ${response.status}`);
        }
      }
      // Another method on the same path may be another operation's; only its 405 is checked here.
      const documented = Object.keys(request.operation.responses).map(Number);
      if (request.method === request.operation.method && !documented.includes(response.status)) {
        problems.push(`${where}: status not documented for ${request.operation.operationId} (${documented.join(", ")})`);
      }
      if (request.method !== request.operation.method && response.status === 405 && !response.headers.get("allow")) {
        problems.push(`${where}: 405 without an Allow header`);
      }
      if (response.status === 201 && typeof answer?.id === "string") pool.push(answer.id);
      if (request.method === request.operation.method && response.status < 300 && response.status !== 204) {
        const ref = request.operation.responses[String(response.status)]?.content?.["application/json"]?.schema?.$ref;
        if (ref) {
          const validate = validatorFor(ref);
          if (!validate(answer)) problems.push(`${where}: the answer does not match ${ref}: ${ajv.errorsText(validate.errors).slice(0, 300)}`);
        }
      }
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const counts = Object.fromEntries([...byStatus.entries()].sort(([a], [b]) => a - b));
    console.log(`REST fuzz [${kind}]: ${requests.length} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}); by status: ${JSON.stringify(counts)}`);
    expect(requests.length).toBeGreaterThanOrEqual(2000);
    expect(problems.slice(0, 25)).toEqual([]);
    expect(byStatus.get(500) ?? 0).toBe(0);
    // The run reached the services, not only the validation: successes and domain refusals both.
    expect((byStatus.get(200) ?? 0) + (byStatus.get(201) ?? 0) + (byStatus.get(204) ?? 0)).toBeGreaterThan(100);
    expect(byStatus.get(404) ?? 0).toBeGreaterThan(0);
  }, 240_000);
  it(`${TRPC_CALLS} generated tRPC calls (the dashboard's API): no 500, every error names its code and HTTP status`, async () => {
    // Every procedure but the account ones (logOut would end the session the run uses).
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>)
      .filter(([path]) => !path.startsWith("auth."))
      .map(([path, procedure]) => ({ path, type: procedure._def.type, schema: procedureInputSchema(path as ProcedurePath) }));
    const call = fc.constantFrom(...procedures).chain((procedure) =>
      fc.record({
        procedure: fc.constant(procedure),
        input: procedure.schema ? valueFor(procedure.schema) : fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileValue }),
        raw: sometimes(fc.oneof(hostileString, fc.constantFrom('{"json":{},"meta":{"values":{"__proto__":["undefined"]}}}', '{"json":1,"meta":{"values":["bogus"]}}')), 10),
      }),
    );
    const calls = fc.sample(call, { seed: SEED, numRuns: TRPC_CALLS });
    const byStatus = new Map<number, number>();
    const problems: string[] = [];
    for (const { procedure, input, raw } of calls) {
      const encoded = fromPool(raw ?? JSON.stringify({ json: input }) ?? "{}");
      const headers = { cookie: `wc_session=${sessionToken}`, origin: app.url, "content-type": "application/json" };
      const response =
        procedure.type === "query"
          ? await fetch(`${app.url}/api/trpc/${procedure.path}?input=${encodeURIComponent(encoded)}`, { headers })
          : await fetch(`${app.url}/api/trpc/${procedure.path}`, { method: "POST", headers, body: encoded });
      const text = await response.text();
      byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
      const where = `${procedure.type} ${procedure.path} ${encoded.slice(0, 160)} -> ${response.status}`;
      if (response.status >= 500 && response.status !== 503) problems.push(`${where}: ${text.slice(0, 300)}`);
      if (response.status >= 400) {
        let answer: Json = null;
        try {
          answer = JSON.parse(text);
        } catch {
          problems.push(`${where}: the answer is not JSON`);
          continue;
        }
        // tRPC's own shape, or the transport's refusal before tRPC ({error: {code, message}}).
        const error = answer?.error?.json ?? answer?.error;
        const message = error?.message;
        const status = error?.data?.httpStatus ?? (typeof error?.code === "string" ? response.status : undefined);
        if (typeof message !== "string" || !message || status !== response.status) problems.push(`${where}: unexpected error body ${text.slice(0, 200)}`);
      }
    }
    console.log(`tRPC fuzz [${kind}]: ${calls.length} calls over ${procedures.length} procedures (seed ${SEED}); by status: ${JSON.stringify(Object.fromEntries([...byStatus.entries()].sort(([a], [b]) => a - b)))}`);
    expect(problems.slice(0, 25)).toEqual([]);
    expect((byStatus.get(200) ?? 0) + (byStatus.get(201) ?? 0)).toBeGreaterThan(50);
  }, 240_000);
});
