/**
 * Procedure inputs refuse what they do not take (issue 12): an unknown or read-only field is a
 * 400 naming it, never dropped in silence, so a client that misspells `scheduledAt` or tries to
 * set `status` learns it at once. The REST routes inherit this: their bodies and query strings are
 * the procedures' inputs.
 */
import { z } from "zod";

/** Fields the server writes; a caller sending one is told so rather than "unknown field". */
const SERVER_SET_FIELDS: Record<string, string> = {
  workspaceId: "workspaceId cannot be set: it is the API key's workspace",
  createdAt: "createdAt is read-only: the server sets it",
  updatedAt: "updatedAt is read-only: the server sets it",
};

/**
 * `schema` with unknown keys refused. `readOnly` adds hints for this input's read-only fields,
 * e.g. `{ status: "status cannot be set; use /pause, /resume or /cancel" }`.
 */
export function strictInput<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  readOnly: Record<string, string> = {},
): z.ZodObject<Shape, z.core.$strict> {
  // Rebuilding from the shape would lose object-level refinements: none may be there.
  if ((schema._zod.def.checks?.length ?? 0) > 0) {
    throw new Error("strictInput: the schema has object-level checks; make it strict where it is defined");
  }
  const accepted = Object.keys(schema.shape);
  const hints = { ...SERVER_SET_FIELDS, ...readOnly };
  return z.strictObject(schema.shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? unknownKeysMessage(issue.keys, accepted, hints) : undefined),
  });
}

function unknownKeysMessage(keys: string[], accepted: string[], hints: Record<string, string>): string {
  const first = keys[0] ?? "";
  if (Object.hasOwn(hints, first)) return hints[first]!;
  const others = keys.length > 1 ? ` (also ${keys.slice(1).map((key) => JSON.stringify(key)).join(", ")})` : "";
  return `Unknown field ${JSON.stringify(first)}${others}: this takes ${accepted.join(", ") || "no fields"}`;
}
