"use server";
// Server actions for deliveries (campaigns page demo button), API keys and balance care
// (settings pages). Each binds a definition to the signed-in user; parsing, authorisation and
// error mapping happen in runOrgAction.
import { runOrgAction } from "./org-action";
import { currentUser } from "../auth/session";
import { recordDemoDeliveryDef } from "../deliveries/actions";
import { createApiKeyDef, revokeApiKeyDef } from "../api-keys/actions";
import { saveCardDef, setAutoRechargeDef, setLowBalanceThresholdDef, startCardSetupDef, verifyCardSetupDef } from "../balance-care/actions";

export async function recordDemoDeliveryAction(input: unknown) {
  return runOrgAction(recordDemoDeliveryDef, await currentUser(), input);
}

export async function createApiKeyAction(input: unknown) {
  return runOrgAction(createApiKeyDef, await currentUser(), input);
}

export async function revokeApiKeyAction(input: unknown) {
  return runOrgAction(revokeApiKeyDef, await currentUser(), input);
}

export async function setLowBalanceThresholdAction(input: unknown) {
  return runOrgAction(setLowBalanceThresholdDef, await currentUser(), input);
}

export async function saveCardAction(input: unknown) {
  return runOrgAction(saveCardDef, await currentUser(), input);
}

export async function setAutoRechargeAction(input: unknown) {
  return runOrgAction(setAutoRechargeDef, await currentUser(), input);
}

export async function startCardSetupAction(input: unknown) {
  return runOrgAction(startCardSetupDef, await currentUser(), input);
}

export async function verifyCardSetupAction(input: unknown) {
  return runOrgAction(verifyCardSetupDef, await currentUser(), input);
}
