import type { TopUpQuote } from "@/lib/topups/quote";
import type { StartedTopUp } from "@/lib/topups/start";

export type PackOption = { id: string; name: string; credits: number; amount: number; currency: string };
export type Quote = TopUpQuote;
export type Checkout = StartedTopUp;
