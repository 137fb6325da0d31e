/**
 * Prototype of a proposed change to src/server/db/client.ts, measured before its owner applies it:
 * `npm run bench -- --pglite-shared-buffers 16MB` loads this module into every process it starts
 * (`--import`, also through NODE_OPTIONS for `npm start`), so the app's own `openDatabase` opens
 * PGlite with that shared_buffers instead of PostgreSQL's default 128MB. Plain JavaScript: it runs
 * before any TypeScript loader.
 */
import process from "node:process";
import { PGlite } from "@electric-sql/pglite";

const sharedBuffers = process.env.BENCH_PGLITE_SHARED_BUFFERS;
if (sharedBuffers) {
  const create = PGlite.create.bind(PGlite);
  const withSharedBuffers = (options = {}) =>
    options.startParams ? options : { ...options, startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${sharedBuffers}`] };
  PGlite.create = (dataDirOrOptions, options) =>
    typeof dataDirOrOptions === "string" ? create(dataDirOrOptions, withSharedBuffers(options)) : create(withSharedBuffers(dataDirOrOptions));
}
