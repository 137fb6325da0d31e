import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "~/server/rest/openapi";
import { responseSchemas } from "~/server/rest/responseSchemas";
import { restRoutes } from "~/server/rest/routes";

/** shared/DESIGN.md §5, plus the routes this API adds. */
const CONTRACT = [
  "GET /api/v1/health",
  "GET /api/v1/openapi.json",
  "POST /api/v1/sessions",
  "GET /api/v1/sessions",
  "GET /api/v1/sessions/{id}",
  "POST /api/v1/lists",
  "GET /api/v1/lists",
  "POST /api/v1/lists/{id}/contacts",
  "POST /api/v1/lists/{id}/import",
  "POST /api/v1/templates",
  "GET /api/v1/templates",
  "POST /api/v1/campaigns",
  "GET /api/v1/campaigns/{id}",
  "PATCH /api/v1/campaigns/{id}",
  "DELETE /api/v1/campaigns/{id}",
  "POST /api/v1/campaigns/{id}/schedule",
  "POST /api/v1/campaigns/{id}/pause",
  "POST /api/v1/campaigns/{id}/resume",
  "POST /api/v1/campaigns/{id}/cancel",
  "GET /api/v1/campaigns/{id}/recipients",
];
const ADDED = [
  "POST /api/v1/sessions/{id}/simulate-scan",
  "GET /api/v1/lists/{id}",
  "GET /api/v1/lists/{id}/contacts",
  "GET /api/v1/templates/{id}",
  "PATCH /api/v1/templates/{id}",
  "GET /api/v1/campaigns",
  "GET /api/v1/campaigns/{id}/events",
  // Issue 12: deletes and the media library.
  "DELETE /api/v1/sessions/{id}",
  "DELETE /api/v1/lists/{id}",
  "DELETE /api/v1/templates/{id}",
  "POST /api/v1/media",
  "GET /api/v1/media",
  "DELETE /api/v1/media/{id}",
  // Issue 13: a number's sending policy.
  "PATCH /api/v1/sessions/{id}",
  // Issue 14: after a campaign.
  "POST /api/v1/campaigns/{id}/retry-failed",
  "POST /api/v1/campaigns/{id}/duplicate",
  // Issue 14: opt-out and opt-in, the suppression list, opt-out settings.
  "POST /api/v1/contacts/{id}/opt-out",
  "POST /api/v1/contacts/{id}/opt-in",
  "POST /api/v1/suppression/import",
  "GET /api/v1/settings/opt-out",
  "PATCH /api/v1/settings/opt-out",
  // Issue 15: a contact's tags.
  "PATCH /api/v1/contacts/{id}/tags",
  // Issue 14: outgoing webhooks.
  "POST /api/v1/webhooks",
  "GET /api/v1/webhooks",
  "DELETE /api/v1/webhooks/{id}",
  "GET /api/v1/webhooks/{id}/deliveries",
  // Issue 15: WAHA servers as data.
  "POST /api/v1/waha-servers",
  "GET /api/v1/waha-servers",
  "GET /api/v1/waha-servers/{id}",
  "PATCH /api/v1/waha-servers/{id}",
  "DELETE /api/v1/waha-servers/{id}",
  // Issue 15: a recurring campaign's runs and next occurrences.
  "GET /api/v1/campaigns/{id}/runs",
  // Issue 15: each number of a campaign with its sent, in-flight and waiting counts.
  "GET /api/v1/campaigns/{id}/numbers",
];

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** A structural check of OpenAPI 3.1: the parts a generator or Swagger UI cannot do without. */
const openApiStructure = {
  type: "object",
  required: ["openapi", "info", "paths", "components"],
  properties: {
    openapi: { type: "string", pattern: "^3\\.1\\.\\d+$" },
    info: { type: "object", required: ["title", "version"], properties: { title: { type: "string" }, version: { type: "string" } } },
    servers: { type: "array", items: { type: "object", required: ["url"] } },
    security: { type: "array", items: { type: "object" } },
    paths: {
      type: "object",
      propertyNames: { pattern: "^/" },
      additionalProperties: {
        type: "object",
        propertyNames: { enum: [...METHODS, "parameters", "summary", "description", "servers"] },
        additionalProperties: { $ref: "#/$defs/operation" },
      },
    },
    components: {
      type: "object",
      properties: {
        schemas: { type: "object", additionalProperties: { type: "object" } },
        responses: { type: "object", additionalProperties: { $ref: "#/$defs/response" } },
        securitySchemes: {
          type: "object",
          additionalProperties: { type: "object", required: ["type"], properties: { type: { enum: ["apiKey", "http", "oauth2", "openIdConnect", "mutualTLS"] } } },
        },
      },
    },
  },
  $defs: {
    operation: {
      type: "object",
      required: ["responses", "operationId"],
      properties: {
        operationId: { type: "string" },
        tags: { type: "array", items: { type: "string" } },
        parameters: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "in", "schema"],
            properties: { in: { enum: ["path", "query", "header", "cookie"] }, required: { type: "boolean" } },
            if: { properties: { in: { const: "path" } } },
            then: { required: ["required"], properties: { required: { const: true } } },
          },
        },
        requestBody: {
          type: "object",
          required: ["content"],
          properties: { content: { type: "object", additionalProperties: { type: "object", required: ["schema"] } } },
        },
        responses: {
          type: "object",
          minProperties: 1,
          propertyNames: { pattern: "^([1-5]\\d\\d|default)$" },
          additionalProperties: { $ref: "#/$defs/response" },
        },
      },
    },
    response: {
      type: "object",
      oneOf: [{ required: ["$ref"] }, { required: ["description"] }],
    },
  },
};

