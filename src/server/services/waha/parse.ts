/**
 * Reading WAHA's answers: sessions, messages, the id a send answer carries (its shape depends on the
 * engine), and a failed answer as a typed `WahaError`. `fail` builds the error (the transport's,
 * which keeps the API key out of every message).
 */
import { childLogger, maskPhone } from "~/server/logger";
import { fromChatId, toSerializedMessageId } from "./chatId";
import { type WahaError, type WahaErrorInit, type WahaErrorKind, kindForHttpStatus } from "./errors";
import type { Answer } from "./transport";
import type { WahaCapping, WahaCappingStatus, WahaMessageInfo, WahaReachoutTimelock, WahaSessionInfo, WahaSessionStatus } from "./types";

export type MakeError = (init: WahaErrorInit) => WahaError;

const log = childLogger("waha-client");
const KNOWN_STATUSES: ReadonlySet<string> = new Set(["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"]);

export function unexpected(fail: MakeError, operation: string, why: string): WahaError {
  return fail({ kind: "unexpected", operation, message: `WAHA ${operation} failed: ${why}` });
}

export function httpError(fail: MakeError, operation: string, answer: Answer, session: string | undefined): WahaError {
  const body = asRecord(answer.json);
  const detail = describeBody(answer);
  const status = answer.status;
  const who = session === undefined ? "" : ` "${session}"`;

  if (status === 422 && body && Array.isArray(body.expected)) {
    const expected = body.expected.filter((item): item is string => typeof item === "string");
    const sessionStatus = typeof body.status === "string" ? body.status : undefined;
    return fail({
      kind: "session_not_working",
      operation,
      httpStatus: status,
      expected,
      ...(sessionStatus !== undefined ? { sessionStatus } : {}),
      message: `WAHA ${operation} failed: session${who} is not ${expected.join(" or ") || "ready"} (status ${sessionStatus ?? "unknown"})`,
    });
  }
  const restriction = status >= 400 ? restrictionText(answer) : null;
  if (restriction) {
    // WhatsApp's nack 463 (reachout timelock / new-chat cap): refused before sending, whatever the HTTP status.
    log.warn({ operation, session, status }, "whatsapp restricted the number");
    return fail({
      kind: "restricted",
      operation,
      httpStatus: status,
      restriction: { until: null, reason: restriction },
      message: `WAHA ${operation} failed: WhatsApp restricts this number from starting new chats for now (${restriction}); wait before sending from it again`,
    });
  }
  if (status >= 300 && status < 400) {
    return fail({ kind: "unexpected", operation, httpStatus: status, message: `WAHA ${operation} failed: unexpected redirect (HTTP ${status})` });
  }
  const kind: WahaErrorKind = kindForHttpStatus(status);
  let reason: string;
  switch (kind) {
    case "unauthorized":
      reason = `unauthorized (HTTP ${status}): WAHA refused the API key (check WAHA_API_KEY)`;
      break;
    case "session_not_found":
      reason = `session${who} not found (HTTP 404)`;
      break;
    case "invalid_request":
      reason = `invalid request (HTTP ${status})${detail ? `: ${detail}` : ""}`;
      break;
    case "transient":
      reason = `WAHA answered HTTP ${status}${detail ? `: ${detail}` : ""}`;
      break;
    default:
      reason = `unexpected answer (HTTP ${status})${detail ? `: ${detail}` : ""}`;
  }
  // A 502/503 that is not WAHA's JSON comes from a proxy in front of it that could not forward the
  // request: WAHA never saw it. A 504, or WAHA's own 5xx, may come after WAHA acted on it.
  const proxyNeverForwarded = (status === 502 || status === 503) && answer.json === undefined;
  if (proxyNeverForwarded) reason = `a proxy in front of WAHA answered HTTP ${status}: WAHA did not receive the request`;
  if (kind === "transient") log.warn({ operation, session, status }, "waha call failed");
  return fail({
    kind,
    operation,
    httpStatus: status,
    message: `WAHA ${operation} failed: ${reason}`,
    // 429/408 were refused up front.
    outcomeUnknown: status >= 500 && !proxyNeverForwarded,
  });
}

