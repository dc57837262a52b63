// Organisation API keys: create (the key is returned once, only its hash is stored), revoke,
// list, and authenticate a presented key. Authorisation (admins only) is the action wrapper's.
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { apiKeys, type ApiKey } from "@/db/schema";
import { AppError } from "../errors";
import { log } from "../log";
import { recordAudit } from "../audit/audit";
import { DEMO_API_KEY } from "../demo/api-key";
import { demoAccessAllowed } from "../deployment";
import { displayPrefix, generateApiKey, hashApiKey, looksLikeApiKey, type KeyMode } from "./keys";

export type ApiKeyView = Pick<ApiKey, "id" | "name" | "prefix" | "createdAt" | "revokedAt" | "lastUsedAt">;

const view = { id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, createdAt: apiKeys.createdAt, revokedAt: apiKeys.revokedAt, lastUsedAt: apiKeys.lastUsedAt };

export async function createApiKey(db: Db, p: { orgId: string; name: string; userId: string; mode: KeyMode }): Promise<{ key: string; apiKey: ApiKeyView }> {
  const { key, prefix, hash } = generateApiKey(p.mode);
  const row = await db.transaction(async (tx) => {
    const [created] = await tx.insert(apiKeys).values({ orgId: p.orgId, name: p.name, prefix, keyHash: hash, createdByUserId: p.userId }).returning(view);
    await recordAudit(tx, { actorUserId: p.userId, action: "apikey.create", target: { type: "api_key", id: created!.id }, orgId: p.orgId, details: { name: p.name, prefix } });
    return created;
  });
  log.info({ event: "api_key_created", orgId: p.orgId, apiKeyId: row!.id, prefix, userId: p.userId }, "API key created");
  return { key, apiKey: row! };
}

/** Revokes a key of this organisation; revoking a revoked key changes nothing. */
export async function revokeApiKey(db: Db, p: { orgId: string; keyId: string; userId: string }): Promise<ApiKeyView> {
  const row = await db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()`, revokedByUserId: p.userId })
      .where(and(eq(apiKeys.id, p.keyId), eq(apiKeys.orgId, p.orgId), isNull(apiKeys.revokedAt)))
      .returning(view);
    if (revoked) await recordAudit(tx, { actorUserId: p.userId, action: "apikey.revoke", target: { type: "api_key", id: revoked.id }, orgId: p.orgId, details: { name: revoked.name, prefix: revoked.prefix } });
    return revoked;
  });
  if (row) {
    log.info({ event: "api_key_revoked", orgId: p.orgId, apiKeyId: row.id, userId: p.userId }, "API key revoked");
    return row;
  }
  const [existing] = await db.select(view).from(apiKeys).where(and(eq(apiKeys.id, p.keyId), eq(apiKeys.orgId, p.orgId)));
  if (!existing) throw new AppError("not_found", "API key not found.");
  return existing;
}

export async function listApiKeys(db: DbOrTx, orgId: string): Promise<ApiKeyView[]> {
  return db.select(view).from(apiKeys).where(eq(apiKeys.orgId, orgId)).orderBy(sql`${apiKeys.revokedAt} IS NOT NULL`, desc(apiKeys.createdAt));
}

/**
 * The live (not revoked) key matching this secret, or null. Reads only. The demo key (its secret
 * is in the source, lib/demo/api-key.ts) is refused in production whatever the database holds:
 * `npm start` refuses a database with it live, but a row restored or inserted later must not
 * let anyone spend its organisation's credits either.
 */
export async function authenticateApiKey(db: DbOrTx, key: string): Promise<{ keyId: string; orgId: string } | null> {
  if (!looksLikeApiKey(key)) return null;
  if (key === DEMO_API_KEY && !demoAccessAllowed(process.env)) {
    log.warn({ event: "demo_api_key_refused" }, "the demo API key was presented to a production server");
    return null;
  }
  const [row] = await db
    .select({ keyId: apiKeys.id, orgId: apiKeys.orgId })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  return row ?? null;
}

/** Inserts a key whose secret is known in advance (demo data only: lib/demo). */
export async function ensureKnownApiKey(db: DbOrTx, p: { orgId: string; name: string; key: string }): Promise<void> {
  if (!looksLikeApiKey(p.key)) throw new Error("not an API key");
  await db.insert(apiKeys).values({ orgId: p.orgId, name: p.name, prefix: displayPrefix(p.key), keyHash: hashApiKey(p.key) }).onConflictDoNothing();
}
