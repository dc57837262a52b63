// The database client. createDb builds one from a URL (scripts, tests); getDb is the app's
// process-wide instance from DATABASE_URL, kept on globalThis so dev reloads do not leak pools.
import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import * as schema from "./schema";

export function createDb(url: string, options: { max?: number; applicationName?: string } = {}) {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connection: { application_name: options.applicationName ?? "creditloop" } });
  const db = drizzle(sql, { schema });
  return { db, sql };
}

export type Db = ReturnType<typeof createDb>["db"];
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Services take either, so callers can compose several writes into one transaction. */
export type DbOrTx = Db | Tx;

const globalForDb = globalThis as unknown as { __creditloopDb?: ReturnType<typeof createDb> };

export function getDb(): Db {
  if (!globalForDb.__creditloopDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (npm run dev sets it for you).");
    globalForDb.__creditloopDb = createDb(url);
  }
  return globalForDb.__creditloopDb.db;
}