export function toSessionInfo(fail: MakeError, operation: string, raw: unknown): WahaSessionInfo {
  const body = asRecord(raw);
  if (!body || typeof body.name !== "string" || typeof body.status !== "string") {
    throw unexpected(fail, operation, "the answer is not a session");
  }
  const info: WahaSessionInfo = { name: body.name, status: normaliseStatus(body.status) };
  if (info.status !== body.status) info.rawStatus = body.status;
  const me = asRecord(body.me);
  if (me && typeof me.id === "string") {
    info.me = { id: me.id, ...(typeof me.pushName === "string" ? { pushName: me.pushName } : {}) };
  } else if (body.me === null) {
    info.me = null;
  }
  const timelock = toReachoutTimelock(me?.reachoutTimelock);
  if (timelock !== undefined) info.reachoutTimelock = timelock;
  // WAHA answers `engine: {engine: "NOWEB", ...}`; accept a plain string too.
  const engine = typeof body.engine === "string" ? body.engine : asRecord(body.engine)?.engine;
  if (typeof engine === "string") info.engine = engine;
  if ("config" in body) {
    // `config: null` is a session created without one: WAHA's defaults apply.
    const config = asRecord(body.config);
    const nowebStore = asRecord(asRecord(config?.noweb)?.store);
    info.nowebStoreEnabled = nowebStore?.enabled === true;
    info.gowsMessageStorage = asRecord(asRecord(config?.gows)?.storage)?.messages !== false;
  }
  return info;
}

/**
 * `me.reachoutTimelock` (WAHA 2026.7+, GOWS): null when none. Read leniently: `isActive` and
 * `timeEnforcementEnds` (an ISO date or a unix time), the names whatsmeow's event carries.
 */
function toReachoutTimelock(raw: unknown): WahaReachoutTimelock | null | undefined {
  if (raw === null) return null;
  const body = asRecord(raw);
  if (!body) return undefined;
  const until = toDate(body.timeEnforcementEnds ?? body.until);
  const active = typeof body.isActive === "boolean" ? body.isActive : until !== null && until.getTime() > Date.now();
  return { active, until, ...(typeof body.enforcementType === "string" ? { enforcementType: body.enforcementType } : {}) };
}

const CAPPING_STATUSES: ReadonlySet<string> = new Set(["NONE", "FIRST_WARNING", "SECOND_WARNING", "CAPPED"]);

/**
 * `GET /api/sessions/{session}/capping` (waha PR#2186): `{cappingStatus, totalQuota (-1 = no cap),
 * usedQuota, cycleStart, cycleEnd, mvStatus, oteStatus}`. Also accepts the value wrapped as
 * `{messageCapping: {...}}`, as `me.messageCapping` carries it.
 */
export function toCapping(fail: MakeError, operation: string, raw: unknown): WahaCapping {
  let body = asRecord(raw);
  if (body && !("cappingStatus" in body) && asRecord(body.messageCapping)) body = asRecord(body.messageCapping);
  if (!body || typeof body.cappingStatus !== "string") throw unexpected(fail, operation, "the answer has no cappingStatus");
  const status: WahaCappingStatus = CAPPING_STATUSES.has(body.cappingStatus) ? (body.cappingStatus as WahaCappingStatus) : "UNKNOWN";
  const totalQuota = toNumber(body.totalQuota);
  const usedQuota = toNumber(body.usedQuota);
  return {
    status,
    ...(status === "UNKNOWN" ? { rawStatus: body.cappingStatus } : {}),
    totalQuota: totalQuota === null || totalQuota < 0 ? null : totalQuota,
    usedQuota: usedQuota ?? 0,
    cycleStart: toDate(body.cycleStart),
    cycleEnd: toDate(body.cycleEnd),
  };
}

function toNumber(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value);
  return null;
}

