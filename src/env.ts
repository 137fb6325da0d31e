/**
 * The environment, validated once. Empty strings count as unset. A bad value stops start-up with a
 * message naming the variable and what to put there.
 */
import { z } from "zod";

const optionalString = z.string().trim().min(1).optional();
const milliseconds = (fallback: number) =>
  z.coerce
    .number({ error: "must be a whole number of milliseconds" })
    .int("must be a whole number of milliseconds")
    .min(0, "must be 0 or more")
    .max(3_600_000, "must be at most 3600000 (one hour)")
    .default(fallback);

/** A per-workspace default limit (src/server/services/quotas.ts); a workspace row may override it. */
const quota = (fallback: number, what: string) =>
  z.coerce.number({ error: `must be ${what}` }).int(`must be ${what}`).min(0, "must be 0 or more").default(fallback);

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("production"),
    PORT: z.coerce.number({ error: "must be a port number" }).int().min(0).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    DATA_DIR: z.string().default("./data"),
    WAHA_URL: z.url({ error: "must be an http(s) URL, e.g. http://localhost:3001" }).optional(),
    WAHA_API_KEY: optionalString,
    WAHA_TIMEOUT_MS: milliseconds(30_000),
    WAHA_WEBHOOK_URL: z.url({ error: "must be the URL WAHA can reach this app's /api/webhooks/waha at" }).optional(),
    /** WAHA signs its webhooks with this key (HMAC-SHA512); falls back to AUTH_SECRET. */
    WAHA_WEBHOOK_SECRET: z.string().trim().min(16, "must be at least 16 characters").optional(),
    SCHEDULER_DRIVER: z
      .enum(["node-cron", "pg-boss"], { error: 'must be "node-cron" or "pg-boss"' })
      .default("node-cron"),
    SEND_DELAY_MIN_MS: milliseconds(6000),
    SEND_DELAY_MAX_MS: milliseconds(12000),
    AUTH_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
    /** Encrypts secrets stored for later use (registered WAHA servers' API keys); falls back to AUTH_SECRET, then WAHA_WEBHOOK_SECRET. */
    ENCRYPTION_KEY: z.string().trim().min(16, "must be at least 16 characters, e.g. `openssl rand -hex 32`").optional(),
    BOOTSTRAP_ADMIN_EMAIL: z.email({ error: "must be an email address" }).optional(),
    BOOTSTRAP_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
    BOOTSTRAP_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
    AUTO_RESUME_GIVE_UP_HOURS: z.coerce
      .number({ error: "must be a number of hours" })
      .positive("must be more than 0")
      .max(720, "must be at most 720 (30 days)")
      .default(24),
    SESSION_PROBE_INTERVAL_MS: z.coerce
      .number({ error: "must be a whole number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .min(1_000, "must be at least 1000 (one second)")
      .max(3_600_000, "must be at most 3600000 (one hour)")
      .default(30_000),
    TRUSTED_PROXY: z
      .enum(["true", "false", "1", "0"], { error: 'must be "true" (behind a reverse proxy that sets X-Forwarded-For/-Proto) or "false"' })
      .default("false")
      .transform((value) => value === "true" || value === "1"),
    /** Outgoing webhooks may go to loopback and private addresses (SSRF guard off): only for receivers inside your own network. */
    WEBHOOK_ALLOW_PRIVATE: z
      .enum(["true", "false", "1", "0"], { error: 'must be "true" (allow webhook URLs on loopback and private networks) or "false"' })
      .default("false")
      .transform((value) => value === "true" || value === "1"),
    SIGNUP: z
      .enum(["open", "invite", "closed"], { error: 'must be "open" (anyone), "invite" (with an invite link) or "closed" (CLI and BOOTSTRAP_* only)' })
      .optional(),
    QUOTA_NUMBERS: quota(10, "a whole number of WhatsApp numbers"),
    QUOTA_CONTACTS: quota(100_000, "a whole number of contacts"),
    QUOTA_MEDIA_BYTES: quota(500 * 1024 * 1024, "a whole number of bytes"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    LOG_FORMAT: z
      .enum(["auto", "json", "pretty"], { error: 'must be "auto" (human lines on a terminal, JSON otherwise), "json" or "pretty"' })
      .default("auto"),
  })
  .superRefine((env, ctx) => {
    if (env.SEND_DELAY_MIN_MS > env.SEND_DELAY_MAX_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["SEND_DELAY_MAX_MS"],
        message: `must be at least SEND_DELAY_MIN_MS (${env.SEND_DELAY_MIN_MS})`,
      });
    }
    if (env.SCHEDULER_DRIVER === "pg-boss" && !env.DATABASE_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["SCHEDULER_DRIVER"],
        message: "pg-boss needs PostgreSQL: set DATABASE_URL, or use node-cron",
      });
    }
    // Unsigned webhooks could set any number's status or any message's ack: with a real WAHA, a key is
    // required (sandbox mode makes one of its own at start, for its built-in fake WAHA).
    if (env.WAHA_URL && !env.WAHA_WEBHOOK_SECRET && !env.AUTH_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["WAHA_WEBHOOK_SECRET"],
        message:
          "is required when WAHA_URL is set: WAHA signs its webhooks with it and unsigned ones are refused. Set WAHA_WEBHOOK_SECRET (or AUTH_SECRET) to at least 16 random characters, e.g. `openssl rand -hex 32`",
      });
    }
    if (env.BOOTSTRAP_ADMIN_EMAIL && !env.BOOTSTRAP_ADMIN_PASSWORD) {
      ctx.addIssue({ code: "custom", path: ["BOOTSTRAP_ADMIN_PASSWORD"], message: "is required with BOOTSTRAP_ADMIN_EMAIL" });
    }
    if (env.BOOTSTRAP_API_KEY && !env.BOOTSTRAP_ADMIN_EMAIL) {
      ctx.addIssue({ code: "custom", path: ["BOOTSTRAP_ADMIN_EMAIL"], message: "is required with BOOTSTRAP_API_KEY (the key belongs to that user)" });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "EnvError";
  }
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value.trim() !== "") cleaned[key] = value;
  }
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => {
        const name = issue.path.join(".");
        const shown = name in cleaned && !/KEY|PASSWORD|SECRET/.test(name) ? ` (got "${cleaned[name]}")` : "";
        return `${name} ${issue.message}${shown}`;
      }),
    );
  }
  return result.data;
}
