"use server";
// Server actions of the staff console: each binds a definition from lib/staff/actions.ts to the
// signed-in user; the staff check, parsing and error mapping happen in runStaffAction.
import { runStaffAction } from "./staff-action";
import { currentUser } from "../auth/session";
import {
  adjustCreditsDef,
  createCouponDef,
  deactivateCouponDef,
  refundPurchaseDef,
  replayEventDef,
  resyncEventsDef,
  runReconciliationDef,
} from "../staff/actions";

export async function adjustCreditsAction(input: unknown) {
  return runStaffAction(adjustCreditsDef, await currentUser(), input);
}

export async function createCouponAction(input: unknown) {
  return runStaffAction(createCouponDef, await currentUser(), input);
}

export async function deactivateCouponAction(input: unknown) {
  return runStaffAction(deactivateCouponDef, await currentUser(), input);
}

export async function replayEventAction(input: unknown) {
  return runStaffAction(replayEventDef, await currentUser(), input);
}

export async function resyncEventsAction(input: unknown) {
  return runStaffAction(resyncEventsDef, await currentUser(), input);
}

export async function refundPurchaseAction(input: unknown) {
  return runStaffAction(refundPurchaseDef, await currentUser(), input);
}

export async function runReconciliationAction(input: unknown) {
  return runStaffAction(runReconciliationDef, await currentUser(), input);
}
