// Things the emulator's clock does later (a `processing` payment settling). Tasks live in the
// persisted state with a due time on the emulator's clock; a real-time timer runs them when due,
// and advancing the clock runs every task it passes, in due order, before the advance returns.
import type { Clock } from "./clock";
import { newId } from "./ids";
import type { ScheduledTask, Store } from "./store";

export type TaskRunner = (task: ScheduledTask) => void;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private runner: TaskRunner | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  start(runner: TaskRunner): void {
    this.runner = runner;
    this.stopped = false;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  add(task: Omit<ScheduledTask, "id">): ScheduledTask {
    const t = { id: newId("sched"), ...task };
    this.store.state.scheduled.push(t);
    this.store.changed();
    this.arm();
    return t;
  }

  /** Removes and returns the task for a PaymentIntent (settling it now instead). */
  take(paymentIntent: string): ScheduledTask | undefined {
    const s = this.store.state;
    const i = s.scheduled.findIndex((t) => t.paymentIntent === paymentIntent);
    if (i < 0) return undefined;
    const [t] = s.scheduled.splice(i, 1);
    this.store.changed();
    this.arm();
    return t;
  }

  pending(): ScheduledTask[] {
    return [...this.store.state.scheduled].sort((a, b) => a.dueAtMs - b.dueAtMs);
  }

  /** Runs every task due on the emulator's clock, oldest first. */
  runDue(): number {
    let ran = 0;
    for (;;) {
      const now = this.clock.nowMs();
      const next = this.pending()[0];
      if (!next || next.dueAtMs > now) break;
      this.store.state.scheduled = this.store.state.scheduled.filter((t) => t.id !== next.id);
      this.store.changed();
      this.runner?.(next);
      ran++;
    }
    this.arm();
    return ran;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const next = this.pending()[0];
    if (!next) return;
    const ms = Math.max(0, Math.min(next.dueAtMs - this.clock.nowMs(), 2 ** 31 - 1));
    this.timer = setTimeout(() => this.runDue(), ms);
  }
}
