import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { prettyLogLine } from "./logPretty";

/**
 * The one root logger. Secrets are redacted by path so a stray object never leaks a key;
 * phone numbers are masked by callers with `maskPhone` (they travel in free text too).
 * Errors go through `safeErrorSerializer`: a failed query's parameters (phone numbers, names,
 * message text) never reach a log line.
 */

/** Fields of database errors that carry row values: drizzle's `params`, PostgreSQL's `detail` ("Key (phone)=(+49...)"), ... */
const VALUE_FIELDS = new Set(["params", "parameters", "detail", "where", "internalQuery"]);
const REDACTED = "[redacted]";

/** PostgreSQL messages that quote the offending value: `invalid input syntax for type uuid: "..."`, `value "..." is out of range`. */
const QUOTED_VALUE_PATTERNS: [RegExp, string][] = [
  [/(invalid input (?:syntax|value) for [^:\n]*: )"(?:[^"\\\n]|\\.)*"/g, `$1"${REDACTED}"`],
  [/value "(?:[^"\\\n]|\\.)*" is out of range/g, `value "${REDACTED}" is out of range`],
];

/** Drizzle's message is `Failed query: <sql>\nparams: <values>`: keep the SQL, drop the values. */
function scrubText(text: string, exactParams: string[]): string {
  let scrubbed = text;
  for (const params of exactParams) scrubbed = scrubbed.split(`\nparams: ${params}`).join(`\nparams: ${REDACTED}`);
  // A bare string (someone logged `error.message`): everything from "params:" to the next stack frame or the end.
  scrubbed = scrubbed.replace(/\nparams: (?!\[redacted\])[\s\S]*?(?=\n {4}at |\ncaused by: |$)/g, `\nparams: ${REDACTED}`);
  for (const [pattern, replacement] of QUOTED_VALUE_PATTERNS) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** The `params` of every error in the cause chain, as drizzle printed them into its messages. */
function paramsInChain(error: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current) && found.length < 10) {
    seen.add(current);
    const params = (current as { params?: unknown }).params;
    if (Array.isArray(params) && params.length > 0) found.push(String(params));
    current = (current as { cause?: unknown }).cause;
  }
  return found;
}

function scrubSerialized(value: unknown, exactParams: string[], depth = 0): unknown {
  if (typeof value === "string") return scrubText(value, exactParams);
  if (!value || typeof value !== "object" || depth > 5) return value;
  if (Array.isArray(value)) return value.map((item) => scrubSerialized(item, exactParams, depth + 1));
  const scrubbed: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (VALUE_FIELDS.has(key)) continue;
    scrubbed[key] = scrubSerialized((value as Record<string, unknown>)[key], exactParams, depth + 1);
  }
  return scrubbed;
}

/** pino's error serializer (type, message and stack with their causes), without any row value. */
export function safeErrorSerializer(error: unknown): unknown {
  if (typeof error === "string") return scrubText(error, []);
  if (!error || typeof error !== "object" || typeof (error as { message?: unknown }).message !== "string") return error;
  return scrubSerialized(pino.stdSerializers.err(error as Error), paramsInChain(error));
}

export function loggerOptions(): LoggerOptions {
  return {
    level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
    base: undefined,
    serializers: { err: safeErrorSerializer, error: safeErrorSerializer },
    redact: {
      paths: ["apiKey", "*.apiKey", "wahaApiKey", "*.wahaApiKey", "headers['x-api-key']", "password", "*.password", "authorization", "*.authorization"],
      censor: "[redacted]",
    },
  };
}

/** A root logger with this app's options; tests pass a destination to read what it writes. */
export function createLogger(destination?: DestinationStream, overrides: Partial<LoggerOptions> = {}): Logger {
  const options = { ...loggerOptions(), ...overrides };
  return destination ? pino(options, destination) : pino(options);
}

export type LogFormat = "json" | "pretty";
let rootFormat: LogFormat = "json";

/** JSON by default (files, pipes, log collectors); processes on a terminal switch to human lines (env.ts LOG_FORMAT). */
export function setLogFormat(format: LogFormat): void {
  rootFormat = format;
}

/** "auto": human lines on a TTY, JSON anywhere else. */
export function resolveLogFormat(setting: "auto" | LogFormat, isTty: boolean): LogFormat {
  return setting === "auto" ? (isTty ? "pretty" : "json") : setting;
}

const rootDestination: DestinationStream = {
  write: (line: string) => void process.stdout.write(rootFormat === "pretty" ? prettyLogLine(line) : line),
};

export const logger: Logger = createLogger(rootDestination);

export function childLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ component: name, ...bindings });
}

/** "+14155550123" -> "+1415*****23": enough to tell numbers apart in a log, not to dial them. */
export function maskPhone(phone: string): string {
  if (phone.length <= 6) return "***";
  return phone.slice(0, 5) + "*".repeat(Math.max(0, phone.length - 7)) + phone.slice(-2);
}
