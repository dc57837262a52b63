// A bench-only Next app (not part of the product): one route that only verifies a Stripe
// signature, built with the project's own node_modules (same next and stripe versions).
import path from "node:path";
import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  turbopack: { root: path.resolve(import.meta.dirname, "../..") },
};

export default nextConfig;
