// The story of issue #2, in Chromium against `next start` on a freshly seeded database: the Acme
// admin tops up with a coupon and the test card that succeeds; balance, transactions and the
// paused campaigns update without a reload. Then a declined card that changes nothing.
import { expect, test, type Page } from "@playwright/test";
import postgres from "postgres";
import { PORTS } from "../scripts/ports";
import { creditsText, EMULATOR_URL, shot, signIn, signInStaff } from "./pages";

const EMULATOR_KEY = { authorization: "Bearer sk_test_e2e" };
/** The e2e server's database (scripts/dev.ts, e2e profile), as in e2e/db-outage.spec.ts. */
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${PORTS.e2ePg}/creditloop_e2e`;

test.describe.configure({ mode: "serial" });

test("admin tops up with a coupon; balance rises and paused campaigns resume", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await page.goto("/orgs/acme/billing");
  await expect(page.getByTestId("balance")).toHaveText(/^0\b/);
  await expect(page.getByTestId("paused-notice")).toBeVisible();
  await shot(page, "01-billing-overview-paused");

  await page.goto("/orgs/acme/campaigns");
  await expect(page.locator('[data-testid="campaign-row"][data-pause-reason="insufficient_credits"]')).toHaveCount(2);
  await shot(page, "02-campaigns-paused");

  await page.goto("/orgs/acme/billing");
  await page.getByRole("link", { name: /top up/i }).first().click();
  await expect(page).toHaveURL(/\/orgs\/acme\/billing\/top-up/);
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByLabel(/coupon/i).fill("welcome20");
  await page.getByRole("button", { name: /apply/i }).click();
  await expect(page.getByTestId("quote-discount")).toContainText("$9.80");
  await expect(page.getByTestId("quote-total")).toContainText("$39.20");
  await shot(page, "03-top-up-coupon-applied");

  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/payment succeeds/i).click();
  await shot(page, "04-top-up-card");
  await page.getByRole("button", { name: /pay \$39\.20/i }).click();

  await expect(page).toHaveURL(/\/orgs\/acme\/billing\/purchases\//);
  await expect(page.getByTestId("settling-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(page.getByTestId("settling-status")).toContainText(creditsText(500));
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(500));
  await shot(page, "05-payment-settled");

  await page.goto("/orgs/acme/billing/transactions");
  const rows = page.getByTestId("transaction-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("+500");
  await shot(page, "06-transactions");

  await page.goto("/orgs/acme/campaigns");
  await expect(page.locator('[data-testid="campaign-row"][data-status="active"]')).toHaveCount(2);
  await expect(page.locator('[data-testid="campaign-row"][data-pause-reason="insufficient_credits"]')).toHaveCount(0);
  await shot(page, "07-campaigns-running");

  await page.goto("/orgs/acme/billing");
  await expect(page.getByTestId("balance")).toContainText(creditsText(500));
  await expect(page.getByTestId("paused-notice")).toHaveCount(0);
});

/** Bluebird's admin (signed in) pays for Growth with a card declined for insufficient funds. */
async function declineGrowth(page: Page) {
  await page.goto("/orgs/bluebird/billing/top-up");
  await page.getByText("Growth", { exact: false }).first().click();
  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/insufficient funds/i).click();
  await page.getByRole("button", { name: /^pay /i }).click();
  await expect(page.getByTestId("payment-error")).toContainText(/insufficient funds/i, { timeout: 20_000 });
}

test("a declined card shows why and changes nothing", async ({ page }) => {
  await signIn(page, "admin@bluebird.test");
  await page.goto("/orgs/bluebird/billing");
  await expect(page.getByTestId("balance")).toContainText(creditsText(800));
  await declineGrowth(page);
  await shot(page, "08-declined");

  await page.goto("/orgs/bluebird/billing/transactions");
  await expect(page.getByTestId("transaction-row")).toHaveCount(1); // the seeded welcome bonus only
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(800));
});

test("after a decline, a new payment that cannot start says so on the card screen", async ({ page }) => {
  await signIn(page, "admin@bluebird.test");
  await declineGrowth(page);

  // The next try starts a new payment; with the network gone it cannot, and the card screen says so.
  await page.context().setOffline(true);
  await page.getByRole("button", { name: /^pay /i }).click();
  await expect(page.getByRole("alert").filter({ hasText: /couldn't start the payment/i })).toBeVisible();
  await shot(page, "08a-retry-could-not-start");
  await page.context().setOffline(false);
  await expect(page.getByRole("button", { name: /^pay /i })).toBeEnabled();
  await page.getByRole("button", { name: /^cancel$/i }).click();
  await expect(page.getByRole("button", { name: /continue to payment/i })).toBeEnabled();
});

test("a card that needs 3-D Secure: the member authenticates and the payment settles", async ({ page }) => {
  await signIn(page, "member@acme.test");
  await page.goto("/orgs/acme/billing/top-up");
  await expect(page.getByText(/coupons can be applied by an organisation admin/i)).toBeVisible();
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/3-D Secure authentication required/i).click();
  await page.getByRole("button", { name: /pay \$49\.00/i }).click();
  await expect(page.getByRole("dialog")).toContainText(/confirm this payment/i);
  await shot(page, "08b-3ds-challenge");
  await page.getByRole("button", { name: /complete authentication/i }).click();
  await expect(page.getByTestId("settling-status")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(page.getByTestId("header-balance")).toContainText(creditsText(1000));
});

test("a 3-D Secure check whose purchase closed meanwhile says so and goes back to the card screen", async ({ page }) => {
  await signIn(page, "member@acme.test");
  await page.goto("/orgs/acme/billing/top-up");
  await page.getByText("Starter", { exact: false }).first().click();
  await page.getByRole("button", { name: /continue to payment/i }).click();
  await page.getByText(/3-D Secure authentication required/i).click();
  await page.getByRole("button", { name: /pay \$49\.00/i }).click();
  await expect(page.getByRole("dialog")).toContainText(/confirm this payment/i);

  // The payment is cancelled at Stripe meanwhile (e.g. from elsewhere); its webhook closes the purchase.
  const list = await fetch(`${EMULATOR_URL}/v1/payment_intents?limit=10`, { headers: EMULATOR_KEY });
  const intent = ((await list.json()) as { data: { id: string; status: string }[] }).data.find((pi) => pi.status === "requires_action");
  expect(intent).toBeTruthy();
  const cancelled = await fetch(`${EMULATOR_URL}/v1/payment_intents/${intent!.id}/cancel`, { method: "POST", headers: EMULATOR_KEY });
  expect(cancelled.ok).toBe(true);
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await expect.poll(async () => (await sql`select status from purchases where stripe_payment_intent_id = ${intent!.id}`)[0]?.status, { timeout: 20_000 }).not.toBe("pending");
  } finally {
    await sql.end();
  }

  await page.getByRole("button", { name: /complete authentication/i }).click();
  await expect(page.getByTestId("payment-error")).toContainText(/already finished/i);
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^pay /i })).toBeEnabled();
  await expect(page.getByRole("button", { name: /^cancel$/i })).toBeEnabled();
  await shot(page, "08c-3ds-purchase-closed");
});

test("a member of one organisation cannot see another's billing", async ({ page }) => {
  await signIn(page, "member@acme.test");
  const res = await page.goto("/orgs/bluebird/billing/transactions");
  expect(res?.status()).toBe(404);
  await expect(page.getByText(/800/)).toHaveCount(0);
  await shot(page, "09-other-org-not-found");
});

test("staff see every organisation's balance against its ledger and the webhook log", async ({ page }) => {
  await page.goto("/signin");
  await shot(page, "00-sign-in");
  await signInStaff(page);
  await expect(page.getByRole("heading", { name: /platform operations/i })).toBeVisible();
  await expect(page.getByText("ledger matches")).toHaveCount(2);
  await expect(page.getByText("payment_intent.succeeded").first()).toBeVisible();
  await shot(page, "11-staff");
});

test("pages fit a phone screen", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await signIn(page, "admin@acme.test");
  for (const path of ["/orgs/acme/billing", "/orgs/acme/billing/transactions", "/orgs/acme/billing/top-up", "/orgs/acme/campaigns"]) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
    await shot(page, `10-phone${path.replaceAll("/", "-")}`);
  }
});
