import { describe, expect, it } from "vitest";
import { classifyDbError, isTransientDbError } from "./db-errors";

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("classifyDbError", () => {
  it.each([
    ["CONNECT_TIMEOUT", "unavailable"],
    ["CONNECTION_CLOSED", "unavailable"],
    ["ECONNREFUSED", "unavailable"],
    ["57P01", "unavailable"],
    ["57P03", "unavailable"],
    ["08006", "unavailable"],
    ["DB_ACQUIRE_TIMEOUT", "unavailable"],
    ["57014", "timeout"],
    ["55P03", "timeout"],
    ["25P03", "timeout"],
    ["DB_OPERATION_TIMEOUT", "timeout"],
    ["40001", "conflict"],
    ["40P01", "conflict"],
  ])("%s → %s", (code, kind) => {
    expect(classifyDbError(withCode(code))).toMatchObject({ kind, code });
  });

  it("finds the driver's error under drizzle's wrapper", () => {
    const wrapped = new Error("Failed query: insert …", { cause: withCode("55P03", "canceling statement due to lock timeout") });
    expect(classifyDbError(wrapped)).toEqual({ kind: "timeout", code: "55P03", message: "canceling statement due to lock timeout" });
  });

  it("leaves rule violations and bugs alone", () => {
    expect(isTransientDbError(withCode("23505"))).toBe(false); // unique_violation
    expect(isTransientDbError(withCode("42883"))).toBe(false); // undefined_function
    expect(isTransientDbError(new TypeError("x is undefined"))).toBe(false);
    expect(isTransientDbError(undefined)).toBe(false);
  });
});
