import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { qrLikePng } from "./png";
import {
  ACK_NAMES,
  FakeWahaState,
  SESSION_STATUSES,
  newRawMessageId,
  type FakeCall,
  type FakeFaults,
  type FakeMessage,
  type FakeStats,
  type NowebStoreMode,
  type SessionState,
  type StoredMessage,
  type WahaEngine,
  type WahaSessionStatus,
} from "./state";
import { WebhookSender } from "./webhooks";

export type { FakeCall, FakeFaults, FakeMessage, FakeStats, NowebStoreMode, WahaEngine, WahaSessionStatus } from "./state";

/**
 * A fake WAHA (https://waha.devlike.pro) for tests, the sandbox and benchmarks: WAHA's paths, bodies,
 * status codes and errors for the endpoints the app uses, plus a control API under /__fake/.
 * Plain node:http and a lean send path: it must never be the bottleneck of a benchmark.
 * See docs/fake-waha.md.
 */

export interface FakeWahaOptions {
  port?: number /* 0 = random */;
  host?: string /* default 127.0.0.1 */;
  apiKey?: string;
  engine?: WahaEngine;
  /** STARTING -> SCAN_QR_CODE / WORKING after this long. Default 20 ms. */
  transitionDelayMs?: number;
  /** message.ack SERVER this long after a send, DEVICE twice as long. Default 20 ms. */
  ackDelayMs?: number;
  /** Real WAHA waits up to ~10 s for a session to become WORKING before answering 422. Default 0: answer at once. */
  notWorkingWaitMs?: number;
  /** false = behave like WAHA before 2026.4.3: no GET /api/{session}/new-message-id, `id` on send ignored. Default true. */
  newMessageId?: boolean;
  /**
   * NOWEB only. `"always"` (default): every session keeps its messages. `"config"`: as WAHA, only a
   * session created with `config.noweb.store.enabled: true` does; the others answer 400 to message reads.
   */
  nowebStore?: NowebStoreMode;
}

export interface FakeWaha {
  url: string;
  port: number;
  close(): Promise<void>;
  /**
   * A WAHA restart: stops listening (connections are refused, open ones dropped) and keeps every
   * session, message and fault, as WAHA keeps its sessions' storage. `serveAgain()` listens on the
   * same address once more.
   */
  stopServing(): Promise<void>;
  serveAgain(): Promise<void>;
  messages(): FakeMessage[];
  /** See FakeWahaState.reset: messages, stats, faults and unknown numbers; sessions too with `{sessions: true}`. */
  reset(options?: { sessions?: boolean }): void;
  /** Creates the session if unknown. WORKING fills `me` (a simulated QR scan). */
  setSessionStatus(name: string, status: WahaSessionStatus, me?: { id: string; pushName?: string }): void;
  setFaults(faults: Partial<FakeFaults>): FakeFaults;
  stats(): FakeStats;
  /** Every /api call received, in order (GET /__fake/calls). */
  calls(): FakeCall[];
  /** Makes check-exists answer `numberExists: false` for this phone (E.164 or digits). */
  setNumberExists(phone: string, exists: boolean): void;
  /** Sets a message's ack (-1..4) and sends message.ack. False when no such message. */
  setAck(messageId: string, ack: number): boolean;
  /** Current status of a session, undefined when unknown. */
  sessionStatus(name: string): WahaSessionStatus | undefined;
  /** Resolves when all webhook deliveries started so far have finished. */
  drainWebhooks(): Promise<void>;
}

const VERSION = "2026.7.1";
const MAX_BODY_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The raw path, without the query. */
  path: string;
  /** The pattern's `:name` segments, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The call as /__fake/calls lists it (null outside /api/): handlers that read a body fill in its session and chatId. */
  call: FakeCall | null;
}

type RouteHandler = (context: RouteContext) => unknown;

interface RouteEntry {
  /** An HTTP method, or "*" for any. */
  method: string;
  /** Segments: a literal, `:name` (any one segment, even empty), or a final `**` (any rest, even none). */
  pattern: string;
  handler: RouteHandler;
}

