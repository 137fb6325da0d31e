/**
 * The OpenAPI 3.1 document of REST v1, generated from the route table and the procedures' zod
 * inputs (inputSchemas.ts): parameters and request bodies are the validation's own schemas.
 */
import { type JsonSchema, primaryType, procedureInputSchema, withoutProperties } from "./inputSchemas";
import { IMAGE_CONTENT_TYPES } from "./imageBody";
import { responseSchemas } from "./responseSchemas";
import { pathParameters, type ProcedureRoute, type RestRoute, restRoutes } from "./routes";

export const API_VERSION = "1.0.0";

type Operation = Record<string, unknown>;

interface ErrorResponseSpec {
  status: number;
  name: string;
  description: string;
  applies: (route: RestRoute) => boolean;
  /** The body's schema when it says more than the common Error. */
  schema?: Record<string, unknown>;
}

const changesState = (route: RestRoute) => route.kind === "procedure" && route.method !== "GET";
const hasBody = (route: RestRoute) => route.kind === "procedure" && (route.input === "json" || route.input === "csv" || route.input === "image");

const ERROR_RESPONSES: ErrorResponseSpec[] = [
  {
    status: 400,
    name: "BadRequest",
    description:
      "Malformed JSON, an invalid field, or a field or query parameter this endpoint does not take (unknown or read-only); `field` names it",
    // Every procedure route refuses unknown query parameters, with or without an input of its own.
    applies: (r) => r.kind === "procedure",
  },
  { status: 401, name: "Unauthorized", description: "No API key, or one that is unknown or revoked", applies: (r) => r.kind === "procedure" },
  {
    status: 404,
    name: "NotFound",
    description: "No such resource in this workspace (another workspace's ids are not found either)",
    applies: (r) => pathParameters(r.path).length > 0,
  },
  { status: 409, name: "Conflict", description: "The resource is in the wrong state for this, or the name is taken", applies: changesState },
  { status: 413, name: "PayloadTooLarge", description: "The request body is over the size limit", applies: hasBody },
  {
    status: 422,
    name: "Unprocessable",
    description: "Well-formed but not doable: e.g. a time in the past, an unknown list, an unknown placeholder",
    applies: changesState,
  },
  {
    status: 405,
    name: "MethodNotAllowed",
    description: "The path exists but does not answer this method; the `Allow` header lists those it answers",
    // Not listed under operations (an operation is a method that is answered): any path, any other method.
    applies: () => false,
  },
  { status: 500, name: "Internal", description: "An error on our side; nothing internal is revealed", applies: () => true },
  {
    status: 503,
    name: "Unavailable",
    description: "WAHA is unreachable or timed out, or the scheduler is starting or stopping: send the same request again later (`retryable: true`)",
    applies: (r) => r.kind === "procedure" && (r.dependsOn?.length ?? 0) > 0,
    schema: {
      allOf: [
        { $ref: "#/components/schemas/Error" },
        { type: "object", properties: { error: { type: "object", properties: { retryable: { const: true } }, required: ["retryable"] } } },
      ],
    },
  },
];

let cached: Record<string, unknown> | null = null;

export function openApiDocument(): Record<string, unknown> {
  cached ??= buildDocument();
  return cached;
}

function buildDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {};
  const requestSchemas: Record<string, JsonSchema> = {};
  for (const route of restRoutes) {
    const operation = buildOperation(route, requestSchemas);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "waha-campaigns REST API",
      version: API_VERSION,
      description:
        "Scheduled WhatsApp campaigns through WAHA. Authenticate with `Authorization: Bearer <api key>` " +
        "(create a key in the dashboard or with `npm run cli -- create-user --api-key`). Every error is " +
        "`{error: {code, message, field?, retryable?}}`; a 503 has `retryable: true`. Dates are ISO-8601 strings. A field an " +
        "endpoint does not take (unknown or read-only) is a 400 naming it. A method a path does not answer is 405 " +
        "(`#/components/responses/MethodNotAllowed`) with an `Allow` header. See docs/rest-api.md.",
    },
    servers: [{ url: "/", description: "This server" }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "Meta", description: "Health and this document" },
      { name: "Sessions", description: "WhatsApp numbers (WAHA sessions)" },
      { name: "WahaServers", description: "The workspace's WAHA servers, where its numbers live (keys stored encrypted, never returned)" },
      { name: "Lists", description: "Contact lists and imports" },
      { name: "Contacts", description: "Opt-out and opt-in of one contact, the suppression list, opt-out settings" },
      { name: "Templates", description: "Message templates" },
      { name: "Campaigns", description: "Scheduled campaigns and their recipients" },
      { name: "Media", description: "Images a campaign can send (`mediaId`)" },
      { name: "Webhooks", description: "Outgoing webhooks: URLs that receive campaign, recipient and opt-out events, signed" },
    ],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "An API key of the workspace" },
      },
      schemas: { ...responseSchemas, ...requestSchemas },
      responses: Object.fromEntries(
        ERROR_RESPONSES.map((spec) => [
          spec.name,
          {
            description: spec.description,
            ...(spec.status === 405 ? { headers: { Allow: { description: "The methods this path answers", schema: { type: "string" } } } } : {}),
            content: { "application/json": { schema: spec.schema ?? { $ref: "#/components/schemas/Error" } } },
          },
        ]),
      ),
    },
  };
}

