// The pages' "try again" state in a real browser against the preview build (issue 10): the
// database refuses new connections and every connection of the app is terminated; a page then
// shows the try-again state (not a crash, not a blank page) and the health endpoint says 503.
// Once the database takes connections again, "Try again" loads the page — no restart of the app.
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { PORTS } from "../scripts/ports";
import { shot, signIn } from "./pages";

/** The e2e server's maintenance database and the app's database name (scripts/dev.ts, e2e profile). */
function target(): { adminUrl: string; database: string } {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const u = new URL(external);
    const database = decodeURIComponent(u.pathname.slice(1));
    u.pathname = "/postgres";
    return { adminUrl: u.toString(), database };
  }
  return { adminUrl: `postgres://postgres:postgres@127.0.0.1:${PORTS.e2ePg}/postgres`, database: "creditloop_e2e" };
}

test("when the database drops every connection, pages show a try-again state and recover without a restart", async ({ page }) => {
  const { adminUrl, database } = target();
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const db = admin(database); // identifier
  try {
    await signIn(page, "admin@bluebird.test");
    await expect(page.getByTestId("header-balance")).toBeVisible();
    const billing = page.url();

    await admin`alter database ${db} allow_connections false`;
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`;

    await page.goto(billing);
    await expect(page.getByRole("heading", { name: "Something went wrong" })).toBeVisible();
    await expect(page.getByText(/database may be briefly unavailable/)).toBeVisible();
    await expect(page.getByRole("button", { name: "Try again" })).toBeEnabled();
    await shot(page, "30-database-unavailable");
    expect((await page.request.get("/api/health")).status()).toBe(503);
  } finally {
    await admin`alter database ${db} allow_connections true`;
  }
  try {
    await page.getByRole("button", { name: "Try again" }).click();
    await expect(page.getByTestId("header-balance")).toBeVisible({ timeout: 20_000 });
    await expect.poll(async () => (await page.request.get("/api/health")).status(), { timeout: 10_000 }).toBe(200);
    await shot(page, "31-database-back");
  } finally {
    await admin.end();
  }
});
