// Stripe webhook endpoint: the request goes to lib/webhooks untouched (size and content type are
// checked there, and signatures are over the exact bytes received).
import { getDb } from "@/db/client";
import { receiveStripeWebhookRequest } from "@/lib/webhooks/receive";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  const { status, body } = await receiveStripeWebhookRequest(getDb(), request);
  return Response.json(body, { status });
}
