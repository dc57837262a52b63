// Page objects for the end-to-end stories: what a person does, not how the DOM is built.
import { expect, type Page } from "@playwright/test";
import { PORTS } from "../scripts/ports";

export const DEMO_PASSWORD = "creditloop-demo";

/** The e2e server's Stripe emulator (scripts/dev.ts, e2e profile). */
export const EMULATOR_URL = `http://127.0.0.1:${PORTS.e2eEmulator}`;

export async function signIn(page: Page, email: string) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByTestId("header-balance")).toBeVisible();
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

export function creditsText(n: number) {
  return new Intl.NumberFormat("en-US").format(n);
}

/** Staff have no organisation of their own: they land on the operations page. */
export async function signInStaff(page: Page) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill("staff@creditloop.test");
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page).toHaveURL(/\/staff$/);
}
