// Ids shaped like Stripe's: a prefix and 24 random alphanumerics.
import { randomInt } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

export function randomToken(length = 24): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomToken()}`;
}
