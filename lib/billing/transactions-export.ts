// The transactions CSV, streamed: a ReadableStream whose pull() reads ONE keyset page of the
// ledger (org_id, id < cursor; the (org_id, id) index) and enqueues it as one chunk. Nothing is
// read before the consumer asks, so memory stays at about one page whatever the size of the
// ledger, and a client that stops reading stops the queries. Same filters as the page (kind).
import { and, desc, eq, lt } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditEntries, type CreditEntryKind } from "@/db/schema";
import { csvNumber, csvRow, csvText } from "./csv";

export const EXPORT_HEADER = ["entry_id", "created_at", "type", "description", "credits", "balance_after", "purchase_id"];

export type ExportOptions = { pageSize?: number; onPage?: (rows: number) => void };

export function transactionsCsvStream(db: DbOrTx, filter: { orgId: string; kind?: CreditEntryKind }, opts: ExportOptions = {}): ReadableStream<Uint8Array> {
  const pageSize = opts.pageSize ?? 2000;
  const encoder = new TextEncoder();
  let cursor: number | null = null;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(csvRow(EXPORT_HEADER)));
          return;
        }
        const rows = await db
          .select({
            id: creditEntries.id,
            createdAt: creditEntries.createdAt,
            kind: creditEntries.kind,
            description: creditEntries.description,
            amount: creditEntries.amount,
            balanceAfter: creditEntries.balanceAfter,
            purchaseId: creditEntries.purchaseId,
          })
          .from(creditEntries)
          .where(and(eq(creditEntries.orgId, filter.orgId), filter.kind ? eq(creditEntries.kind, filter.kind) : undefined, cursor !== null ? lt(creditEntries.id, cursor) : undefined))
          .orderBy(desc(creditEntries.id))
          .limit(pageSize);
        opts.onPage?.(rows.length);
        if (rows.length > 0) {
          let text = "";
          for (const r of rows) {
            text += csvRow([csvNumber(r.id), r.createdAt.toISOString(), csvText(r.kind), csvText(r.description), csvNumber(r.amount), csvNumber(r.balanceAfter), csvText(r.purchaseId)]);
          }
          controller.enqueue(encoder.encode(text));
          cursor = rows[rows.length - 1]!.id;
        }
        if (rows.length < pageSize) controller.close();
      },
    },
    // One chunk queued ahead at most: the stream reads a page only when the previous one is taken.
    { highWaterMark: 1 },
  );
}