type Doc = {
  paths: Record<string, Record<string, { operationId: string; parameters?: Array<{ name: string; in: string }>; requestBody?: unknown; security?: unknown[] }>>;
  components: { schemas: Record<string, unknown> };
};

function newAjv() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

describe("the OpenAPI document", () => {
  const doc = openApiDocument() as unknown as Doc;
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );

  it("is OpenAPI 3.1 in structure and survives a JSON round trip", () => {
    const parsed = JSON.parse(JSON.stringify(doc)) as unknown;
    const validate = newAjv().compile(openApiStructure);
    expect(validate(parsed), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("lists every endpoint of the contract and of the route table, and nothing else", () => {
    expect(operations.sort()).toEqual([...CONTRACT, ...ADDED].sort());
    expect(operations).toHaveLength(restRoutes.length);
  });

  it("names path parameters that appear in the path, and protects every endpoint but health and the document", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const operation of Object.values(item)) {
        const inPath = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(inPath.sort()).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
        const isPublic = path === "/api/v1/health" || path === "/api/v1/openapi.json";
        expect(operation.security, path).toEqual(isPublic ? [] : undefined);
      }
    }
    expect(doc).toMatchObject({ components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } } });
  });

  it("resolves every $ref", () => {
    const refs = new Set<string>();
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key === "$ref" && typeof value === "string") refs.add(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(refs.size).toBeGreaterThan(10);
    for (const ref of refs) {
      const target = ref
        .replace(/^#\//, "")
        .split("/")
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
      expect(target, ref).toBeTruthy();
    }
  });

  it("describes request bodies with the procedures' own input schemas (valid JSON Schema that accepts real requests)", () => {
    const ajv = newAjv();
    ajv.addSchema({ $id: "https://waha-campaigns.local/openapi", components: doc.components });
    const bodySchema = (name: string) => ajv.compile({ $ref: `https://waha-campaigns.local/openapi#/components/schemas/${name}` });
    for (const name of Object.keys(doc.components.schemas)) expect(() => bodySchema(name), name).not.toThrow();

    const createCampaign = bodySchema("CreateCampaignRequest");
    const listId = "6f1c1b0e-8a3e-4c55-9d3e-2b7f0f5d1a10";
    expect(createCampaign({ name: "Launch", listId, text: "Hi", scheduledAt: "2030-01-01T09:00:00+01:00", delayMinMs: 0 })).toBe(true);
    // A draft needs only its name (the service asks for the list and time when it is scheduled).
    expect(createCampaign({ name: "Launch", status: "Draft" })).toBe(true);
    expect(createCampaign({ name: "Launch", status: "Running" })).toBe(false);
    expect(createCampaign({ name: "Launch", listId: "nope", text: "Hi", scheduledAt: "2030-01-01T09:00:00Z" })).toBe(false);
    // The path parameter is not part of a body.
    const update = doc.components.schemas.UpdateCampaignRequest as { properties: Record<string, unknown> };
    expect(update.properties).not.toHaveProperty("id");
    expect(update.properties).toHaveProperty("scheduledAt");
  });

  it("states every response field that is always present as required", () => {
    const optional: string[] = [];
    const walk = (schema: unknown, at: string): void => {
      if (Array.isArray(schema)) return schema.forEach((item, index) => walk(item, `${at}[${index}]`));
      if (!schema || typeof schema !== "object") return;
      const { properties, required } = schema as { properties?: Record<string, unknown>; required?: string[] };
      if (properties) {
        for (const name of Object.keys(properties)) if (!(required ?? []).includes(name)) optional.push(`${at}.${name}`);
      }
      for (const [key, value] of Object.entries(schema)) walk(value, `${at}.${key}`);
    };
    for (const name of Object.keys(responseSchemas)) walk(doc.components.schemas[name], name);
    // A send window reads back as it was set (days and recipientLocal may have been left out); a
    // waiting reason has a detail only for some reasons; an audience holds only the parts it was given.
    expect(optional.map((at) => at.replace(/\.properties/g, "")).sort()).toEqual(
      [
        "Error.error.field",
        "Campaign.audience.anyOf[0].listIds",
        "Campaign.audience.anyOf[0].tags",
        "Campaign.audience.anyOf[0].excludeTags",
        "Campaign.sendWindow.anyOf[0].days",
        "Campaign.sendWindow.anyOf[0].recipientLocal",
        "Campaign.waiting.anyOf[0].detail",
      ].sort(),
    );
  });

  it("states the formats the server enforces: ISO-8601 instants with an offset, two-letter country codes", () => {
    const create = doc.components.schemas.CreateCampaignRequest as { properties: Record<string, { format?: string; pattern?: string }> };
    expect(create.properties.scheduledAt).toMatchObject({ format: "date-time", pattern: expect.stringContaining("Z|[+-]") });
    const importCsv = doc.components.schemas.ImportListCsvRequest as { properties: Record<string, { pattern?: string }> };
    expect(importCsv.properties.defaultCountry).toMatchObject({ pattern: "^[A-Za-z]{2}$" });
    expect(doc.components).toMatchObject({ responses: { MethodNotAllowed: { headers: { Allow: {} } } } });
  });

  it("documents query parameters from the inputs: pagination, filters, the default country", () => {
    const query = (path: string, method: string) =>
      (doc.paths[path]![method]!.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name).sort();
    expect(query("/api/v1/campaigns", "get")).toEqual(["cursor", "limit", "status"]);
    expect(query("/api/v1/campaigns/{id}/recipients", "get")).toEqual(["cursor", "format", "limit", "status"]);
    expect(query("/api/v1/lists/{id}/import", "post")).toEqual(["defaultCountry", "tag"]);
    expect(query("/api/v1/lists/{id}/contacts", "post")).toEqual(["defaultCountry", "tag"]);
    expect(doc.paths["/api/v1/lists/{id}/import"]!.post!.requestBody).toMatchObject({ content: { "text/csv": {} } });
  });
});
