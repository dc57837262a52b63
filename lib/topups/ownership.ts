// Who may confirm or cancel a purchase: the person who started it, or an admin of its
// organisation (the action wrapper has already checked membership of that organisation).
import type { Purchase } from "@/db/schema";
import type { OrgRole } from "../auth/roles";
import { AppError } from "../errors";

export function mayActOnPurchase(purchase: Pick<Purchase, "userId">, actor: { userId: string; role: OrgRole | null }): boolean {
  return purchase.userId === actor.userId || actor.role === "admin";
}

export function assertMayActOnPurchase(purchase: Pick<Purchase, "userId">, actor: { userId: string; role: OrgRole | null }): void {
  if (!mayActOnPurchase(purchase, actor)) throw new AppError("forbidden", "Only the person who started this payment or an organisation admin can do that.");
}
