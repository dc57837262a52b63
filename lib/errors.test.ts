// The generic messages are shown after errors that may follow a successful charge (a confirm
// whose settlement failed, a database outage mid-payment): they must never claim that nothing
// was charged.
import { describe, expect, it } from "vitest";
import { GENERIC_ERROR_MESSAGE } from "./errors";
import { DB_UNAVAILABLE_MESSAGE } from "./db-errors";

describe("generic error messages", () => {
  it.each([GENERIC_ERROR_MESSAGE, DB_UNAVAILABLE_MESSAGE])("never say nothing was charged: %s", (message) => {
    expect(message).not.toMatch(/nothing was charged|no payment was taken/i);
    expect(message).toMatch(/try again/i);
  });
});
