/**
 * Password hashes: scrypt (node:crypto) with its cost stored in the hash, so the cost can rise and old
 * hashes still verify (and get rehashed at the next log-in).
 *
 * Format: `scrypt$ln=17,r=8,p=1$<salt base64>$<hash base64>` (ln = log2 N). The first format,
 * `scrypt$<salt>$<hash>`, had no parameters: it was made with Node's defaults (N = 2^14, r = 8, p = 1).
 *
 * Every hash and verify goes through one WorkLimiter per process: scrypt at N = 2^17 takes about
 * 0.5 s of a core and 128 MB, so a burst of log-ins waits its turn (or is refused with a 503) instead
 * of filling libuv's thread pool and the cores that every other request needs.
 */
import { availableParallelism } from "node:os";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { WorkLimiter } from "./workLimiter";

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  logN: number;
  r: number;
  p: number;
}

/** Production cost: N = 2^17 (OWASP's minimum for scrypt), r = 8, p = 1: 128 MB and ~0.5 s per hash. */
export const PRODUCTION_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };
/** What the first hash format was made with (Node's defaults). */
const LEGACY_SCRYPT: ScryptParams = { logN: 14, r: 8, p: 1 };
const KEY_LENGTH = 64;
const SALT_BYTES = 16;
/** Refuse to run absurd parameters read from a stored hash (a corrupted row must not take 2^30 × 1 KB). */
const MAX_LOG_N = 20;

/** scrypt needs 128 · N · r bytes; Node refuses above `maxmem` (32 MB by default), so give it twice that. */
export function scryptMaxmem(params: ScryptParams): number {
  return Math.max(32 * 1024 * 1024, 2 * 128 * 2 ** params.logN * params.r);
}

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      KEY_LENGTH,
      { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: scryptMaxmem(params) },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

export function parsePasswordHash(stored: string): ParsedHash | null {
  const parts = stored.split("$");
  if (parts[0] !== "scrypt") return null;
  if (parts.length === 3) {
    return { params: LEGACY_SCRYPT, salt: Buffer.from(parts[1]!, "base64"), hash: Buffer.from(parts[2]!, "base64") };
  }
  if (parts.length !== 4) return null;
  const match = /^ln=(\d+),r=(\d+),p=(\d+)$/.exec(parts[1]!);
  if (!match) return null;
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.logN < 1 || params.logN > MAX_LOG_N || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return null;
  return { params, salt: Buffer.from(parts[2]!, "base64"), hash: Buffer.from(parts[3]!, "base64") };
}

export interface PasswordHasherOptions {
  /** Tests lower the cost to stay fast; production keeps PRODUCTION_SCRYPT. */
  params?: ScryptParams;
  /** Hashes at once; default: one less than the cores, at least 1, at most 2. */
  concurrency?: number;
  /** Hashes waiting beyond those; more are refused with a 503 (at ~0.5–1 s a hash, a longer queue only makes people wait). Default 8. */
  maxQueued?: number;
}

export interface VerifyResult {
  ok: boolean;
  /** The stored hash is cheaper than today's cost: store a new one (the password is known right now). */
  needsRehash: boolean;
}

export class PasswordHasher {
  readonly params: ScryptParams;
  readonly limiter: WorkLimiter;
  private dummyHash: Promise<string> | null = null;

  constructor(options: PasswordHasherOptions = {}) {
    this.params = options.params ?? PRODUCTION_SCRYPT;
    this.limiter = new WorkLimiter(
      options.concurrency ?? Math.min(2, Math.max(1, availableParallelism() - 1)),
      options.maxQueued ?? 8,
    );
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await this.limiter.run(() => scryptAsync(password, salt, this.params));
    const { logN, r, p } = this.params;
    return `scrypt$ln=${logN},r=${r},p=${p}$${salt.toString("base64")}$${key.toString("base64")}`;
  }

  async verify(password: string, stored: string): Promise<VerifyResult> {
    const parsed = parsePasswordHash(stored);
    if (!parsed || parsed.hash.length === 0) return { ok: false, needsRehash: false };
    const actual = await this.limiter.run(() => scryptAsync(password, parsed.salt, parsed.params));
    const ok = actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
    return { ok, needsRehash: ok && costOf(parsed.params) < costOf(this.params) };
  }

  /**
   * The same work as verifying a real account, for an email nobody has: a log-in then takes as long
   * whether the account exists or not, so timing does not tell which emails have accounts.
   */
  async verifyDummy(password: string): Promise<void> {
    if (!this.dummyHash) {
      this.dummyHash = this.hash(randomBytes(16).toString("hex"));
      // A refused first try (queue full) must not stay cached.
      this.dummyHash.catch(() => (this.dummyHash = null));
    }
    await this.verify(password, await this.dummyHash);
  }
}

function costOf(params: ScryptParams): number {
  return 2 ** params.logN * params.r * params.p;
}
