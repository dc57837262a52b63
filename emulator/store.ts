// All emulator state in one serialisable object, persisted to a JSON file (atomic write: temp
// file + rename, debounced, flushed on close) so it survives restarts. With no file it lives in
// memory only (tests). Stripe objects are stored with the installed SDK's types, so a change of
// the API's shapes fails type-checking here instead of drifting silently.
import fs from "node:fs";
import path from "node:path";
import Stripe from "stripe";

export type Delivery = {
  id: string;
  eventId: string;
  endpointId: string;
  attempt: number;
  dueAt: number; // wall-clock ms
  state: "pending" | "delivered" | "failed";
};

export type DeliveryAttempt = {
  event_id: string;
  event_type: string;
  endpoint_id: string;
  attempt: number;
  status: number | null;
  ok: boolean;
  error?: string;
  at: number;
};

/** A webhook endpoint; `api_version` null means the account's default version. */
export type Endpoint = { id: string; url: string; secret: string; api_version: string | null };

export type IdempotencyRecord = { fingerprint: string; status: number; body: string; created: number };

export type Chaos = { duplicate: number; reorder: boolean; delayMs: number };

/**
 * Holds matching API requests in flight: `before` waits before the request runs (its
 * idempotency key is already taken), `after` runs it, stores its result, and waits before
 * answering (a slow network). `times` counts down; absent means every matching request.
 */
export type LatencyRule = { method: string | null; path: string | null; delayMs: number; phase: "before" | "after"; times: number | null };

/** Something the emulator's clock will do later (emulator-clock milliseconds). */
export type ScheduledTask = { id: string; dueAtMs: number; kind: "settle_processing"; paymentIntent: string; outcome: "succeed" | "fail" };

export type State = {
  clockOffset: number;
  /** The account's default API version: events are rendered with it (and endpoints may override). */
  apiVersion: string;
  /** How long a `processing` payment takes to settle, on the emulator's clock. */
  processingDelaySeconds: number;
  customers: Record<string, Stripe.Customer>;
  paymentIntents: Record<string, Stripe.PaymentIntent>;
  charges: Record<string, Stripe.Charge>;
  refunds: Record<string, Stripe.Refund>;
  disputes: Record<string, Stripe.Dispute>;
  paymentMethods: Record<string, Stripe.PaymentMethod>;
  /** Which test payment method (pm_card_visa, …) each created PaymentMethod was made from. */
  paymentMethodSources: Record<string, string>;
  /** SetupIntents (resources/setup-intents.ts): saving a card for off-session payments. */
  setupIntents: Record<string, Stripe.SetupIntent>;
  events: Stripe.Event[]; // oldest first
  outbox: Delivery[];
  attempts: DeliveryAttempt[];
  endpoints: Endpoint[];
  idempotency: Record<string, IdempotencyRecord>;
  chaos: Chaos;
  latency: LatencyRule[];
  scheduled: ScheduledTask[];
  // Billing (emulator/billing/): products, prices, subscriptions, invoices, test clocks, portal.
  // Built with `satisfies Wire<Stripe.X>` (resources/wire.ts: decimals as the strings the wire carries).
  products: Record<string, Json>;
  prices: Record<string, Json>;
  subscriptions: Record<string, Json>;
  invoices: Record<string, Json>;
  testClocks: Record<string, Json>;
  portalSessions: Record<string, Json>;
  subscriptionSchedules: Record<string, Json>;
  billing: BillingState;
  /** Checkout Sessions (resources/checkout-sessions.ts), and what each sells (not part of the object). */
  checkoutSessions: Record<string, Json>;
  checkoutSessionExtras: Record<string, CheckoutSessionExtras>;
  /** Billing Meters (resources/meters.ts) and the meter events recorded for them. */
  meters: Record<string, Json>;
  meterEvents: StoredMeterEvent[];
};

/** A recorded meter event (what summaries and renewal invoices sum). `created` on the emulator clock. */
export type StoredMeterEvent = { identifier: string; eventName: string; meter: string; customer: string; value: number; timestamp: number; created: number };

export type CheckoutSessionExtras = {
  lines: { price: string | null; name: string; unitAmount: number; currency: string; quantity: number }[];
  paymentIntentMetadata: Record<string, string>;
  subscriptionData: { metadata: Record<string, string>; trialPeriodDays: number | null };
};

/** A Stripe object as plain JSON (billing objects; see State). */
export type Json = Record<string, unknown>;

/** Emulator-internal billing bookkeeping that is not part of any Stripe object. */
export type BillingState = {
  settings: { retryDays: number[]; afterRetries: "cancel" | "unpaid" | "past_due"; upcomingDays: number; finalizeDelaySeconds: number };
  subscriptions: Record<
    string,
    {
      pendingItems: Json[];
      upcomingSentFor: number | null;
      trialWillEndSentFor: number | null;
      pendingUpdateInvoice?: string | null;
      /** Metered item id → when its current price started counting usage (billing/metering.ts). */
      meteredSince?: Record<string, number>;
    }
  >;
  /** Per invoice: the last charge of its PaymentIntent already accounted for (paid / failed). */
  invoices: Record<string, { seenCharge: string | null }>;
};

export const defaultBillingState = (): BillingState => ({
  settings: { retryDays: [3, 2, 2], afterRetries: "cancel", upcomingDays: 7, finalizeDelaySeconds: 3600 },
  subscriptions: {},
  invoices: {},
});

export const DEFAULT_PROCESSING_DELAY_SECONDS = 5;

export const emptyState = (apiVersion: string = Stripe.API_VERSION): State => ({
  clockOffset: 0,
  apiVersion,
  processingDelaySeconds: DEFAULT_PROCESSING_DELAY_SECONDS,
  customers: {},
  paymentIntents: {},
  charges: {},
  refunds: {},
  disputes: {},
  paymentMethods: {},
  paymentMethodSources: {},
  setupIntents: {},
  events: [],
  outbox: [],
  attempts: [],
  endpoints: [],
  idempotency: {},
  chaos: { duplicate: 0, reorder: false, delayMs: 0 },
  latency: [],
  scheduled: [],
  products: {},
  prices: {},
  subscriptions: {},
  invoices: {},
  testClocks: {},
  portalSessions: {},
  subscriptionSchedules: {},
  billing: defaultBillingState(),
  checkoutSessions: {},
  checkoutSessionExtras: {},
  meters: {},
  meterEvents: [],
});

export class Store {
  state: State;
  /** Counts writes to Stripe objects; a request that wrote nothing had no side effect. */
  writes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string | null,
    private readonly defaultApiVersion: string = Stripe.API_VERSION,
  ) {
    const loaded = file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Partial<State>) : {};
    this.state = { ...emptyState(defaultApiVersion), ...loaded };
    for (const ep of this.state.endpoints) ep.api_version ??= null;
  }

  /** Records a write to a Stripe object (for idempotency: errors after a write are replayed). */
  wrote(): void {
    this.writes++;
    this.changed();
  }

  /** Schedules a write; many changes in a burst produce one write. */
  changed(): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => this.flush(), 50);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state));
    fs.renameSync(tmp, this.file);
  }

  reset(): void {
    this.state = emptyState(this.defaultApiVersion);
    this.changed();
  }
}
