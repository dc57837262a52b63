// next-auth configuration: email + password against the users table (throttled, in
// lib/auth/sign-in.ts), JWT sessions that carry only the user id (roles are always read fresh
// from the database), and redirects that never leave the site.
import type { NextAuthOptions } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "@/db/client";
import { safeRedirectPath } from "./redirect";
import { signInWithPassword } from "./sign-in";
import { clientAddress, SIGN_IN_THROTTLED } from "./sign-in-throttle";
import { signInAllowedFor } from "../deployment";

const credentialsSchema = z.object({ email: z.string().trim().toLowerCase().email().max(254), password: z.string().min(1).max(200) });

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
  pages: { signIn: "/signin" },
  providers: [
    Credentials({
      name: "Email",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, req) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) return null;
        // Seeded demo accounts sign in only on dev/preview deployments (lib/deployment.ts).
        if (!signInAllowedFor(parsed.data.email, process.env)) return null;
        const outcome = await signInWithPassword(getDb(), { ...parsed.data, address: clientAddress(req?.headers) });
        if (outcome.ok) return outcome.user;
        // Thrown messages reach the client as `error`; a wrong email and a wrong password are
        // the same null.
        if (outcome.reason === "throttled") throw new Error(SIGN_IN_THROTTLED);
        return null;
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) token.uid = user.id;
      return token;
    },
    session({ session, token }) {
      if (session.user && typeof token.uid === "string") (session.user as { id?: string }).id = token.uid;
      return session;
    },
    redirect({ url, baseUrl }) {
      return baseUrl + safeRedirectPath(url, baseUrl);
    },
  },
};
