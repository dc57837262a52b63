// Stripe webhook endpoint: the raw body goes to lib/webhooks untouched (signatures are over the
// exact bytes received).
import { getDb } from "@/db/client";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  const rawBody = await request.text();
  const { status, body } = await receiveStripeWebhook(getDb(), rawBody, request.headers.get("stripe-signature"));
  return Response.json(body, { status });
}
