// Plain JavaScript, not next.config.ts: Next.js compiles a TypeScript config with its native SWC
// module at every start, which stays loaded in the server (~24 MB of RSS; docs/performance.md).
/** @type {import("next").NextConfig} */
const nextConfig = {
  // Pages only: API and background work run in the custom server (src/server/http/server.ts).
  // Types are checked by `npm run typecheck`; the build need not do it again.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  devIndicators: false,
};

export default nextConfig;
