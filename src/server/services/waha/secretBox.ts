/**
 * Secrets we must give back to someone else (a WAHA server's API key) are stored encrypted:
 * AES-256-GCM with a key derived by HKDF-SHA256 from the operator's secret (ENCRYPTION_KEY, else
 * AUTH_SECRET, else WAHA_WEBHOOK_SECRET). The salt and info are fixed so the same secret always
 * gives the same key, across restarts and processes. Changing the secret makes stored keys
 * unreadable: the owner registers them again.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";
const SALT = Buffer.from("waha-campaigns/secret-box");
const INFO = Buffer.from("waha-server-api-key");

export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync("sha256", secret, SALT, INFO, 32));
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, each base64url; a fresh 12-byte IV every time. */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data].map((part) => (typeof part === "string" ? part : part.toString("base64url"))).join(".");
  }

  /** Throws when the text was sealed with another secret or altered (GCM's tag does not match). */
  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(".");
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error("Not a sealed secret of this version");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
  }
}