interface Route {
  method: string;
  segments: string[];
  rest: boolean;
  handler: RouteHandler;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

export async function startFakeWaha(options: FakeWahaOptions = {}): Promise<FakeWaha> {
  const engine: WahaEngine = options.engine ?? "WEBJS";
  const apiKey = options.apiKey === "" ? undefined : options.apiKey;
  const notWorkingWaitMs = options.notWorkingWaitMs ?? 0;
  const supportsNewMessageId = options.newMessageId ?? true;
  const environment = { version: VERSION, engine, tier: "PLUS", browser: "fake", platform: `${process.platform}/${process.arch}`, worker: { id: null } };
  const webhooks = new WebhookSender(environment);
  const state = new FakeWahaState({
    engine,
    nowebStore: options.nowebStore ?? "always",
    transitionDelayMs: options.transitionDelayMs ?? 20,
    ackDelayMs: options.ackDelayMs ?? 20,
    webhooks,
  });

  // ---------------------------------------------------------- helpers

  function sessionOr404(name: string): SessionState {
    const session = state.sessions.get(name);
    if (!session) {
      throw new HttpError(404, {
        statusCode: 404,
        message: `We didn't find a session with name '${name}'. Please start it first by using POST /api/sessions/${name}/start request`,
        error: "Not Found",
      });
    }
    return session;
  }

  function notInStatus(session: SessionState, expected: WahaSessionStatus[]): HttpError {
    return new HttpError(422, {
      error: "Session status is not as expected. Try again later or restart the session",
      session: session.name,
      status: session.status,
      expected,
    });
  }

  async function workingOr422(session: SessionState): Promise<void> {
    const working = () => session.status === "WORKING"; // re-read: the status changes while we wait
    if (working()) return;
    const deadline = Date.now() + notWorkingWaitMs;
    while (Date.now() < deadline) {
      await sleep(Math.min(50, deadline - Date.now()));
      if (working()) return;
    }
    throw notInStatus(session, ["WORKING"]);
  }

  /**
   * NOWEB without its store: WAHA's in-memory store refuses message reads with this 400
   * (NowebInMemoryStore.getMessageById / getMessagesByJid throw a BadRequestException).
   */
  function storeOr400(session: SessionState): void {
    if (state.storesMessages(session)) return;
    throw new HttpError(400, {
      statusCode: 400,
      message:
        'Enable NOWEB store "config.noweb.store.enabled=True" and "config.noweb.store.full_sync=True" when starting a new session. ' +
        "Read more: https://waha.devlike.pro/docs/engines/noweb#store",
      error: "Bad Request",
    });
  }

  /** A request body under /api/, noted on the call log (its session and chatId). */
  async function readApiJson(req: IncomingMessage, call: FakeCall | null): Promise<Json> {
    const body = await readJson(req);
    if (call) {
      if (typeof body.session === "string") call.session = body.session;
      if (typeof body.chatId === "string") call.chatId = body.chatId;
    }
    return body;
  }

  function badRequest(...messages: string[]): HttpError {
    return new HttpError(400, { statusCode: 400, message: messages, error: "Bad Request" });
  }

  function requireString(body: Json, field: string): string {
    const value = body[field];
    if (typeof value !== "string" || value.length === 0) throw badRequest(`${field} must be a string`);
    return value;
  }

  function requireChatId(body: Json): string {
    const chatId = requireString(body, "chatId");
    if (!chatId.includes("@")) throw badRequest("chatId must be like 11111111111@c.us");
    return chatId;
  }

  function wamessage(stored: StoredMessage, now: number): Json {
    const ack = state.ackOf(stored, now);
    const message = stored.message;
    return {
      id: message.id,
      timestamp: Math.floor(stored.acceptedAt / 1000),
      from: stored.fromId,
      fromMe: true,
      source: "api",
      to: message.chatId,
      participant: null,
      body: message.text ?? message.caption ?? "",
      hasMedia: message.hasFile,
      mediaUrl: null,
      ack,
      ackName: ACK_NAMES[ack] ?? "UNKNOWN",
      _data: {},
    };
  }

  /** The send answer as each engine shapes it. */
  function sendAnswer(stored: StoredMessage): Json {
    const message = stored.message;
    const seconds = Math.floor(stored.acceptedAt / 1000);
    const body = message.text ?? message.caption ?? "";
    switch (engine) {
      case "NOWEB":
        return {
          key: { remoteJid: message.chatId.replace(/@c\.us$/, "@s.whatsapp.net"), fromMe: true, id: stored.rawId },
          message: message.hasFile
            ? { imageMessage: { caption: message.caption ?? "", mimetype: stored.mimetype ?? "image/jpeg" } }
            : { extendedTextMessage: { text: body } },
          messageTimestamp: String(seconds),
          status: "PENDING",
        };
      case "GOWS":
        return { ...wamessage(stored, stored.acceptedAt), ack: 0, ackName: "PENDING" };
      default:
        return {
          _data: { id: { fromMe: true, remote: message.chatId, id: stored.rawId, _serialized: message.id } },
          id: { fromMe: true, remote: message.chatId, id: stored.rawId, _serialized: message.id },
          ack: 0,
          hasMedia: message.hasFile,
          body,
          type: message.hasFile ? "image" : "chat",
          timestamp: seconds,
          from: stored.fromId,
          to: message.chatId,
          deviceType: "web",
          isForwarded: false,
          forwardingScore: 0,
          isStatus: false,
          isStarred: false,
          fromMe: true,
          hasQuotedMsg: false,
          vCards: [],
          mentionedIds: [],
          links: [],
        };
    }
  }

  // ---------------------------------------------------------- sends (the hot path)

  async function handleSend({ req, res, call }: RouteContext, kind: "text" | "image"): Promise<void> {
    const body = await readApiJson(req, call);
    const sessionName = requireString(body, "session");
    const chatId = requireChatId(body);
    let text: string | null = null;
    let caption: string | undefined;
    let mimetype: string | undefined;
    let fileName: string | undefined;
    if (kind === "text") {
      if (typeof body.text !== "string") throw badRequest("text must be a string");
      text = body.text;
    } else {
      const file = body.file as Json | undefined;
      if (!file || typeof file !== "object" || (typeof file.url !== "string" && typeof file.data !== "string")) {
        throw badRequest("file must have url or data");
      }
      if (typeof file.mimetype !== "string") throw badRequest("file.mimetype must be a string");
      mimetype = file.mimetype;
      if (typeof file.filename === "string") fileName = file.filename;
      if (body.caption !== undefined) {
        if (typeof body.caption !== "string") throw badRequest("caption must be a string");
        caption = body.caption;
      }
    }
    const requestedId = supportsNewMessageId && typeof body.id === "string" && body.id.length > 0 ? body.id : undefined;
    const session = sessionOr404(sessionName);

    state.beginSend(sessionName);
    try {
      let status = 201;
      let answer: unknown;
      try {
        await workingOr422(session);
        if (state.restrictedUntil(sessionName) !== null || state.overNewChatCap(sessionName, chatId)) {
          // WhatsApp's nack 463, as GOWS passes it on (waha#1904, waha#2219): not sent.
          status = 500;
          answer = reachoutTimelocked();
        } else if (state.takeFault()) {
          status = 500;
          answer = { statusCode: 500, message: "fake-waha: injected fault", error: "Internal Server Error" };
        } else {
          // Recorded on acceptance, before any latency: a client that gives up still "sent" it.
          const stored = state.record({
            session,
            chatId,
            rawId: requestedId ?? newRawMessageId(),
            text,
            ...(caption !== undefined ? { caption } : {}),
            hasFile: kind === "image",
            ...(mimetype !== undefined ? { mimetype } : {}),
            ...(fileName !== undefined ? { fileName } : {}),
          });
          answer = sendAnswer(stored);
        }
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        status = error.status;
        answer = error.body;
      }
      const latency = state.faults.latencyMs;
      if (latency > 0) await sleep(latency);
      sendJson(res, status, answer);
    } finally {
      state.endSend(sessionName);
    }
  }

  // ---------------------------------------------------------- WAHA routes

  function listSessions({ res, query }: RouteContext): void {
    const all = query.get("all") === "true";
    const list = [...state.sessions.values()].filter((session) => all || session.status !== "STOPPED");
    sendJson(res, 200, list.map((session) => state.sessionInfo(session)));
  }

  async function createSession({ req, res, call }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const name = body.name === undefined ? "default" : requireString(body, "name");
    if (call) call.session = name;
    if (state.sessions.has(name)) {
      throw new HttpError(422, { statusCode: 422, message: `Session '${name}' already exists. Use PUT to update it.`, error: "Unprocessable Entity" });
    }
    const config = body.config && typeof body.config === "object" ? (body.config as Json) : undefined;
    const session = state.createSession(name, config, body.start !== false);
    sendJson(res, 201, state.sessionDto(session));
  }

  async function updateSession({ req, res, params }: RouteContext): Promise<void> {
    const session = sessionOr404(params.session!);
    const body = await readJson(req);
    if (body.config && typeof body.config === "object") session.config = body.config as Json;
    sendJson(res, 200, state.sessionDto(session));
  }

  function sessionAction(action: "start" | "stop" | "logout" | "restart"): RouteHandler {
    return ({ res, params }) => {
      const session = sessionOr404(params.session!);
      state[action](session);
      sendJson(res, 201, state.sessionDto(session));
    };
  }

  async function typing({ req, res, call }: RouteContext): Promise<void> {
    const body = await readApiJson(req, call);
    const session = sessionOr404(requireString(body, "session"));
    requireChatId(body);
    await workingOr422(session);
    sendEmpty(res, 201);
  }

  /** WAHA answers sendSeen with 201 and an object (the engine's result; `{}` here). */
  async function sendSeen({ req, res, call }: RouteContext): Promise<void> {
    const body = await readApiJson(req, call);
    const session = sessionOr404(requireString(body, "session"));
    requireChatId(body);
    if (body.messageIds !== undefined && (!Array.isArray(body.messageIds) || !body.messageIds.every((id) => typeof id === "string"))) {
      throw badRequest("each value in messageIds must be a string");
    }
    await workingOr422(session);
    sendJson(res, 201, {});
  }

  /** GET /api/sessions/{session}/capping (waha PR#2186): GOWS only, as in WAHA. */
  async function capping({ res, params }: RouteContext): Promise<void> {
    const session = sessionOr404(params.session!);
    if (engine !== "GOWS") {
      throw new HttpError(501, { statusCode: 501, message: `The method is not implemented by the ${engine} engine. Use GOWS.`, error: "Not Implemented" });
    }
    await workingOr422(session);
    sendJson(res, 200, state.capping(session.name));
  }

  async function checkExists({ res, query, call }: RouteContext): Promise<void> {
    const phone = query.get("phone");
    const sessionName = query.get("session");
    if (!phone || !sessionName) throw badRequest("phone must be a string", "session must be a string");
    const session = sessionOr404(sessionName);
    await workingOr422(session);
    const digits = phone.replace(/\D/g, "");
    if (call) call.chatId = `${digits}@c.us`;
    const exists = digits.length >= 7 && state.numberExists(digits);
    sendJson(res, 200, exists ? { numberExists: true, chatId: `${digits}@c.us` } : { numberExists: false });
  }

  function qrCode({ req, res, params, query }: RouteContext): void {
    const session = sessionOr404(params.session!);
    if (session.status !== "SCAN_QR_CODE") throw notInStatus(session, ["SCAN_QR_CODE"]);
    if (query.get("format") === "raw") return sendJson(res, 200, { value: session.qrValue });
    const png = qrLikePng(session.qrValue);
    if ((req.headers.accept ?? "").includes("application/json")) {
      return sendJson(res, 200, { mimetype: "image/png", data: png.toString("base64") });
    }
    res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
    res.end(png);
  }

  async function requestCode({ req, res, params }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const session = sessionOr404(params.session!);
    const phoneNumber = requireString(body, "phoneNumber");
    if (!/^\d{7,15}$/.test(phoneNumber)) throw badRequest("phoneNumber must be digits in international format");
    if (session.status !== "SCAN_QR_CODE") throw notInStatus(session, ["SCAN_QR_CODE"]);
    sendJson(res, 201, { code: pairingCode() });
  }

  async function newMessageId({ res, params }: RouteContext): Promise<void> {
    const session = sessionOr404(params.session!);
    await workingOr422(session);
    sendJson(res, 200, { id: newRawMessageId() });
  }

  async function getMessage({ res, params }: RouteContext): Promise<void> {
    const session = sessionOr404(params.session!);
    await workingOr422(session);
    storeOr400(session);
    const stored = state.findMessage(session.name, params.messageId!);
    if (!stored || stored.message.chatId !== params.chatId) {
      throw new HttpError(404, { statusCode: 404, message: "Message not found", error: "Not Found" });
    }
    sendJson(res, 200, wamessage(stored, Date.now()));
  }

  async function listMessages({ res, params, query }: RouteContext): Promise<void> {
    const session = sessionOr404(params.session!);
    await workingOr422(session);
    storeOr400(session);
    const now = Date.now();
    const limit = clampInt(query.get("limit"), 10, 1, 1000);
    const offset = clampInt(query.get("offset"), 0, 0, Number.MAX_SAFE_INTEGER);
    const chat = state.chatMessages(session.name, params.chatId!);
    const ordered = query.get("sortOrder") === "asc" ? chat : [...chat].reverse();
    sendJson(res, 200, ordered.slice(offset, offset + limit).map((stored) => wamessage(stored, now)));
  }

  /** Any other method or action on /api/sessions/{session}: WAHA's 404 for an unknown session comes first. */
  function unknownSessionRoute({ res, method, path, params }: RouteContext): void {
    sessionOr404(params.session!);
    routeNotFound(res, method, path);
  }

  // ---------------------------------------------------------- control API

  function listCalls({ res, query }: RouteContext): void {
    const session = query.get("session");
    sendJson(res, 200, state.callLog().filter((call) => !session || call.session === session));
  }

  function listFakeMessages({ res, query }: RouteContext): void {
    const session = query.get("session");
    const chatId = query.get("chatId");
    sendJson(res, 200, state.messages().filter((message) => (!session || message.session === session) && (!chatId || message.chatId === chatId)));
  }

  async function setAck({ req, res, params }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const ack = body.ack;
    if (typeof ack !== "number" || !Number.isInteger(ack) || ack < -1 || ack > 4) throw badRequest("ack must be an integer -1..4");
    if (!state.setAck(params.id!, ack)) throw new HttpError(404, { statusCode: 404, message: "Message not found", error: "Not Found" });
    sendJson(res, 200, { id: params.id, ack, ackName: ACK_NAMES[ack] });
  }

  async function reset({ req, res }: RouteContext): Promise<void> {
    const body = await readJson(req, true);
    state.reset({ sessions: body.sessions === true });
    sendJson(res, 200, { ok: true });
  }

  async function forceStatus({ req, res, params }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const status = body.status;
    if (typeof status !== "string" || !(SESSION_STATUSES as readonly string[]).includes(status)) {
      throw badRequest(`status must be one of ${SESSION_STATUSES.join(", ")}`);
    }
    const me = body.me as { id?: unknown; pushName?: unknown } | undefined;
    const meInput = me && typeof me.id === "string" ? { id: me.id, ...(typeof me.pushName === "string" ? { pushName: me.pushName } : {}) } : undefined;
    const session = state.forceStatus(params.name!, status as WahaSessionStatus, meInput);
    sendJson(res, 200, state.sessionInfo(session));
  }

  async function setFaults({ req, res }: RouteContext): Promise<void> {
    const body = await readJson(req, true);
    sendJson(res, 200, state.setFaults(parseFaults(body)));
  }

  async function setNumber({ req, res }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const phone = requireString(body, "phone");
    if (typeof body.exists !== "boolean") throw badRequest("exists must be a boolean");
    state.setNumberExists(phone, body.exists);
    sendJson(res, 200, { phone, exists: body.exists });
  }

  async function setNotOnWhatsapp({ req, res }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const phones = body.phones;
    if (!Array.isArray(phones) || !phones.every((phone) => typeof phone === "string" && /\d/.test(phone))) {
      throw badRequest("phones must be a list of phone numbers, e.g. [\"+14155550123\"]");
    }
    for (const phone of phones as string[]) state.setNumberExists(phone, false);
    sendJson(res, 200, { phones });
  }

  /** `{session, from, text, chatId?, id?}`: a contact (`from`: a phone or `<digits>@c.us`) writes to the session; `chatId` a group's id for a group message. */
  async function inbound({ req, res }: RouteContext): Promise<void> {
    const body = await readJson(req);
    const session = sessionOr404(requireString(body, "session"));
    const from = requireString(body, "from");
    const digits = from.replace(/@c\.us$/, "").replace(/[^\d]/g, "");
    if (!/^\d{6,15}$/.test(digits) || !/^\+?[\d ()-]+(@c\.us)?$/.test(from)) throw badRequest('from must be a phone number, e.g. "+14155550123" or "14155550123@c.us"');
    if (typeof body.text !== "string") throw badRequest("text must be a string");
    if (body.chatId !== undefined && (typeof body.chatId !== "string" || !body.chatId.includes("@"))) throw badRequest("chatId must be like 123456789-123@g.us");
    if (body.id !== undefined && (typeof body.id !== "string" || body.id.length === 0)) throw badRequest("id must be a non-empty string");
    const sender = `${digits}@c.us`;
    const group = typeof body.chatId === "string" && body.chatId !== sender ? body.chatId : null;
    const payload = state.emitInbound(session, {
      chatId: group ?? sender,
      participant: group ? sender : null,
      text: body.text,
      rawId: typeof body.id === "string" ? body.id : newRawMessageId(),
    });
    sendJson(res, 200, payload);
  }

  function parseFaults(body: Json): Partial<FakeFaults> {
    const patch: Partial<FakeFaults> = {};
    if (body.latencyMs !== undefined) {
      if (typeof body.latencyMs !== "number" || !(body.latencyMs >= 0)) throw badRequest("latencyMs must be a number >= 0");
      patch.latencyMs = body.latencyMs;
    }
    if (body.errorRate !== undefined) {
      if (typeof body.errorRate !== "number" || !(body.errorRate >= 0 && body.errorRate <= 1)) throw badRequest("errorRate must be a number 0..1");
      patch.errorRate = body.errorRate;
    }
    if (body.failNext !== undefined) {
      if (typeof body.failNext !== "number" || !Number.isInteger(body.failNext) || body.failNext < 0) throw badRequest("failNext must be an integer >= 0");
      patch.failNext = body.failNext;
    }
    if (body.restricted !== undefined) {
      const restricted = body.restricted as Json | null;
      if (restricted === null) patch.restricted = null;
      else if (typeof restricted !== "object" || typeof restricted.untilMs !== "number" || !Number.isFinite(restricted.untilMs)) {
        throw badRequest("restricted must be null or {untilMs: <epoch ms>, session?: string}");
      } else if (restricted.session !== undefined && typeof restricted.session !== "string") {
        throw badRequest("restricted.session must be a string");
      } else {
        patch.restricted = { untilMs: restricted.untilMs, ...(typeof restricted.session === "string" ? { session: restricted.session } : {}) };
      }
    }
    if (body.newChatQuota !== undefined) {
      if (typeof body.newChatQuota !== "number" || !Number.isInteger(body.newChatQuota) || body.newChatQuota < -1) {
        throw badRequest("newChatQuota must be an integer >= 0, or -1 for no cap");
      }
      patch.newChatQuota = body.newChatQuota;
    }
    return patch;
  }

  // ---------------------------------------------------------- route table

  /**
   * Matched in order: the first entry whose method and pattern fit handles the request; none ->
   * Nest's 404 for an unknown route. `/api/*` entries need the API key (checked before matching).
   * The sends come first: they are the hot path.
   */
  const routes = compileRoutes([
    { method: "POST", pattern: "/api/sendText", handler: (context) => handleSend(context, "text") },
    { method: "POST", pattern: "/api/sendImage", handler: (context) => handleSend(context, "image") },

    { method: "GET", pattern: "/api/sessions", handler: listSessions },
    { method: "POST", pattern: "/api/sessions", handler: createSession },
    { method: "GET", pattern: "/api/sessions/:session", handler: ({ res, params }) => sendJson(res, 200, state.sessionInfo(sessionOr404(params.session!))) },
    { method: "PUT", pattern: "/api/sessions/:session", handler: updateSession },
    { method: "DELETE", pattern: "/api/sessions/:session", handler: ({ res, params }) => (state.delete(sessionOr404(params.session!)), sendEmpty(res, 200)) },
    { method: "POST", pattern: "/api/sessions/:session/start", handler: sessionAction("start") },
    { method: "POST", pattern: "/api/sessions/:session/stop", handler: sessionAction("stop") },
    { method: "POST", pattern: "/api/sessions/:session/logout", handler: sessionAction("logout") },
    { method: "POST", pattern: "/api/sessions/:session/restart", handler: sessionAction("restart") },
    { method: "GET", pattern: "/api/sessions/:session/capping", handler: capping },
    { method: "*", pattern: "/api/sessions/:session", handler: unknownSessionRoute },
    { method: "POST", pattern: "/api/sessions/:session/:action", handler: unknownSessionRoute },
    // Nothing else under /api/sessions is a route, not even one of the /api/{session}/... below.
    { method: "*", pattern: "/api/sessions/**", handler: ({ res, method, path }) => routeNotFound(res, method, path) },

    { method: "POST", pattern: "/api/sendSeen", handler: sendSeen },
    { method: "POST", pattern: "/api/startTyping", handler: typing },
    { method: "POST", pattern: "/api/stopTyping", handler: typing },
    { method: "GET", pattern: "/api/contacts/check-exists", handler: checkExists },
    { method: "GET", pattern: "/api/server/version", handler: ({ res }) => sendJson(res, 200, environment) },

    { method: "GET", pattern: "/api/:session/auth/qr", handler: qrCode },
    { method: "POST", pattern: "/api/:session/auth/request-code", handler: requestCode },
    // Absent on a WAHA older than 2026.4.3: Nest's route 404, as there.
    ...(supportsNewMessageId ? [{ method: "GET", pattern: "/api/:session/new-message-id", handler: newMessageId }] : []),
    { method: "GET", pattern: "/api/:session/chats/:chatId/messages/:messageId", handler: getMessage },
    { method: "GET", pattern: "/api/:session/chats/:chatId/messages", handler: listMessages },

    { method: "GET", pattern: "/ping", handler: ({ res }) => sendJson(res, 200, { message: "pong" }) },

    { method: "GET", pattern: "/__fake/messages", handler: listFakeMessages },
    { method: "POST", pattern: "/__fake/messages/:id/ack", handler: setAck },
    { method: "POST", pattern: "/__fake/reset", handler: reset },
    { method: "POST", pattern: "/__fake/sessions/:name/status", handler: forceStatus },
    { method: "GET", pattern: "/__fake/faults", handler: ({ res }) => sendJson(res, 200, state.faults) },
    { method: "POST", pattern: "/__fake/faults", handler: setFaults },
    { method: "GET", pattern: "/__fake/stats", handler: ({ res }) => sendJson(res, 200, state.stats()) },
    { method: "POST", pattern: "/__fake/numbers", handler: setNumber },
    { method: "POST", pattern: "/__fake/not-on-whatsapp", handler: setNotOnWhatsapp },
    { method: "POST", pattern: "/__fake/inbound", handler: inbound },
    { method: "GET", pattern: "/__fake/calls", handler: listCalls },
  ]);

  // ---------------------------------------------------------- dispatch

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const method = req.method ?? "GET";

    const segments = path.split("/").map(decodeSegment); // ["", "api", ...]
    const query = new URLSearchParams(q === -1 ? "" : rawUrl.slice(q + 1));
    // Every call is logged on arrival, a refused one too (its body is not read then: no session from it).
    const call = segments[1] === "api" ? state.recordCall(method, path, sessionInPath(segments) ?? query.get("session")) : null;
    if (path.startsWith("/api/") && apiKey !== undefined && req.headers["x-api-key"] !== apiKey) {
      req.resume();
      return sendJson(res, 401, { message: "Unauthorized", statusCode: 401 });
    }
    for (const route of routes) {
      const params = matchRoute(route, method, segments);
      if (params) {
        if (call && params.chatId !== undefined) call.chatId = params.chatId;
        await route.handler({ req, res, method, path, params, query, call });
        return;
      }
    }
    return routeNotFound(res, method, path);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof HttpError) return sendJson(res, error.status, error.body);
      sendJson(res, 500, { statusCode: 500, message: error instanceof Error ? error.message : String(error), error: "Internal Server Error" });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(options.port ?? 0);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: async () => {
      state.clearTimers();
      if (server.listening) await stopListening();
    },
    stopServing: stopListening,
    serveAgain: () => listen(address.port),
    messages: () => state.messages(),
    reset: (resetOptions) => state.reset(resetOptions),
    setSessionStatus: (name, status, me) => void state.forceStatus(name, status, me),
    setFaults: (faults) => state.setFaults(faults),
    stats: () => state.stats(),
    calls: () => state.callLog(),
    setNumberExists: (phone, exists) => state.setNumberExists(phone, exists),
    setAck: (messageId, ack) => state.setAck(messageId, ack),
    sessionStatus: (name) => state.sessions.get(name)?.status,
    drainWebhooks: () => webhooks.drain(),
  };
}

