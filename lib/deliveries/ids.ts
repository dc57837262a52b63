// Delivery ids derived from the organisation and the Idempotency-Key (pure): the same request
// retried maps to the same delivery row and the same ledger key delivery:<id>, so it can never
// debit twice; two organisations using the same key get different ids.
import { createHash } from "node:crypto";

/** A UUID (version 8, "custom") from SHA-256 of org id and key. */
export function deliveryIdFor(orgId: string, idempotencyKey: string): string {
  const h = createHash("sha256").update(`delivery\u0000${orgId}\u0000${idempotencyKey}`, "utf8").digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** What a retry must repeat for its key to be honoured: the campaign and the reference. */
export function deliveryRequestHash(campaignId: string, reference: string | null): string {
  return createHash("sha256").update(JSON.stringify([campaignId, reference]), "utf8").digest("hex");
}
