"use server";
// Server actions for the top-up flow: each binds a definition from lib/topups/actions.ts to the
// signed-in user; parsing, authorisation and error mapping happen in runOrgAction. They live in
// lib/ (not app/) so client components may import them; every export here is a public endpoint
// and needs a row in tests/integration/access-matrix.test.ts.
import { runOrgAction } from "@/lib/actions/org-action";
import { currentUser } from "@/lib/auth/session";
import {
  authenticateTestPaymentDef,
  cancelTopUpDef,
  confirmTestCardDef,
  purchaseStatusDef,
  quoteTopUpDef,
  startTopUpCheckoutDef,
  startTopUpDef,
} from "@/lib/topups/actions";

export async function quoteTopUpAction(input: unknown) {
  return runOrgAction(quoteTopUpDef, await currentUser(), input);
}

export async function startTopUpAction(input: unknown) {
  return runOrgAction(startTopUpDef, await currentUser(), input);
}

export async function confirmTestCardAction(input: unknown) {
  return runOrgAction(confirmTestCardDef, await currentUser(), input);
}

export async function authenticateTestPaymentAction(input: unknown) {
  return runOrgAction(authenticateTestPaymentDef, await currentUser(), input);
}

export async function cancelTopUpAction(input: unknown) {
  return runOrgAction(cancelTopUpDef, await currentUser(), input);
}

export async function purchaseStatusAction(input: unknown) {
  return runOrgAction(purchaseStatusDef, await currentUser(), input);
}

export async function startTopUpCheckoutAction(input: unknown) {
  return runOrgAction(startTopUpCheckoutDef, await currentUser(), input);
}