// ------------------------------------------------------------ routing

/** /api/ paths whose second segment is a route, not a session name. */
const API_ROOTS = new Set(["sendText", "sendImage", "sendSeen", "startTyping", "stopTyping", "contacts", "server", "sessions"]);

/** The session a path names: /api/sessions/{session}/… or /api/{session}/…; null when it names none. */
function sessionInPath(segments: string[]): string | null {
  if (segments[2] === "sessions") return segments[3] || null;
  if (segments[2] !== undefined && segments.length > 3 && !API_ROOTS.has(segments[2])) return segments[2];
  return null;
}

/** GOWS's answer when WhatsApp nacks a send with 463 (reachout timelock / new-chat cap), as waha#1904 and #2219 show it. */
function reachoutTimelocked(): Json {
  return {
    statusCode: 500,
    timestamp: new Date().toISOString(),
    exception: { message: "2 UNKNOWN: server returned error 463", code: 2, details: "server returned error 463", metadata: {}, name: "Error" },
  };
}

function compileRoutes(entries: RouteEntry[]): Route[] {
  return entries.map(({ method, pattern, handler }) => {
    const segments = pattern.split("/");
    const rest = segments[segments.length - 1] === "**";
    if (rest) segments.pop();
    return { method, segments, rest, handler };
  });
}

