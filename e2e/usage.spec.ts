// Issue 8's story in Chromium against `next start`, on Acme Outdoor after top-up.spec.ts has
// topped it up (its exact balance is read, not assumed; later specs do not look at Acme's
// balance): the Acme admin sets a low-balance warning, creates an API key (shown once), the
// platform records deliveries through the API with it, the demo button records the last ones until
// the balance cannot cover one and the campaign pauses; the warning, the notice, the chart and the
// forecast show; a top-up resumes the campaign; a revoked key is refused.
import { expect, test } from "@playwright/test";
import { creditsText, shot, signIn } from "./pages";

test.describe.configure({ mode: "serial" });

test("deliveries drain the balance, the campaign pauses, a top-up resumes it", async ({ page, request }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/billing");
  const start = Number((await page.getByTestId("balance").textContent())!.replace(/[^0-9]/g, ""));
  expect(start).toBeGreaterThanOrEqual(400);
  const cost = 80; // "Creator unboxing series"
  const viaApi = Math.floor(start / cost) - 2; // the API leaves two deliveries for the button
  const afterApi = start - viaApi * cost;

  // Low-balance warning at 300 credits.
  await page.goto("/orgs/acme/settings/balance");
  await page.getByTestId("low-balance-threshold").fill("300");
  await page.getByTestId("save-low-balance").click();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();

  // An API key, shown once.
  await page.goto("/orgs/acme/settings/api-keys");
  await page.getByTestId("api-key-name").fill("Delivery platform");
  await page.getByTestId("create-api-key").click();
  const key = (await page.getByTestId("new-api-key-value").textContent())!.trim();
  expect(key).toMatch(/^cl_test_[A-Za-z0-9_-]{43}$/);
  await shot(page, "20-api-key-created");
  await page.reload();
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  await expect(page.getByText(key)).toHaveCount(0);

  // The platform records deliveries through the API until two are left.
  await page.goto("/orgs/acme/campaigns");
  const row = page.locator('[data-testid="campaign-row"]', { hasText: "Creator unboxing series" });
  const campaignId = (await row.getByTestId("campaign-id").textContent())!.trim();
  for (let i = 0; i < viaApi; i++) {
    const res = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, {
      headers: { authorization: `Bearer ${key}`, "idempotency-key": `e2e-${i}` },
      data: { reference: `post-${i}` },
    });
    expect(res.status()).toBe(201);
  }
  // A retry of the last one is answered again and debits nothing.
  const retry = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, {
    headers: { authorization: `Bearer ${key}`, "idempotency-key": `e2e-${viaApi - 1}` },
    data: { reference: `post-${viaApi - 1}` },
  });
  expect(retry.status()).toBe(201);
  expect(retry.headers()["idempotent-replayed"]).toBe("true");
  expect((await retry.json()).delivery.balance_after).toBe(afterApi);

  await page.reload();
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(afterApi));
  await expect(page.getByTestId("low-balance-banner")).toBeVisible();
  await expect(page.getByTestId("low-balance-banner")).toContainText(/At the last 7 days' pace, credits last/);

  // The demo button records the last two, then the balance cannot cover one: refused, paused.
  await row.getByTestId("record-delivery").click();
  await expect(page.getByTestId("header-balance")).toHaveText(creditsText(afterApi - cost));
  await row.getByTestId("record-delivery").click();
  await expect(page.getByTestId("header-balance")).toHaveText(creditsText(afterApi - 2 * cost));
  await row.getByTestId("record-delivery").click();
  await expect(row.getByTestId("delivery-message")).toContainText(/does not cover this delivery/i);
  await expect(row).toHaveAttribute("data-status", "paused");
  await expect(row).toHaveAttribute("data-pause-reason", "insufficient_credits");
  await expect(row.getByTestId("campaign-spend")).toContainText(`Spent ${creditsText((viaApi + 2) * cost)} credits`);
  await expect(page.getByTestId("paused-notice")).toBeVisible();
  await shot(page, "21-campaign-paused-for-credits");

  // The API refuses too, with the documented error.
  const refused = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, { headers: { authorization: `Bearer ${key}`, "idempotency-key": "e2e-after" }, data: {} });
  expect(refused.status()).toBe(402);
  expect(await refused.json()).toEqual({ error: { code: "insufficient_credits", message: expect.any(String) } });

  await page.goto("/orgs/acme/billing");
  await expect(page.getByTestId("balance")).toHaveText(creditsText(afterApi - 2 * cost));
  await expect(page.getByTestId("usage-chart")).toContainText(`${creditsText((viaApi + 2) * cost)} credits out`);
  await expect(page.locator('[data-testid="notices"] li[data-kind="low_balance"]')).toHaveCount(1);
  await expect(page.getByTestId("forecast")).toContainText(/At the last 7 days' pace|Credits are used up/);
  await shot(page, "22-billing-low-balance");

  // A top-up resumes the campaign.
  await page.goto("/orgs/acme/billing/top-up");
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/payment succeeds/i).click();
  await page.getByRole("button", { name: /^pay /i }).click();
  await expect(page.getByTestId("settling-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await page.goto("/orgs/acme/campaigns");
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("header-balance")).toHaveText(creditsText(afterApi - 2 * cost + 500));
  await expect(page.getByTestId("paused-notice")).toHaveCount(0);
  await shot(page, "23-campaign-resumed");

  // Revoking the key: the API refuses it from then on.
  await page.goto("/orgs/acme/settings/api-keys");
  await page.locator('[data-testid="api-key-row"]', { hasText: "Delivery platform" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator('[data-testid="api-key-row"][data-revoked="true"]', { hasText: "Delivery platform" })).toHaveCount(1);
  const revoked = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, { headers: { authorization: `Bearer ${key}`, "idempotency-key": "e2e-revoked" }, data: {} });
  expect(revoked.status()).toBe(401);
  expect((await revoked.json()).error.code).toBe("unauthenticated");
});

