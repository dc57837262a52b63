// Handler types, in a leaf module so the dispatcher and the handlers never import each other.
import type Stripe from "stripe";
import type { Tx } from "@/db/client";

/**
 * A handler writes only through `tx`. A Stripe call that must follow its change is a job enqueued
 * through the same `tx` (lib/jobs/queue.ts `enqueue`), so it commits with the change and is
 * retried until done; there are no after-commit callbacks.
 */
export type HandlerResult = { detail: string };
export type Handler<E extends Stripe.Event> = (tx: Tx, event: E) => Promise<HandlerResult>;