/** The route's params when it takes this request (path split on "/" and decoded), else null. */
function matchRoute(route: Route, method: string, path: string[]): Record<string, string> | null {
  if (route.method !== "*" && route.method !== method) return null;
  if (route.rest ? path.length < route.segments.length : path.length !== route.segments.length) return null;
  let params: Record<string, string> | null = null;
  for (let i = 0; i < route.segments.length; i++) {
    const expected = route.segments[i]!;
    if (expected.startsWith(":")) (params ??= {})[expected.slice(1)] = path[i]!;
    else if (expected !== path[i]) return null;
  }
  return params ?? {};
}

// ------------------------------------------------------------ HTTP helpers

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

/** Nest's answer for a route it does not have (also how an older WAHA answers new-message-id). */
function routeNotFound(res: ServerResponse, method: string, path: string): void {
  sendJson(res, 404, { message: `Cannot ${method} ${path}`, error: "Not Found", statusCode: 404 });
}

function readJson(req: IncomingMessage, allowEmpty = false): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, { statusCode: 413, message: "request entity too large", error: "Payload Too Large" }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") {
        if (allowEmpty) return resolve({});
        return reject(new HttpError(400, { statusCode: 400, message: ["request body must be a JSON object"], error: "Bad Request" }));
      }
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
        resolve(parsed as Json);
      } catch {
        reject(new HttpError(400, { statusCode: 400, message: ["request body must be a JSON object"], error: "Bad Request" }));
      }
    });
  });
}

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function clampInt(value: string | null, fallback: number, min: number, max: number): number {
  const parsed = value === null ? Number.NaN : Number.parseInt(value, 10);
  if (!Number.isFinite(parsed)) return fallback;
  return Math.min(max, Math.max(min, parsed));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pairingCode(): string {
  const letters = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789";
  let code = "";
  for (let i = 0; i < 8; i++) code += letters[Math.floor(Math.random() * letters.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
