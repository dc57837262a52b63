// The demo sign-ins that `npm run dev` and `npm run preview` seed (lib/demo/seed.ts). They exist
// only in dev/preview data: `npm start` refuses a database that holds them, and the sign-in page
// and the credentials provider ignore them unless the deployment allows demo access
// (lib/deployment.ts). The addresses use the reserved `.test` domain, so no real person has one.
export const DEMO_PASSWORD = "creditloop-demo";

export const DEMO_USERS = [
  { email: "admin@acme.test", password: DEMO_PASSWORD, label: "Acme Outdoor — admin (campaigns paused for credits)" },
  { email: "member@acme.test", password: DEMO_PASSWORD, label: "Acme Outdoor — member" },
  { email: "admin@bluebird.test", password: DEMO_PASSWORD, label: "Bluebird Coffee — admin" },
  { email: "staff@creditloop.test", password: DEMO_PASSWORD, label: "Creditloop platform staff" },
] as const;

export const DEMO_EMAILS: readonly string[] = DEMO_USERS.map((u) => u.email);

/** True for an address the demo seed creates (compared case-insensitively, trimmed). */
export function isDemoEmail(email: string): boolean {
  return DEMO_EMAILS.includes(email.trim().toLowerCase());
}
