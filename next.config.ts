import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Pages only: API and background work run in the custom server (src/server/http/server.ts).
  // Types are checked by `npm run typecheck`; the build need not do it again.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  devIndicators: false,
};

export default nextConfig;
