import { describe, expect, it } from "vitest";
import { deliveryIdFor, deliveryRequestHash } from "./ids";

const ORG_A = "00000000-0000-4000-8000-00000000000a";
const ORG_B = "00000000-0000-4000-8000-00000000000b";

describe("deliveryIdFor", () => {
  it("is a stable UUID per organisation and key", () => {
    const id = deliveryIdFor(ORG_A, "k-1");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryIdFor(ORG_A, "k-1")).toBe(id);
    expect(deliveryIdFor(ORG_A, "k-2")).not.toBe(id);
    expect(deliveryIdFor(ORG_B, "k-1")).not.toBe(id);
  });
  it("pins the request to campaign and reference", () => {
    expect(deliveryRequestHash("c", null)).toBe(deliveryRequestHash("c", null));
    expect(deliveryRequestHash("c", "r")).not.toBe(deliveryRequestHash("c", null));
    expect(deliveryRequestHash("c", "r")).not.toBe(deliveryRequestHash("d", "r"));
  });
});
