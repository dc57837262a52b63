// ESLint 9 flat config: Next's own rules (core web vitals + TypeScript), as `npm run lint` and
// `npm test` run them. Plus the project's rule that logs go through lib/log.ts (pino), not console.
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    ".next/**",
    ".next-preview/**",
    "bench/sig-route/.next/**",
    "bench/sig-route/next-env.d.ts",
    ".data/**",
    "node_modules/**",
    "test-results/**",
    "playwright-report/**",
    "blob-report/**",
    "next-env.d.ts",
  ]),
  {
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring to omit, placeholders).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // A control character in a pattern is a bug unless it is meant (then say so with a disable).
      "no-control-regex": "error",
    },
  },
  {
    // Test code: `useTestDatabase()` and Playwright's `use` are not React hooks, assertions read
    // arbitrary JSON, and hostile-input tests match control characters on purpose.
    files: ["tests/**", "e2e/**", "**/*.test.ts", "**/*.test.tsx", "emulator/test-helpers.ts"],
    rules: { "react-hooks/rules-of-hooks": "off", "@typescript-eslint/no-explicit-any": "off", "no-control-regex": "off" },
  },
  {
    // No React outside app/, components/ and lib/: a `use…` function there is not a hook (the
    // emulator's usePaymentMethod is "use" as in "use this payment method").
    files: ["emulator/**", "scripts/**", "bench/**", "db/**"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
  {
    // Server code logs through lib/log.ts (structured, with ids). Scripts print banners and
    // progress for people, tests and the emulator (its own process) keep console.
    files: ["app/**", "lib/**", "db/**", "instrumentation.ts"],
    ignores: ["**/*.test.ts"],
    rules: { "no-console": "error" },
  },
]);
