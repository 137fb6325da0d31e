/**
 * `npm start`: builds the pages when there is no build or their sources changed since, then starts
 * the web process. One command on a fresh clone.
 */
import { buildPages, pagesBuildIsStale } from "./pagesBuild";

const root = process.cwd();
if (pagesBuildIsStale(root)) {
  console.log("Building the pages (first start, or they changed)...");
  try {
    buildPages(root, { show: true });
  } catch {
    process.exit(1);
  }
}
await import("../src/worker/web");
