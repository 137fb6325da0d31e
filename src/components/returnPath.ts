/**
 * Where the log-in page sends someone back to (`/?next=/campaigns/…`): only a path on this site.
 * Anything else (`//evil.example`, `https://…`, `/\evil`, `javascript:`) falls back to the overview,
 * so a crafted log-in link cannot send a user elsewhere.
 */
export const AFTER_LOG_IN = "/overview";

export function safeReturnPath(next: string | null | undefined, origin = "http://localhost"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return AFTER_LOG_IN;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return AFTER_LOG_IN;
  }
  if (url.origin !== new URL(origin).origin || url.pathname === "/") return AFTER_LOG_IN;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The log-in page's address that brings the reader back to where they are now. */
export function logInPathReturningTo(current: { pathname: string; search: string }): string {
  if (current.pathname === "/") return "/";
  return `/?next=${encodeURIComponent(`${current.pathname}${current.search}`)}`;
}

/**
 * Set while this tab logs itself out: the 401s its last polls get then are expected, and must not
 * turn the way to the log-in page into a "come back here" link. The log-in page clears it.
 */
let loggingOut = false;

export function noteLoggingOut(value: boolean): void {
  loggingOut = value;
}

export function isLoggingOut(): boolean {
  return loggingOut;
}