function buildOperation(route: RestRoute, requestSchemas: Record<string, JsonSchema>): Operation {
  const operation: Operation = {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
  };
  if (route.kind === "public") operation.security = [];
  const input = route.kind === "procedure" ? procedureInputSchema(route.procedure) : null;
  const pathNames = pathParameters(route.path);
  const parameters: Operation[] = pathNames.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: input?.properties?.[name] ?? { type: "string" },
  }));
  if (route.kind === "procedure" && input) {
    for (const name of queryNames(route, input, pathNames)) {
      const schema = input.properties?.[name] ?? { type: "string" };
      parameters.push({
        name,
        in: "query",
        // An image upload's filename has a default (rest/imageBody.ts).
        required: route.input !== "image" && (input.required?.includes(name) ?? false),
        schema,
        ...(primaryType(schema) === "array" ? { style: "form", explode: true, description: "Repeat the parameter or separate values with commas" } : {}),
      });
    }
    if (route.csvFormat) {
      parameters.push({
        name: "format",
        in: "query",
        required: false,
        schema: { type: "string", enum: ["csv"] },
        description: "csv: every item, streamed as text/csv (no other query parameter with it)",
      });
    }
    const body = requestBody(route, input, pathNames);
    if (route.input === "image") {
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(
          IMAGE_CONTENT_TYPES.map((type) => [type, { schema: { type: "string", format: "binary", contentMediaType: type } }]),
        ),
      };
    } else if (body) {
      const name = `${route.operationId[0]!.toUpperCase()}${route.operationId.slice(1)}Request`;
      requestSchemas[name] = body.schema;
      operation.requestBody = {
        required: true,
        content: {
          ...(route.input === "csv"
            ? { "text/csv": { schema: { type: "string", description: "The CSV file, UTF-8; the first line names the columns" } } }
            : {}),
          "application/json": {
            schema: route.arrayBodyField
              ? {
                  anyOf: [
                    { ...input.properties?.[route.arrayBodyField], description: `The ${route.arrayBodyField} array alone` },
                    { $ref: `#/components/schemas/${name}` },
                  ],
                }
              : { $ref: `#/components/schemas/${name}` },
          },
        },
      };
    }
  }
  if (parameters.length > 0) operation.parameters = parameters;
  operation.responses = {
    [String(route.status)]:
      route.status === 204
        ? { description: "Done; no body" }
        : {
            description: "OK",
            content: {
              "application/json": { schema: { $ref: `#/components/schemas/${route.response}` } },
              ...(route.kind === "procedure" && route.csvFormat
                ? { "text/csv": { schema: { type: "string", description: "With ?format=csv: a header line, then one line per item" } } }
                : {}),
            },
          },
    ...Object.fromEntries(
      ERROR_RESPONSES.filter((spec) => spec.applies(route)).map((spec) => [
        String(spec.status),
        { $ref: `#/components/responses/${spec.name}` },
      ]),
    ),
  };
  return operation;
}

/** Query parameters: every non-path input field of a GET, the declared ones of a body route. */
function queryNames(route: ProcedureRoute, input: JsonSchema, pathNames: string[]): string[] {
  if (route.input === "query") return Object.keys(input.properties ?? {}).filter((name) => !pathNames.includes(name));
  return (route.queryFields ?? []).filter((name) => input.properties?.[name] !== undefined);
}

function requestBody(route: ProcedureRoute, input: JsonSchema, pathNames: string[]): { schema: JsonSchema } | null {
  if (route.input !== "json" && route.input !== "csv") return null;
  return { schema: withoutProperties(input, pathNames) };
}
