// Which demo data (lib/demo) a database holds: the demo accounts (lib/demo/accounts.ts) and the
// demo organisation's API key (lib/demo/api-key.ts). `npm start` refuses to serve such a
// database: demo data belongs to dev and preview only. The key counts on its own: its secret is
// in the source, so with the demo users deleted it would still spend its organisation's credits
// through the delivery API.
import { and, eq, inArray, isNull } from "drizzle-orm";
import { createDb } from "../db/client";
import { apiKeys, organizations, users } from "../db/schema";
import { hashApiKey } from "../lib/api-keys/keys";
import { DEMO_EMAILS } from "../lib/demo/accounts";
import { DEMO_API_KEY } from "../lib/demo/api-key";

/** The hash stored for the demo key (api_keys.key_hash): what to look for, and to revoke. */
export const DEMO_API_KEY_HASH = hashApiKey(DEMO_API_KEY);

export async function demoAccountsIn(databaseUrl: string): Promise<string[]> {
  const { db, sql } = createDb(databaseUrl, { max: 1 });
  try {
    const rows = await db.select({ email: users.email }).from(users).where(inArray(users.email, [...DEMO_EMAILS]));
    return rows.map((r) => r.email).sort();
  } finally {
    await sql.end();
  }
}

/** The demo API key if the database holds it unrevoked (whichever organisation it is in), else null. */
export async function demoApiKeyIn(databaseUrl: string): Promise<{ prefix: string; orgName: string; orgSlug: string } | null> {
  const { db, sql } = createDb(databaseUrl, { max: 1 });
  try {
    const [row] = await db
      .select({ prefix: apiKeys.prefix, orgName: organizations.name, orgSlug: organizations.slug })
      .from(apiKeys)
      .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
      .where(and(eq(apiKeys.keyHash, DEMO_API_KEY_HASH), isNull(apiKeys.revokedAt)));
    return row ?? null;
  } finally {
    await sql.end();
  }
}
