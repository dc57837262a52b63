// API key format and hashing (pure). A key is `cl_live_` or `cl_test_` followed by 32 random bytes
// in base64url (43 characters): recognisable in logs and secret scanners, unguessable, so a plain
// SHA-256 is enough to store it (nothing to brute-force, no salt needed). The prefix people see to
// tell keys apart is the mode tag plus the first 6 characters of the random part.
import { createHash, randomBytes } from "node:crypto";

export type KeyMode = "live" | "test";

const KEY_PATTERN = /^cl_(live|test)_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function displayPrefix(key: string): string {
  return key.slice(0, "cl_test_".length + 6);
}

export function generateApiKey(mode: KeyMode): { key: string; prefix: string; hash: string } {
  const key = `cl_${mode}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix: displayPrefix(key), hash: hashApiKey(key) };
}

/** Whether a string has the shape of one of our keys (cheap check before touching the database). */
export function looksLikeApiKey(s: string): boolean {
  return KEY_PATTERN.test(s);
}

/** The key from an `Authorization: Bearer <key>` header, or null. */
export function bearerKey(header: string | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
