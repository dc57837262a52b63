// All emulator state in one serialisable object, persisted to a JSON file (atomic write: temp
// file + rename, debounced, flushed on close) so it survives restarts. With no file it lives in
// memory only (tests).
import fs from "node:fs";
import path from "node:path";

export type Json = Record<string, unknown>;

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

export type Endpoint = { id: string; url: string; secret: string };

export type IdempotencyRecord = { fingerprint: string; status: number; body: string; created: number };

export type Chaos = { duplicate: number; reorder: boolean; delayMs: number };

export type State = {
  clockOffset: number;
  customers: Record<string, Json>;
  paymentIntents: Record<string, Json>;
  charges: Record<string, Json>;
  events: Json[]; // oldest first
  outbox: Delivery[];
  attempts: DeliveryAttempt[];
  endpoints: Endpoint[];
  idempotency: Record<string, IdempotencyRecord>;
  chaos: Chaos;
};

export const emptyState = (): State => ({
  clockOffset: 0,
  customers: {},
  paymentIntents: {},
  charges: {},
  events: [],
  outbox: [],
  attempts: [],
  endpoints: [],
  idempotency: {},
  chaos: { duplicate: 0, reorder: false, delayMs: 0 },
});

export class Store {
  state: State;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string | null) {
    this.state = file && fs.existsSync(file) ? { ...emptyState(), ...JSON.parse(fs.readFileSync(file, "utf8")) } : emptyState();
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
    this.state = emptyState();
    this.changed();
  }
}
