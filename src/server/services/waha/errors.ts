/**
 * Every failure of a WAHA call becomes one `WahaError` with a `kind` a caller can act on:
 * - `unauthorized`        401/403: the API key is missing or wrong. Fix the configuration.
 * - `session_not_found`   404 naming a session: create or start it first.
 * - `session_not_working` 422 with WAHA's `{status, expected}`: the number is not connected (yet);
 *                          pause and wait for `WORKING`.
 * - `invalid_request`     400 and other 4xx: our request is wrong; retrying will not help.
 * - `restricted`          WhatsApp refused the send for the number's sake: error 463 (reachout
 *                          timelock, or the new-chat cap), which WAHA passes on as a 500 whose text
 *                          names 463. Not sent; retrying soon makes it worse. Stop this number.
 * - `transient`           5xx, 408, 429, timeouts, refused or reset connections: retry later.
 * - `unexpected`          an answer we could not understand (bad JSON, missing fields, 3xx).
 */
export type WahaErrorKind =
  | "unauthorized"
  | "session_not_found"
  | "session_not_working"
  | "invalid_request"
  | "restricted"
  | "transient"
  | "unexpected";

/** Why and until when WhatsApp refuses this number's sends (kind `restricted`). */
export interface WahaRestriction {
  /** When the restriction ends, if WAHA said so (its 463 answer does not: ask `getCapping` / `getSession`). */
  until: Date | null;
  /** WhatsApp's words as WAHA passed them on, e.g. "server returned error 463". */
  reason: string;
}

export interface WahaErrorInit {
  kind: WahaErrorKind;
  operation: string;
  message: string;
  httpStatus?: number;
  sessionStatus?: string;
  expected?: string[];
  /**
   * True when the request may have reached WAHA and been acted on although we got no success
   * answer (timeout after sending, connection reset, 5xx). For a send this means "maybe sent":
   * settle it by looking the message up, never by resending blindly.
   */
  outcomeUnknown?: boolean;
  /** Set with kind `restricted`. */
  restriction?: WahaRestriction;
  cause?: unknown;
}

export class WahaError extends Error {
  readonly kind: WahaErrorKind;
  readonly operation: string;
  readonly httpStatus?: number;
  readonly sessionStatus?: string;
  readonly expected?: string[];
  readonly outcomeUnknown: boolean;
  readonly restriction?: WahaRestriction;

  constructor(init: WahaErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "WahaError";
    this.kind = init.kind;
    this.operation = init.operation;
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
    if (init.sessionStatus !== undefined) this.sessionStatus = init.sessionStatus;
    if (init.expected !== undefined) this.expected = init.expected;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    if (init.restriction !== undefined) this.restriction = init.restriction;
  }

  /** Worth retrying the same call later: only transient failures are. */
  get retryable(): boolean {
    return this.kind === "transient";
  }
}

export function isWahaError(error: unknown): error is WahaError {
  return error instanceof WahaError;
}

/** Network error codes (Node / undici) that mean "WAHA could not be reached or dropped us". */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Codes for which the request certainly never reached WAHA. */
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND", "UND_ERR_CONNECT_TIMEOUT"]);

/** Finds the first `code` along an error's cause chain (wrapped errors; an AggregateError when every address of a host failed). */
export function networkErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const record = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === "string") return record.code;
    if (Array.isArray(record.errors) && record.errors.length > 0) {
      const inner = networkErrorCode(record.errors[0]);
      if (inner) return inner;
    }
    current = record.cause;
  }
  return undefined;
}

export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/**
 * A failed exchange -> what it means. `network: true` says the failure came from the connection
 * (the transport's own error: socket, DNS, TLS, an answer that is not HTTP, the timeout) rather than
 * from building the request: any such failure is transient, even with a code not listed here.
 * Outcome unknown unless the request certainly never left (refused, unreachable, no such host).
 */
export function classifyNetworkError(error: unknown, options: { network?: boolean } = {}): { transient: boolean; code?: string; outcomeUnknown: boolean } {
  if (isTimeoutError(error)) return { transient: true, code: "TIMEOUT", outcomeUnknown: true };
  const code = networkErrorCode(error);
  if (code && TRANSIENT_NETWORK_CODES.has(code)) return { transient: true, code, outcomeUnknown: !NEVER_SENT_CODES.has(code) };
  // A connection failure without a code we know (or fetch's "fetch failed"): still a network problem, transient.
  if (options.network || (error instanceof TypeError && /fetch failed|terminated|socket/i.test(error.message))) {
    return { transient: true, ...(code ? { code } : {}), outcomeUnknown: true };
  }
  return { transient: false, ...(code ? { code } : {}), outcomeUnknown: true };
}

/** HTTP status -> kind, for answers that are not a success. 404 and 422 need the body too (see the client). */
export function kindForHttpStatus(status: number): WahaErrorKind {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "session_not_found";
  if (status === 408 || status === 429 || status >= 500) return "transient";
  if (status >= 400) return "invalid_request";
  return "unexpected";
}

/**
 * What a failed send means for its recipient. The one place that decides it (the runner and the
 * recovery act on this, never on HTTP codes):
 * - `not_sent`        provably not sent: WAHA was never reached (refused, DNS, TLS, a timeout before
 *                     the request was written, a proxy's 502/503), or refused up front for a reason
 *                     that is not the message's (429, 408, a redirect). The recipient stays pending and
 *                     the attempt does not count against it; the campaign pauses until WAHA answers.
 * - `session`         WAHA refused because of the number or the configuration (not WORKING, no such
 *                     session, a wrong API key): pause; the recipient stays pending.
 * - `restricted`      WhatsApp refused the number (error 463: reachout timelock or new-chat cap). Not
 *                     sent, not the recipient's fault: stop sending from this number until `until`
 *                     (unknown when null: ask WAHA's capping / session `me`), the recipient stays pending.
 * - `rejected`        WAHA's own 4xx about this chat or this content (an invalid chatId, a refused
 *                     image): the only answer that fails a recipient.
 * - `outcome_unknown` the request may have reached WAHA (a timeout or reset after it was written,
 *                     WAHA's own 5xx): look the message up before anything else, never resend blindly.
 */
export type SendFailureClass = "not_sent" | "session" | "restricted" | "rejected" | "outcome_unknown";

/** The class with what a caller needs to act on it: a restriction says until when and why. */
export type SendFailure =
  | { kind: "restricted"; until: Date | null; reason: string }
  | { kind: Exclude<SendFailureClass, "restricted"> };

export function describeSendFailure(error: WahaError): SendFailure {
  switch (error.kind) {
    case "restricted":
      return { kind: "restricted", until: error.restriction?.until ?? null, reason: error.restriction?.reason ?? error.message };
    case "session_not_working":
    case "session_not_found":
    case "unauthorized":
      return { kind: "session" };
    case "invalid_request":
      return { kind: "rejected" };
    default:
      return { kind: error.outcomeUnknown ? "outcome_unknown" : "not_sent" };
  }
}

export function classifySendFailure(error: WahaError): SendFailureClass {
  return describeSendFailure(error).kind;
}
