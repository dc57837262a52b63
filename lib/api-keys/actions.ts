// Definitions of the API key server actions (bound in lib/actions/api-key-actions.ts): admins
// create (the key is in the answer once, never again) and revoke keys of their organisation.
import { z } from "zod";
import { defineOrgAction, orgSlugField } from "../actions/org-action";
import { expectedLivemode } from "../stripe/client";
import { createApiKey, revokeApiKey } from "./service";

export const createApiKeyDef = defineOrgAction({
  name: "createApiKey",
  role: "admin",
  schema: z.object({
    orgSlug: orgSlugField,
    name: z
      .string()
      .trim()
      .min(1, "Name the key (e.g. the system that uses it).")
      .max(60, "Key names are at most 60 characters.")
      .regex(/^[\p{L}\p{N} ._\-()/]+$/u, "Use letters, digits, spaces and . _ - ( ) / only."),
  }),
  handler: async ({ db, access, input }) => {
    const { key, apiKey } = await createApiKey(db, { orgId: access.org.id, name: input.name, userId: access.user.id, mode: expectedLivemode() ? "live" : "test" });
    return { key, id: apiKey.id, prefix: apiKey.prefix, name: apiKey.name };
  },
});

export const revokeApiKeyDef = defineOrgAction({
  name: "revokeApiKey",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, keyId: z.string().uuid() }),
  handler: async ({ db, access, input }) => {
    const k = await revokeApiKey(db, { orgId: access.org.id, keyId: input.keyId, userId: access.user.id });
    return { id: k.id, revokedAt: k.revokedAt?.toISOString() ?? null };
  },
});
