// Stripe objects as they travel over the wire, for typing the emulator's JSON with the installed
// SDK's types: `{…} satisfies Wire<Stripe.Subscription>`. The SDK turns decimal strings into its
// Decimal class on the way in, so on the wire those fields are strings; everything else is as typed.
import type Stripe from "stripe";

type Prim = string | number | boolean | bigint | symbol | null | undefined;

export type Wire<T> = T extends Stripe.Decimal
  ? string
  : T extends Prim
    ? T
    : T extends readonly (infer U)[]
      ? Wire<U>[]
      : { [K in keyof T]: Wire<T[K]> };
