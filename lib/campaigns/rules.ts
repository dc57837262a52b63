// Pure campaign rules.

export type PausedCampaign = { id: string; costPerDelivery: number; pausedAt: Date | null };

/**
 * Which campaigns paused for insufficient credits resume at this balance. Campaigns are taken
 * in the order they were paused; each resumes if the balance still covers its next delivery
 * after the campaigns resumed before it. So a balance that covers one campaign does not wake
 * two that would immediately pause again.
 */
export function campaignsToResume(balance: number, paused: PausedCampaign[]): string[] {
  const ordered = [...paused].sort(
    (a, b) => (a.pausedAt?.getTime() ?? 0) - (b.pausedAt?.getTime() ?? 0) || a.id.localeCompare(b.id),
  );
  const resumed: string[] = [];
  let remaining = balance;
  for (const c of ordered) {
    if (c.costPerDelivery <= remaining) {
      resumed.push(c.id);
      remaining -= c.costPerDelivery;
    }
  }
  return resumed;
}
