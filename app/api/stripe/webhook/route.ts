// Stripe webhook endpoint: the request goes to lib/webhooks untouched (size and content type are
// checked there, and signatures are over the exact bytes received). Each delivery gets a request
// id (the caller's `x-request-id` when it is a plain token, else a fresh one), echoed in the
// response and carried by the route's log line.
import { randomUUID } from "node:crypto";
import { getDb } from "@/db/client";
import { log } from "@/lib/log";
import { receiveStripeWebhookRequest } from "@/lib/webhooks/receive";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  const given = request.headers.get("x-request-id");
  const requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  const { status, body } = await receiveStripeWebhookRequest(getDb(), request);
  if (status >= 400) log.child({ requestId }).warn({ status }, "webhook delivery refused or failed");
  return Response.json(body, { status, headers: { "x-request-id": requestId } });
}
