// Issue 8's story in Chromium against `next start` (runs after top-up.spec.ts, which leaves
// Bluebird Coffee at its seeded 800 credits): the Bluebird admin sets a low-balance warning,
// creates an API key (shown once), the platform records deliveries through the API with it, the
// demo button records the last ones until the balance cannot cover one and the campaign pauses;
// the warning, the notice, the chart and the forecast show; a top-up resumes the campaign; a
// revoked key is refused.
import { expect, test } from "@playwright/test";
import { creditsText, shot, signIn } from "./pages";

test.describe.configure({ mode: "serial" });

test("deliveries drain the balance, the campaign pauses, a top-up resumes it", async ({ page, request }) => {
  await signIn(page, "admin@bluebird.test");
  await page.goto("/orgs/bluebird/billing");
  await expect(page.getByTestId("balance")).toContainText(creditsText(800));

  // Low-balance warning at 200 credits.
  await page.goto("/orgs/bluebird/settings/balance");
  await page.getByTestId("low-balance-threshold").fill("200");
  await page.getByTestId("save-low-balance").click();
  await expect(page.getByText("Saved.")).toBeVisible();

  // An API key, shown once.
  await page.goto("/orgs/bluebird/settings/api-keys");
  await page.getByTestId("api-key-name").fill("Delivery platform");
  await page.getByTestId("create-api-key").click();
  const key = (await page.getByTestId("new-api-key-value").textContent())!.trim();
  expect(key).toMatch(/^cl_test_[A-Za-z0-9_-]{43}$/);
  await shot(page, "20-api-key-created");
  await page.reload();
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  await expect(page.getByText(key)).toHaveCount(0);

  // The platform records 18 deliveries (40 credits each) through the API: 800 → 80.
  await page.goto("/orgs/bluebird/campaigns");
  const row = page.locator('[data-testid="campaign-row"]', { hasText: "Morning ritual reels" });
  const campaignId = (await row.getByTestId("campaign-id").textContent())!.trim();
  for (let i = 0; i < 18; i++) {
    const res = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, {
      headers: { authorization: `Bearer ${key}`, "idempotency-key": `e2e-${i}` },
      data: { reference: `post-${i}` },
    });
    expect(res.status()).toBe(201);
  }
  // A retry of the last one is answered again and debits nothing.
  const retry = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, {
    headers: { authorization: `Bearer ${key}`, "idempotency-key": "e2e-17" },
    data: { reference: "post-17" },
  });
  expect(retry.status()).toBe(201);
  expect(retry.headers()["idempotent-replayed"]).toBe("true");
  expect((await retry.json()).delivery.balance_after).toBe(80);

  await page.reload();
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(80));
  await expect(page.getByTestId("low-balance-banner")).toBeVisible();
  await expect(page.getByTestId("low-balance-banner")).toContainText(/At the last 7 days' pace, credits last/);

  // The demo button records the last two, then the balance cannot cover one: refused, paused.
  await row.getByTestId("record-delivery").click();
  await expect(page.getByTestId("header-balance")).toContainText(/^40$/);
  await row.getByTestId("record-delivery").click();
  await expect(page.getByTestId("header-balance")).toContainText(/^0$/);
  await row.getByTestId("record-delivery").click();
  await expect(row.getByTestId("delivery-message")).toContainText(/does not cover this delivery/i);
  await expect(row).toHaveAttribute("data-status", "paused");
  await expect(row).toHaveAttribute("data-pause-reason", "insufficient_credits");
  await expect(row.getByTestId("campaign-spend")).toContainText("Spent 800 credits");
  await expect(page.getByTestId("paused-notice")).toBeVisible();
  await shot(page, "21-campaign-paused-for-credits");

  // The API refuses too, with the documented error.
  const refused = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, { headers: { authorization: `Bearer ${key}`, "idempotency-key": "e2e-after" }, data: {} });
  expect(refused.status()).toBe(402);
  expect(await refused.json()).toEqual({ error: { code: "insufficient_credits", message: expect.any(String) } });

  await page.goto("/orgs/bluebird/billing");
  await expect(page.getByTestId("balance")).toHaveText(/^0$/);
  await expect(page.getByTestId("usage-chart")).toContainText("800 credits out");
  await expect(page.locator('[data-testid="notices"] li[data-kind="low_balance"]')).toHaveCount(1);
  await expect(page.getByTestId("forecast")).toContainText("Credits are used up");
  await shot(page, "22-billing-low-balance");

  // A top-up resumes the campaign.
  await page.goto("/orgs/bluebird/billing/top-up");
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/payment succeeds/i).click();
  await page.getByRole("button", { name: /^pay /i }).click();
  await expect(page.getByTestId("settling-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await page.goto("/orgs/bluebird/campaigns");
  await expect(row).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(500));
  await expect(page.getByTestId("paused-notice")).toHaveCount(0);
  await shot(page, "23-campaign-resumed");

  // Revoking the key: the API refuses it from then on.
  await page.goto("/orgs/bluebird/settings/api-keys");
  await page.locator('[data-testid="api-key-row"]', { hasText: "Delivery platform" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator('[data-testid="api-key-row"][data-revoked="true"]', { hasText: "Delivery platform" })).toHaveCount(1);
  const revoked = await request.post(`/api/v1/campaigns/${campaignId}/deliveries`, { headers: { authorization: `Bearer ${key}`, "idempotency-key": "e2e-revoked" }, data: {} });
  expect(revoked.status()).toBe(401);
  expect((await revoked.json()).error.code).toBe("unauthenticated");
});
