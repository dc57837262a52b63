// The platform's delivery API (lib/deliveries/receive.ts has the contract): an organisation API
// key records a delivery of one of its campaigns and pays for it, once per Idempotency-Key.
import { getDb } from "@/db/client";
import { receiveDeliveryRequest } from "@/lib/deliveries/receive";

export const dynamic = "force-dynamic";

export async function POST(request: Request, context: { params: Promise<{ campaignId: string }> }): Promise<Response> {
  const { campaignId } = await context.params;
  return receiveDeliveryRequest(getDb(), request, campaignId);
}
