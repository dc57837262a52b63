// The staff console story (issue 9), in Chromium against `next start`. Named to run after the
// other specs: it changes seeded balances and coupons that they assert on.
import { expect, test } from "@playwright/test";
import { creditsText, shot, signIn, signInStaff } from "./pages";

test.describe.configure({ mode: "serial" });

test("staff find an organisation, grant a bonus with a reason, manage a coupon, read the audit log, replay an event and reconcile", async ({ page }) => {
  page.on("dialog", (d) => void d.accept());
  await signInStaff(page);

  await page.getByRole("navigation", { name: "Staff" }).getByRole("link", { name: "Organisations" }).click();
  await page.getByLabel("Search organisations").fill("blue");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByTestId("org-results").getByRole("link", { name: /bluebird/i }).click();
  await expect(page).toHaveURL(/\/staff\/orgs\/bluebird$/);
  // Earlier specs (the plan renewal story) add to Bluebird's seeded 800: work from what is there.
  await expect(page.getByTestId("staff-org-balance")).toContainText(/credits/);
  const before = Number((await page.getByTestId("staff-org-balance").innerText()).replace(/[^0-9]/g, ""));
  expect(before).toBeGreaterThanOrEqual(800);
  const after = before + 200;

  const adjust = page.getByTestId("adjust-form");
  await adjust.getByLabel("Credits", { exact: true }).fill("200");
  await adjust.getByLabel("Reason (required)").fill("Launch goodwill");
  await adjust.getByRole("button", { name: "Record adjustment" }).click();
  await expect(adjust.getByRole("status")).toContainText(`balance now ${after}`);
  await expect(page.getByTestId("staff-org-balance")).toContainText(creditsText(after));
  await expect(page.getByTestId("transaction-row").first()).toContainText("Bonus: Launch goodwill");

  await adjust.getByLabel("Kind").selectOption("correction");
  await adjust.getByLabel("Credits", { exact: true }).fill(String(-(after + 1)));
  await adjust.getByLabel("Reason (required)").fill("Too much");
  await adjust.getByRole("button", { name: "Record adjustment" }).click();
  await expect(adjust.getByRole("alert")).toContainText(/below zero/);
  await expect(page.getByTestId("staff-org-balance")).toContainText(creditsText(after));
  // Bluebird's plan from the plan story (x-plan-renewal.spec.ts, when it ran first) and its
  // invoices from Stripe; run alone, Bluebird has no plan.
  const plan = page.getByTestId("staff-org-plan");
  if ((await plan.getAttribute("data-status")) === "none") {
    await expect(plan).toContainText("No plan.");
  } else {
    await expect(plan).toHaveAttribute("data-status", "active");
    await expect(plan).toContainText("Growth");
    await expect(plan).toContainText("Current period:");
    const invoices = page.getByTestId("staff-org-invoices").locator("li");
    expect(await invoices.count()).toBeGreaterThanOrEqual(2);
    await expect(invoices.first()).toContainText("$99.00");
    await expect(invoices.first()).toContainText("paid");
    await expect(invoices.first().getByRole("link")).toHaveAttribute("href", /^http/);
  }
  await shot(page, "20-staff-org-detail");

  await page.goto("/staff/coupons");
  const form = page.getByTestId("coupon-form");
  await form.getByLabel("Code", { exact: true }).fill("spring30");
  await form.getByLabel("Percent off (1–100)").fill("30");
  await form.getByLabel("Redemption cap (blank: none)").fill("10");
  await form.getByLabel("Once per organisation").check();
  await form.getByRole("button", { name: "Create coupon" }).click();
  await expect(form.getByRole("status")).toContainText("Created SPRING30");
  const item = page.getByTestId("coupon-list").locator("li", { hasText: "SPRING30" });
  await expect(item).toContainText("30% off · cap 10 · once per organisation");
  await item.getByRole("button", { name: "Retire" }).click();
  await expect(item.getByText("retired")).toBeVisible();
  await shot(page, "21-staff-coupons");

  await page.goto("/staff/audit");
  const audit = page.getByTestId("audit-rows");
  await expect(audit).toContainText("coupon.deactivate");
  await expect(audit).toContainText("coupon.create");
  await expect(audit).toContainText("credits.bonus");
  await expect(audit).toContainText("Launch goodwill");
  await shot(page, "22-staff-audit");

  await page.goto("/staff/events?type=payment_intent.succeeded&status=processed");
  const first = page.getByTestId("event-log").locator("li").first();
  await expect(first).toContainText("processed");
  await first.getByRole("button", { name: "Replay" }).click();
  await expect(first.getByRole("status")).toContainText("Replay: duplicate.");
  await shot(page, "23-staff-events");

  // Re-sync is queued as a job; the page shows the run's result once a worker has run it.
  const resync = page.getByTestId("resync-form");
  const since = new Date(Date.now() - 3600_000);
  const local = new Date(since.getTime() - since.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await resync.getByLabel("Since").fill(local);
  await resync.getByRole("button", { name: "Re-sync" }).click();
  await expect(resync.getByRole("status")).toContainText("Queued");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("resync-last-run")).toHaveAttribute("data-state", "done", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId("resync-last-run")).toContainText(/\d+ listed: \d+ processed now, \d+ ignored, \d+ already processed, \d+ failed/);

  await page.goto("/staff/reconciliation");
  await page.getByTestId("reconcile-form").getByRole("button", { name: "Run now" }).click();
  await expect(page.getByTestId("reconcile-form").getByRole("status")).toContainText(/\d+ difference\(s\), \d+ fixed/);
  await expect(page.getByTestId("reconcile-clean")).toBeVisible();
  await shot(page, "24-staff-reconciliation");
});

test("the organisation admin downloads the transactions as CSV; a member gets no console", async ({ page }) => {
  await signIn(page, "admin@bluebird.test");
  await page.goto("/orgs/bluebird/billing/transactions");
  await expect(page.getByTestId("export-csv")).toBeVisible();
  const res = await page.request.get("/orgs/bluebird/billing/transactions/export");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  const csv = await res.text();
  expect(csv.split("\r\n")[0]).toBe("entry_id,created_at,type,description,credits,balance_after,purchase_id");
  expect(csv).toMatch(/Bonus: Launch goodwill,200,\d+/);
  expect((await page.goto("/staff"))?.status()).toBe(404);
  expect((await page.goto("/staff/orgs/bluebird"))?.status()).toBe(404);
});

test("a member cannot download the CSV", async ({ page }) => {
  await signIn(page, "member@acme.test");
  await page.goto("/orgs/acme/billing/transactions");
  await expect(page.getByTestId("export-csv")).toHaveCount(0);
  const res = await page.request.get("/orgs/acme/billing/transactions/export");
  expect(res.status()).toBe(403);
});
