// The preview (what these tests run against) says it is a demo on every page, and the app's icon
// is served from public/ and named in the page head.
import { expect, test } from "@playwright/test";

test("the preview is labelled as a demo, and the app icon is served", async ({ page, request }) => {
  await page.goto("/signin");
  await expect(page.getByTestId("demo-banner")).toContainText("Demo preview");
  await expect(page.getByTestId("demo-banner")).toContainText("not a production deployment");
  await expect(page.locator('link[rel="icon"][href="/icon.svg"]')).toHaveCount(1);
  const icon = await request.get("/icon.svg");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toContain("image/svg+xml");
});
