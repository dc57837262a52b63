import { describe, expect, it } from "vitest";
import { bearerKey, displayPrefix, generateApiKey, hashApiKey, looksLikeApiKey } from "./keys";

describe("API keys", () => {
  it("are prefixed by mode, unguessable and stored as a SHA-256", () => {
    const a = generateApiKey("test");
    const b = generateApiKey("test");
    expect(a.key).toMatch(/^cl_test_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).toBe(hashApiKey(a.key));
    expect(a.prefix).toBe(displayPrefix(a.key));
    expect(a.prefix).toHaveLength(14);
    expect(generateApiKey("live").key.startsWith("cl_live_")).toBe(true);
    expect(looksLikeApiKey(a.key)).toBe(true);
    expect(looksLikeApiKey(a.key + "x")).toBe(false);
    expect(looksLikeApiKey("sk_test_123")).toBe(false);
  });
  it("are read from a Bearer header only", () => {
    expect(bearerKey("Bearer cl_test_abc")).toBe("cl_test_abc");
    expect(bearerKey("bearer   cl_test_abc ")).toBe("cl_test_abc");
    expect(bearerKey("Basic abc")).toBeNull();
    expect(bearerKey("Bearer")).toBeNull();
    expect(bearerKey("Bearer a b")).toBeNull();
    expect(bearerKey(null)).toBeNull();
  });
});
