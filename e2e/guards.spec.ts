// Guard rails seen from the browser: the sign-in never sends anyone off the site whatever the
// callbackUrl says, a failed sign-in never says which part was wrong, and hostile query strings on
// a page are neither executed nor rendered as markup. Changes no balances (runs before the
// top-up story).
import { expect, test } from "@playwright/test";
import { DEMO_PASSWORD, shot } from "./pages";

async function signInVia(page: import("@playwright/test").Page, url: string, email: string, password = DEMO_PASSWORD) {
  await page.goto(url);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: /sign in/i }).click();
}

test("after sign-in, a callbackUrl that leaves the site lands on the home page instead", async ({ page, context, baseURL }) => {
  const home = new URL(baseURL!);
  for (const callback of ["/\\evil.example", "/\t/evil.example", "//evil.example", "https://evil.example/", "/%5Cevil.example", "/.//evil.example", "javascript:alert(1)"]) {
    await context.clearCookies();
    await signInVia(page, `/signin?callbackUrl=${encodeURIComponent(callback)}`, "admin@bluebird.test");
    await expect(page.getByTestId("header-balance")).toBeVisible();
    const now = new URL(page.url());
    expect(now.host, `callbackUrl ${JSON.stringify(callback)}`).toBe(home.host);
    expect(now.pathname).toBe("/orgs/bluebird/billing");
  }
  // A path on the site is honoured.
  await context.clearCookies();
  await signInVia(page, `/signin?callbackUrl=${encodeURIComponent("/orgs/bluebird/campaigns")}`, "admin@bluebird.test");
  await expect(page).toHaveURL(/\/orgs\/bluebird\/campaigns$/);
});

test("a wrong password and an unknown email get the same message", async ({ page }) => {
  await signInVia(page, "/signin", "admin@bluebird.test", "not-the-password");
  const alert = page.locator("form").getByRole("alert");
  await expect(alert).toHaveText("Wrong email or password.");
  await signInVia(page, "/signin", "nobody-here@bluebird.test", "not-the-password");
  await expect(alert).toHaveText("Wrong email or password.");
  await shot(page, "12-sign-in-refused");
});

test("after five failures the account is locked, and the form says so without saying what was wrong", async ({ page }) => {
  // An email with no account: locks work the same for it, so a lock reveals nothing.
  const alert = page.locator("form").getByRole("alert");
  for (let i = 0; i < 5; i++) {
    await signInVia(page, "/signin", "locked-out@nowhere.test", `guess-${i}`);
    await expect(alert).toHaveText("Wrong email or password.");
  }
  await signInVia(page, "/signin", "locked-out@nowhere.test", "guess-5");
  await expect(alert).toHaveText(/too many failed sign-in attempts/i);
  await shot(page, "12b-sign-in-locked");
});

test("hostile query strings on the transactions page are neither run nor rendered", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await signInVia(page, "/signin", "admin@bluebird.test");
  await expect(page.getByTestId("header-balance")).toBeVisible();
  const kind = `<script>window.__pwned=1</script>`;
  const before = `"><img src=x onerror="window.__pwned=1;alert(1)">`;
  const res = await page.goto(`/orgs/bluebird/billing/transactions?kind=${encodeURIComponent(kind)}&before=${encodeURIComponent(before)}`);
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Transactions" })).toBeVisible();
  // Unknown filter values are dropped: the seeded history shows, the filter reads "All types".
  await expect(page.getByTestId("transaction-row")).toHaveCount(1);
  await expect(page.getByLabel("Type")).toHaveValue("");
  const html = await res!.text();
  expect(html).not.toContain("<script>window.__pwned");
  expect(html).not.toContain("<img src=x");
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
  await shot(page, "13-hostile-query");
});
