/**
 * The one polling helper of the tests: `waitFor(what, check, { timeoutMs, intervalMs })` calls
 * `check` until it returns a truthy value and returns that value. A `check` that throws counts as
 * "not yet". After `timeoutMs` it fails naming `what`, with the last value seen and the last error.
 */

export interface WaitForOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between two checks. Default 10 ms. */
  intervalMs?: number;
}

function describeValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "function" ? "[function]" : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

export async function waitFor<T>(what: string, check: () => T | Promise<T>, { timeoutMs = 10_000, intervalMs = 10 }: WaitForOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const error = lastError instanceof Error ? lastError.message : lastError === undefined ? null : String(lastError);
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last value: ${describeValue(last)}${error === null ? "" : `; last error: ${error}`})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
