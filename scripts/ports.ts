// Every port the project's own processes listen on, in one place. CREDITLOOP_PORT_OFFSET shifts
// them all, so two checkouts on one machine can run their test suites side by side.
const offset = Number(process.env.CREDITLOOP_PORT_OFFSET ?? 0) || 0;

export const PORTS = {
  devPg: 54329 + offset,
  testPg: 54339 + offset,
  benchPg: 54349 + offset,
  e2ePg: 54359 + offset,
  /** tests/integration/db-restart.test.ts stops and starts its own server. */
  restartTestPg: 54369 + offset,
  devEmulator: 12111 + offset,
  e2eEmulator: 12199 + offset,
  e2eApp: 3100 + offset,
  // npm run bench: the product's next start and the bench-only signature route.
  benchApp: 3201 + offset,
  benchSigRoute: 3202 + offset,
} as const;