/** An ISO date, or a unix time in seconds or milliseconds (as a number or a numeric string). */
function toDate(value: unknown): Date | null {
  const numeric = toNumber(value);
  if (numeric !== null) {
    if (numeric <= 0) return null;
    return new Date(numeric < 1e12 ? numeric * 1000 : numeric);
  }
  if (typeof value !== "string" || value.trim() === "") return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * WhatsApp's 463 as WAHA passes it on: GOWS answers 500 with
 * `{exception: {message: "2 UNKNOWN: server returned error 463", details: "server returned error 463"}}`
 * (waha#1904, #2219); other texts name the reachout timelock or the new-chat cap. Null otherwise.
 */
function restrictionText(answer: Answer): string | null {
  const body = asRecord(answer.json);
  const exception = asRecord(body?.exception);
  const texts = [exception?.details, exception?.message, body?.message, body?.error]
    .flatMap((item) => (Array.isArray(item) ? item : [item]))
    .filter((item): item is string => typeof item === "string");
  if (!body && answer.contentType.startsWith("text/")) texts.push(answer.bytes.toString("utf8"));
  const found = texts.find((text) => /\berror 463\b|\b463\b.*(?:timelock|reach-?out)|reach-?out ?time-?lock|timelocked/i.test(text));
  if (!found) return null;
  const clean = found.replace(/\s+/g, " ").trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

export function toMessageInfo(fail: MakeError, operation: string, raw: unknown): WahaMessageInfo {
  const body = asRecord(raw);
  if (!body || typeof body.id !== "string") throw unexpected(fail, operation, "the answer is not a message");
  const info: WahaMessageInfo = { id: body.id };
  if (typeof body.body === "string" || body.body === null) info.body = body.body;
  if (typeof body.ack === "number" || body.ack === null) info.ack = body.ack;
  if (typeof body.fromMe === "boolean") info.fromMe = body.fromMe;
  if (typeof body.timestamp === "number") info.timestamp = body.timestamp;
  return info;
}

/**
 * The send answer's shape depends on the engine:
 * NOWEB `{key: {id, remoteJid, fromMe}}` (raw id), WEBJS `{id: {_serialized}}`, GOWS `{id: "true_<chat>_<ID>"}`.
 * All become the serialized id that `getMessage` takes.
 */
export function sentMessageId(fail: MakeError, operation: string, raw: unknown, chatId: string, requestedId: string | undefined): string {
  const body = asRecord(raw);
  const id = body?.id;
  if (typeof id === "string" && id.length > 0) return toSerializedMessageId(chatId, id);
  const idObject = asRecord(id);
  if (typeof idObject?._serialized === "string" && idObject._serialized.length > 0) return idObject._serialized;
  const key = asRecord(body?.key);
  if (typeof key?.id === "string" && key.id.length > 0) return toSerializedMessageId(chatId, key.id, key.fromMe !== false);
  // WAHA accepted the message (2xx) but did not say its id: the id we fixed is the message's id.
  if (requestedId) return toSerializedMessageId(chatId, requestedId);
  log.error({ operation, chatId: maskChatId(chatId) }, "waha accepted a message but its answer has no id");
  throw fail({
    kind: "unexpected",
    operation,
    message: `WAHA ${operation} failed: WAHA accepted the message but its answer has no message id`,
    outcomeUnknown: true,
  });
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** WAHA's error text: Nest's `message` (string or list), `error`, or `exception.message`. */
function describeBody(answer: Answer): string {
  const body = asRecord(answer.json);
  let text = "";
  if (body) {
    const message = body.message;
    if (typeof message === "string") text = message;
    else if (Array.isArray(message)) text = message.filter((item) => typeof item === "string").join("; ");
    else if (typeof body.error === "string") text = body.error;
    else if (typeof asRecord(body.exception)?.message === "string") text = asRecord(body.exception)!.message as string;
  } else if (answer.contentType.startsWith("text/")) {
    text = answer.bytes.toString("utf8");
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** WAHA's 404 for an unknown session names the session; a 404 for an unknown route or message does not. */
export function mentionsSession(json: unknown): boolean {
  const body = asRecord(json);
  if (!body) return false;
  const text = [body.message, body.error].filter((item) => typeof item === "string").join(" ");
  return /session/i.test(text);
}

function normaliseStatus(status: string): WahaSessionStatus {
  if (KNOWN_STATUSES.has(status)) return status as WahaSessionStatus;
  // PASSKEY_REQUIRED / PASSKEY_CONFIRMATION_REQUIRED: the user must act on the phone, like a QR scan.
  if (status.startsWith("PASSKEY")) return "SCAN_QR_CODE";
  return "FAILED";
}

function maskChatId(chatId: string): string {
  const phone = fromChatId(chatId);
  return phone ? maskPhone(phone) : "[chat]";
}
