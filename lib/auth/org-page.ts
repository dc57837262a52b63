// For pages under /orgs/[slug]: the signed-in user's access to that organisation, or a 404 that
// looks the same whether the organisation is missing or someone else's.
import "server-only";
import { cache } from "react";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { AppError } from "../errors";
import { requireOrgAccess } from "./access";
import { requireUser } from "./session";

export const orgPageAccess = cache(async (slug: string) => {
  const user = await requireUser();
  try {
    return await requireOrgAccess(getDb(), user, { slug }, "read");
  } catch (e) {
    if (e instanceof AppError) notFound();
    throw e;
  }
});
