import pino, { type Logger } from "pino";

/**
 * The one root logger. Secrets are redacted by path so a stray object never leaks a key;
 * phone numbers are masked by callers with `maskPhone` (they travel in free text too).
 */
export const logger: Logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
  base: undefined,
  redact: {
    paths: ["apiKey", "*.apiKey", "wahaApiKey", "*.wahaApiKey", "headers['x-api-key']", "password", "*.password", "authorization", "*.authorization"],
    censor: "[redacted]",
  },
});

export function childLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ component: name, ...bindings });
}

/** "+14155550123" -> "+1415*****23": enough to tell numbers apart in a log, not to dial them. */
export function maskPhone(phone: string): string {
  if (phone.length <= 6) return "***";
  return phone.slice(0, 5) + "*".repeat(Math.max(0, phone.length - 7)) + phone.slice(-2);
}
