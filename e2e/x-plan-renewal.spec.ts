// The plan story in Chromium: an admin starts Growth on the Plan page and pays the first invoice
// with the test-card form, sees the plan active and its credits; the emulator's clock moves a
// month on and the renewal's credits appear; cancel at period end, then keep the plan.
// Runs after top-up.spec.ts (files run in name order on one worker): it changes Bluebird's balance.
import { expect, test } from "@playwright/test";
import { creditsText, EMULATOR_URL, shot, signIn } from "./pages";

async function advanceEmulatorClock(seconds: number) {
  const res = await fetch(`${EMULATOR_URL}/_emulator/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ seconds }) });
  expect(res.ok).toBe(true);
}

test("subscribe → a period passes → the renewal's credits are visible; cancel at period end and keep", async ({ page }) => {
  await signIn(page, "admin@bluebird.test");
  await page.goto("/orgs/bluebird/billing/plan");
  await page.getByRole("radio", { name: "Annual" }).click();
  await expect(page.getByTestId("plan-growth")).toContainText(/save \$198\.00/i);
  await page.getByRole("radio", { name: "Monthly" }).click();
  await expect(page.getByTestId("overage-growth")).toContainText(/\$0\.03 a credit/);
  await expect(page.getByTestId("overage-starter")).toContainText(/no overage/i);
  await shot(page, "20-plans");
  await page.getByTestId("plan-growth").getByRole("button", { name: /start growth/i }).click();
  await page.getByRole("button", { name: /pay \$99\.00/i }).click();
  await expect(page.getByTestId("current-plan")).toHaveAttribute("data-status", "active", { timeout: 30_000 });
  await expect(page.getByTestId("plan-credits")).toContainText(creditsText(4000));
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(4800));
  await shot(page, "21-plan-active");
  await page.goto("/orgs/bluebird/billing");
  await expect(page.getByTestId("overage-state")).toHaveText("On");
  await expect(page.getByTestId("overage-usage")).toContainText(/0 credits · \$0\.00/);
  await page.goto("/orgs/bluebird/billing/plan");

  // A month and two hours later (renewals are charged an hour after the period starts).
  await advanceEmulatorClock(31 * 86_400 + 2 * 3600);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("plan-credits")).toContainText(creditsText(8000), { timeout: 1000 });
    // The layout (header) and the page read the database separately within one render; the
    // renewal's webhook may commit between them, so both are checked on the same reload.
    await expect(page.getByTestId("header-balance")).toContainText(creditsText(8800), { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId("invoices").locator("li")).toHaveCount(2);
  await shot(page, "22-plan-renewed");

  await page.getByTestId("cancel-plan").click();
  await expect(page.getByTestId("current-plan")).toContainText(/ends on/i);
  await page.getByTestId("keep-plan").click();
  await expect(page.getByTestId("current-plan")).toContainText(/renews on/i);
});

test("a failing renewal: banner with the grace end → grace passes → campaigns paused for billing → card fixed in the portal → paid → running", async ({ page }) => {
  // Continues the plan started above. The card that attaches but declines every later charge.
  await signIn(page, "admin@bluebird.test");
  await page.goto("/orgs/bluebird/billing/plan");
  await page.getByRole("button", { name: /billing portal/i }).click();
  await page.locator('select[name="payment_method"]').selectOption("pm_card_chargeCustomerFail");
  await page.getByRole("button", { name: /update card/i }).click();
  await page.getByRole("link", { name: /return to/i }).click();
  await expect(page.getByTestId("current-plan")).toHaveAttribute("data-status", "active");

  await advanceEmulatorClock(31 * 86_400 + 2 * 3600);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("past-due-banner")).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId("past-due-banner")).toContainText(/campaigns keep running until/i);
  await shot(page, "23-past-due");
  await page.goto("/orgs/bluebird/campaigns");
  await expect(page.locator('[data-testid="campaign-row"][data-status="active"]')).toHaveCount(1);

  // The grace period (a few seconds in this run) passes: the job pauses the campaigns for billing.
  await expect(async () => {
    await page.reload();
    await expect(page.locator('[data-testid="campaign-row"][data-pause-reason="billing"]')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await shot(page, "24-paused-for-billing");

  await page.goto("/orgs/bluebird/billing");
  await expect(page.getByTestId("past-due-banner")).toContainText(/grace period has ended/i);
  await page.getByRole("button", { name: /update card and pay/i }).click();
  await page.locator('select[name="payment_method"]').selectOption("pm_card_visa");
  await page.getByRole("button", { name: /update card/i }).click();
  await page.getByRole("link", { name: /return to/i }).click();
  await expect(async () => {
    await page.goto("/orgs/bluebird/campaigns");
    await expect(page.locator('[data-testid="campaign-row"][data-status="active"]')).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await page.goto("/orgs/bluebird/billing/plan");
  await expect(page.getByTestId("past-due-banner")).toHaveCount(0);
  await expect(page.getByTestId("current-plan")).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("plan-credits")).toContainText(creditsText(12000));
  await shot(page, "25-paid-running");
});

test("a member sees the plan page but cannot start or change a plan", async ({ page }) => {
  await signIn(page, "member@acme.test");
  await page.goto("/orgs/acme/billing/plan");
  await expect(page.getByTestId("plan-growth")).toBeVisible();
  await expect(page.getByText(/only organisation admins can start a plan/i)).toBeVisible();
  await expect(page.getByRole("button", { name: /start|switch/i })).toHaveCount(0);
});