// Saving a card for auto-recharge in emulator mode (the test-card picker; with a publishable key
// the same form is Stripe Elements): a card saves through a SetupIntent, a declined card changes
// nothing and says why (also after a reload), an admin's top-up with "save this card" replaces it
// once paid, and auto-recharge can be turned on with it. It is turned off again at the end, so
// later specs see no automatic purchases on Acme.
test("an admin saves a card for auto-recharge; a declined card saves nothing and says why; a top-up can save its card", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/settings/balance");
  await page.getByText("Saves, then every charge is declined").click();
  await page.getByTestId("save-card").click();
  await expect(page.getByText(/Card saved \(visa •••• 0341\)/)).toBeVisible();
  await expect(page.getByTestId("saved-card")).toHaveText("visa •••• 0341");

  await page.getByText("Declined when saving").click();
  await page.getByTestId("save-card").click();
  await expect(page.getByRole("alert").filter({ hasText: /declined/i }).first()).toBeVisible();
  await expect(page.getByTestId("save-card")).toBeEnabled();
  await page.reload();
  await expect(page.getByTestId("saved-card")).toHaveText("visa •••• 0341");
  await expect(page.getByTestId("card-setup-failed")).toContainText(/declined/i);
  await shot(page, "24-card-setup-failed");

  // A top-up that saves its card (setup_future_usage): once paid, it is the saved card.
  await page.goto("/orgs/acme/billing/top-up");
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByTestId("save-card-for-auto-recharge").check();
  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/payment succeeds/i).click();
  await page.getByRole("button", { name: /^pay /i }).click();
  await expect(page.getByTestId("settling-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await page.goto("/orgs/acme/settings/balance");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("saved-card")).toHaveText("visa •••• 4242", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId("card-setup-failed")).toHaveCount(0);

  await page.getByTestId("auto-recharge-enabled").check();
  await page.getByTestId("auto-recharge-threshold").fill("200");
  await page.getByTestId("save-auto-recharge").click();
  await expect(page.getByText("Auto-recharge is on.", { exact: true })).toBeVisible();
  await page.getByTestId("auto-recharge-enabled").uncheck();
  await page.getByTestId("save-auto-recharge").click();
  await expect(page.getByText("Auto-recharge is off.", { exact: true })).toBeVisible();
});

// A save that never reaches the server (the network drops) says so and can be tried again; the
// threshold saved is the one already set, so later specs see no change.
test("a low-balance warning that cannot be saved offline says so, and saves on a retry", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/settings/balance");
  const current = await page.getByTestId("low-balance-threshold").inputValue();
  await page.getByTestId("low-balance-threshold").fill(current);

  await page.context().setOffline(true);
  await page.getByTestId("save-low-balance").click();
  await expect(page.getByRole("alert").filter({ hasText: /couldn't save/i })).toBeVisible();
  await shot(page, "25-low-balance-offline");
  await page.context().setOffline(false);

  await expect(page.getByTestId("save-low-balance")).toBeEnabled();
  await page.getByTestId("save-low-balance").click();
  await expect(page.getByRole("status").filter({ hasText: current ? /^Saved\.$/ : /turned off/ })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /couldn't save/i })).toHaveCount(0);
});

// The same for the auto-recharge settings (the card's own save reloads on purpose: its message
// asks the user to, since the card may have been saved). Saved as they are, so nothing changes.
test("auto-recharge settings that cannot be saved offline say so, and save on a retry", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/settings/balance");
  const on = await page.getByTestId("auto-recharge-enabled").isChecked();
  const threshold = (await page.getByTestId("auto-recharge-threshold").inputValue()) || "200";
  await page.getByTestId("auto-recharge-threshold").fill(threshold);

  await page.context().setOffline(true);
  await page.getByTestId("save-auto-recharge").click();
  const offline = page.getByRole("alert").filter({ hasText: /couldn't reach the server/i });
  await expect(offline).toBeVisible();
  await page.waitForTimeout(1000);
  await page.context().setOffline(false);
  // Still the same page: the message and what was typed are there (no reload behind them).
  await expect(offline).toBeVisible();
  await expect(page.getByTestId("auto-recharge-threshold")).toHaveValue(threshold);

  await expect(page.getByTestId("save-auto-recharge")).toBeEnabled();
  await page.getByTestId("save-auto-recharge").click();
  await expect(page.getByText(on ? "Auto-recharge is on." : "Auto-recharge is off.", { exact: true })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /couldn't reach the server/i })).toHaveCount(0);
});
