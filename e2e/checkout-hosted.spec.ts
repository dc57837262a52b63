// The hosted checkout path in Chromium (issue 7 part 10): a pack and a plan paid on Stripe
// Checkout's page (the emulator's), then back on our pages. The suite's server runs with the
// default embedded checkout; a preview deployment (this one) also takes `?checkout=hosted` on the
// top-up and plan pages (lib/checkout/mode.ts — never in production), which is how both paths
// are driven on one server. Runs last (its own Playwright project, after every other spec): it
// puts Acme on a plan and adds to its balance, which the other stories assert on.
import { expect, test, type Page } from "@playwright/test";
import { creditsText, shot, signIn } from "./pages";

async function headerBalance(page: Page): Promise<number> {
  await expect(page.getByTestId("header-balance")).toBeVisible();
  return Number((await page.getByTestId("header-balance").innerText()).replace(/[^0-9]/g, ""));
}

test("pack via Checkout: card on Stripe's page → back on the settling page → credits visible", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/billing/top-up?checkout=hosted");
  const before = await headerBalance(page);
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByRole("button", { name: /^pay$/i }).click();

  // Stripe Checkout (the emulator's hosted page): a declined card first, then one that pays.
  await expect(page).toHaveURL(/\/c\/pay\/cs_test_/);
  await expect(page.getByRole("heading", { name: "Checkout" })).toBeVisible();
  await page.getByLabel(/declined card/i).check();
  await page.getByRole("button", { name: /^pay$/i }).click();
  await expect(page.getByRole("alert")).toContainText(/declined/i);
  await shot(page, "30-checkout-declined");
  await page.getByLabel(/payment succeeds/i).check();
  await page.getByRole("button", { name: /^pay$/i }).click();

  await expect(page).toHaveURL(/\/orgs\/acme\/billing\/purchases\/[0-9a-f-]+\?session_id=cs_test_/);
  await expect(page.getByTestId("settling-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(page.getByTestId("settling-status")).toContainText(creditsText(500));
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(before + 500));
  await shot(page, "31-checkout-pack-settled");
});

test("plan via Checkout: Start on the plan page → pay on Stripe's page → the plan is active with its credits", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/billing/plan?checkout=hosted");
  const before = await headerBalance(page);
  await page.getByRole("radio", { name: "Monthly" }).click();
  await page.getByTestId("plan-growth").getByRole("button", { name: /start growth/i }).click();

  await expect(page).toHaveURL(/\/c\/pay\/cs_test_/);
  await expect(page.getByText("99.00 USD").first()).toBeVisible();
  await page.getByLabel(/payment succeeds/i).check();
  await page.getByRole("button", { name: /subscribe/i }).click();

  await expect(page).toHaveURL(/\/orgs\/acme\/billing\/plan\?checkout=complete&session_id=cs_test_/);
  await expect(page.getByTestId("current-plan")).toHaveAttribute("data-status", "active", { timeout: 30_000 });
  await expect(page.getByTestId("plan-credits")).toContainText(creditsText(4000));
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(before + 4000));
  await shot(page, "32-checkout-plan-active");
});
