"use server";
// Server actions for the Plan page (subscriptions): each binds a definition from
// lib/subscriptions/actions.ts to the signed-in user; parsing, authorisation (admins for every
// change) and error mapping happen in runOrgAction. Every export is a public endpoint and has a
// row in tests/support/action-table.ts.
import { runOrgAction } from "@/lib/actions/org-action";
import { currentUser } from "@/lib/auth/session";
import {
  authenticateSubscriptionPaymentDef,
  cancelScheduledChangeDef,
  changePlanDef,
  confirmSubscriptionTestCardDef,
  openBillingPortalDef,
  previewPlanChangeDef,
  setPlanCancellationDef,
  startPlanCheckoutDef,
  startSubscriptionDef,
  subscriptionStatusDef,
} from "@/lib/subscriptions/actions";

export async function startSubscriptionAction(input: unknown) {
  return runOrgAction(startSubscriptionDef, await currentUser(), input);
}

export async function confirmSubscriptionTestCardAction(input: unknown) {
  return runOrgAction(confirmSubscriptionTestCardDef, await currentUser(), input);
}

export async function authenticateSubscriptionPaymentAction(input: unknown) {
  return runOrgAction(authenticateSubscriptionPaymentDef, await currentUser(), input);
}

export async function subscriptionStatusAction(input: unknown) {
  return runOrgAction(subscriptionStatusDef, await currentUser(), input);
}

export async function previewPlanChangeAction(input: unknown) {
  return runOrgAction(previewPlanChangeDef, await currentUser(), input);
}

export async function changePlanAction(input: unknown) {
  return runOrgAction(changePlanDef, await currentUser(), input);
}

export async function cancelScheduledChangeAction(input: unknown) {
  return runOrgAction(cancelScheduledChangeDef, await currentUser(), input);
}

export async function setPlanCancellationAction(input: unknown) {
  return runOrgAction(setPlanCancellationDef, await currentUser(), input);
}

export async function openBillingPortalAction(input: unknown) {
  return runOrgAction(openBillingPortalDef, await currentUser(), input);
}

export async function startPlanCheckoutAction(input: unknown) {
  return runOrgAction(startPlanCheckoutDef, await currentUser(), input);
}
