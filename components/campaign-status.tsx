import type { Campaign } from "@/db/schema";
import { Badge } from "./ui";

export function CampaignStatusBadge({ campaign }: { campaign: Pick<Campaign, "status" | "pauseReason"> }) {
  switch (campaign.status) {
    case "active":
      return <Badge tone="green">Active</Badge>;
    case "paused":
      return campaign.pauseReason === "billing" ? <Badge tone="red">Paused — billing</Badge> : <Badge tone="amber">Paused — not enough credits</Badge>;
    case "approved":
      return <Badge tone="indigo">Approved</Badge>;
    case "draft":
      return <Badge tone="slate">Draft</Badge>;
    case "completed":
      return <Badge tone="slate">Completed</Badge>;
    case "cancelled":
      return <Badge tone="slate">Cancelled</Badge>;
  }
}
