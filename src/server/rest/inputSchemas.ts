/**
 * A procedure's zod input as JSON Schema (draft 2020-12, what OpenAPI 3.1 speaks), generated with
 * zod's own `z.toJSONSchema` in input mode: the same schema that validates the request describes
 * it, so the document cannot drift from the validation.
 */
import type { AnyTRPCProcedure } from "@trpc/server";
import { z } from "zod";
import { appRouter } from "../api/root";
import type { ProcedurePath } from "./routes";

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
  [keyword: string]: unknown;
}

const cache = new Map<ProcedurePath, JsonSchema | null>();

/** The input schema of a procedure, or null when it takes no input. */
export function procedureInputSchema(path: ProcedurePath): JsonSchema | null {
  if (cache.has(path)) return cache.get(path)!;
  const procedure = (appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure | undefined>)[path];
  if (!procedure) throw new Error(`The REST route table names ${path}, which is not a procedure of the app router`);
  const inputs = (procedure._def as { inputs?: unknown[] }).inputs ?? [];
  let schema: JsonSchema | null = null;
  for (const input of inputs) {
    if (!(input instanceof z.ZodType)) throw new Error(`${path}: only zod inputs can be described by OpenAPI`);
    const { $schema: _dialect, ...generated } = z.toJSONSchema(input, { io: "input", unrepresentable: "any" }) as JsonSchema;
    // Chained .input() calls merge their objects, as tRPC does with the parsed values.
    schema = schema ? mergeObjects(schema, generated) : generated;
  }
  cache.set(path, schema);
  return schema;
}

function mergeObjects(a: JsonSchema, b: JsonSchema): JsonSchema {
  return {
    ...a,
    properties: { ...a.properties, ...b.properties },
    required: [...new Set([...(a.required ?? []), ...(b.required ?? [])])],
  };
}

/** The object schema without some properties (path parameters live in the path, not the body). */
export function withoutProperties(schema: JsonSchema, names: string[]): JsonSchema {
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([name]) => !names.includes(name)));
  const required = (schema.required ?? []).filter((name) => !names.includes(name));
  const { properties: _all, required: _allRequired, ...rest } = schema;
  return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
}

/** The JSON type a property takes, looking through `anyOf: [T, null]` (nullish fields). */
export function primaryType(schema: JsonSchema | undefined): string | undefined {
  if (!schema) return undefined;
  if (typeof schema.type === "string") return schema.type;
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== "null");
  const variants = schema.anyOf ?? schema.oneOf;
  return variants?.map(primaryType).find((type) => type !== undefined && type !== "null");
}
