/**
 * The web process's garbage-collection setting (issue 15: peak RSS under 400 MB through a 50,000-contact
 * import and its campaign on the embedded defaults).
 *
 * By default V8 lets the old generation grow to up to four times what survived the last full
 * collection before it collects again. Sending at delay 0 allocates fast and mostly short-lived
 * objects, so the JavaScript heap reached 360 MB of mostly garbage (94 MB once collected) and the
 * server 622 MB. Growing by a quarter at most keeps the garbage near the live set: 374 MB peak, with
 * no slower sending measured (docs/performance.md, "Big campaigns"). There is no ceiling: a process
 * that really needs more memory still gets it, where --max-old-space-size would crash it.
 *
 * The factor is read at each full collection, so setting it once the process runs takes effect (a
 * command-line flag would be lost to anyone starting the process another way).
 */
import v8 from "node:v8";

export const HEAP_GROWING_PERCENT = 25;

export function useLeanHeap(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
