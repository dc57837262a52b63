// Pure rules: how many credits a refund or dispute of part of a payment takes back. The share
// is proportional and rounded DOWN (a partial refund leaves the customer the fraction of a
// credit), except that refunding the whole amount takes back every credit. Reversals are
// cumulative: the target for a charge is computed from its total refunded amount, so partial
// refunds arriving in any order (or twice) converge on the same total.
export function creditsForShare(p: { credits: number; amount: number; share: number }): number {
  if (!Number.isSafeInteger(p.credits) || !Number.isSafeInteger(p.amount) || !Number.isSafeInteger(p.share) || p.amount <= 0 || p.credits < 0) {
    throw new RangeError("credits, amount and share must be integers with amount > 0");
  }
  if (p.share <= 0) return 0;
  if (p.share >= p.amount) return p.credits;
  // BigInt keeps credits × share exact beyond 2^53.
  return Number((BigInt(p.credits) * BigInt(p.share)) / BigInt(p.amount));
}

/** Credits still to reverse for a refund total, given what earlier reversals took (≥ 0). */
export function refundReversalDelta(p: { credits: number; amount: number; amountRefunded: number; alreadyReversed: number }): number {
  return Math.max(0, creditsForShare({ credits: p.credits, amount: p.amount, share: p.amountRefunded }) - p.alreadyReversed);
}
