import { describe, expect, it } from "vitest";
import { authOptions } from "./options";

const redirect = (url: string) => authOptions.callbacks!.redirect!({ url, baseUrl: "http://localhost:3000" });

describe("next-auth redirect callback", () => {
  it("keeps paths and same-origin URLs, sends everything else home", async () => {
    expect(await redirect("/orgs/acme/billing")).toBe("http://localhost:3000/orgs/acme/billing");
    expect(await redirect("http://localhost:3000/orgs/acme?x=1")).toBe("http://localhost:3000/orgs/acme?x=1");
    for (const bad of ["https://evil.com/", "//evil.com", "/\\evil.com", "/\t/evil.com", "/%5Cevil.com", "http://localhost:3000//evil.com", "javascript:alert(1)"]) {
      expect(await redirect(bad), bad).toBe("http://localhost:3000/");
    }
  });
});
