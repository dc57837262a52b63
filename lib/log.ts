// Structured logs (pino, JSON lines on stdout). Every log line names what it is about with the
// ids a person needs to follow a payment: eventId, purchaseId, invoiceId, requestId, orgId.
// Use `log.child({ requestId })` to carry an id through a request or job.
import pino from "pino";

export const log = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" || process.env.VITEST ? "warn" : "info"),
  base: { service: "creditloop" },
  // Errors under `err` keep their message, type and stack.
  serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  redact: { paths: ["password", "*.password", "clientSecret", "*.clientSecret", "client_secret", "*.client_secret"], remove: true },
});

export type Logger = typeof log;
