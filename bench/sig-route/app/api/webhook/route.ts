// The framework's ceiling for the webhook benchmark: a route that reads the raw body and verifies
// its Stripe signature with the same `stripe` SDK, and does nothing else (no database).
import Stripe from "stripe";

export const dynamic = "force-dynamic";

const stripe = new Stripe("sk_test_bench_signature_only", { apiVersion: Stripe.API_VERSION });
const secret = process.env.STRIPE_WEBHOOK_SECRET ?? "";

export async function POST(request: Request): Promise<Response> {
  const rawBody = await request.text();
  try {
    const event = stripe.webhooks.constructEvent(rawBody, request.headers.get("stripe-signature") ?? "", secret);
    return Response.json({ received: true, id: event.id });
  } catch {
    return Response.json({ error: "invalid signature" }, { status: 400 });
  }
}
