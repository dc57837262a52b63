// How ledger entry kinds read to a person.
import type { CreditEntryKind } from "@/db/schema";

export const ENTRY_KIND_LABELS: Record<CreditEntryKind, string> = {
  purchase: "Top-up",
  subscription_grant: "Subscription credits",
  trial_grant: "Trial credits",
  usage: "Campaign delivery",
  refund_reversal: "Refund reversal",
  adjustment: "Adjustment",
  bonus: "Bonus",
  expiry: "Expiry",
};

export function formatDateTime(d: Date): string {
  return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(d) + " UTC";
}
