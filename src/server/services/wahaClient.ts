import http from "node:http";
import https from "node:https";
import { childLogger, maskPhone } from "~/server/logger";
import { fromChatId, toSerializedMessageId } from "./waha/chatId";
import { WahaError, classifyNetworkError, kindForHttpStatus, type WahaErrorKind } from "./waha/errors";

export { WahaError, isWahaError, type WahaErrorKind } from "./waha/errors";
export { toChatId, fromChatId, toSerializedMessageId, isSerializedMessageId } from "./waha/chatId";

/**
 * The one way the app talks to WAHA (https://waha.devlike.pro), over its HTTP API as described by
 * WAHA's own OpenAPI document (shared/waha/openapi.json). Every failure is a `WahaError`.
 */

export type WahaEngine = "NOWEB" | "WEBJS" | "GOWS";
export type WahaSessionStatus = "STOPPED" | "STARTING" | "SCAN_QR_CODE" | "WORKING" | "FAILED";

export interface WahaSessionInfo {
  name: string;
  status: WahaSessionStatus;
  me?: { id: string; pushName?: string } | null;
  engine?: string;
  /** WAHA's own status when it is not one of ours (e.g. PASSKEY_REQUIRED, shown as SCAN_QR_CODE). */
  rawStatus?: string;
  /**
   * Whether NOWEB keeps this session's messages, so that a message can be found by id: the session's
   * `config.noweb.store.enabled`, which WAHA echoes as the session was created (false when the config
   * leaves it out: WAHA's default is off). Absent when WAHA's answer has no `config` at all.
   */
  nowebStoreEnabled?: boolean;
  /** GOWS keeps messages unless the session's `config.gows.storage.messages` is false (WAHA's default is on). Absent without a `config`. */
  gowsMessageStorage?: boolean;
}

/** NOWEB's message store, `config.noweb.store` in WAHA (read only by the NOWEB engine; fixed once the QR code is scanned). */
export interface WahaNowebStoreConfig {
  enabled: boolean;
  /** Also download the phone's whole history at the QR scan (slow, heavy); off keeps about 90 days. */
  fullSync: boolean;
}

export interface WahaWebhookConfig {
  url: string;
  events: string[];
  hmacKey?: string;
}

export type WahaFile =
  | { url: string; mimetype?: string; filename?: string }
  | { data: string /* base64 */; mimetype: string; filename: string };

/** A message as `getMessage` / `listChatMessages` report it. `ack`: -1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED. */
export interface WahaMessageInfo {
  id: string;
  body?: string | null;
  ack?: number | null;
  fromMe?: boolean;
  timestamp?: number;
}

export interface WahaApiClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** Per call, from request to the end of the answer. Default 30 s (WAHA itself may wait ~10 s for a session). */
  timeoutMs?: number;
  /** Connections the client keeps to WAHA at most (calls beyond wait for one, within their timeout). Default 64. */
  maxSockets?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_SOCKETS = 64;
/**
 * An idle connection is dropped after this long. Below Node's default server keep-alive timeout
 * (5 s, WAHA is a Node server), so we are the side that closes it, not WAHA in the middle of our next
 * request; a shorter `Keep-Alive: timeout=N` from the server lowers it further (Node's agent reads it).
 */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;
const KNOWN_STATUSES: ReadonlySet<string> = new Set(["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"]);

type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

interface CallOptions {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** The session this call is about, for error messages. */
  session?: string;
  accept?: string;
}

interface Answer {
  status: number;
  contentType: string;
  bytes: Buffer;
  /** Parsed JSON body; undefined when the body is empty or not JSON. */
  json: unknown;
}

/** How one attempt at an HTTP exchange ended. */
type Exchange =
  | { ok: true; answer: Answer }
  | {
      ok: false;
      error: unknown;
      /** The failure came from the connection (socket, DNS, TLS, a garbled answer, our timeout), not from building the request. */
      network: boolean;
      /** A reused keep-alive connection was reset before any answer: WAHA probably closed it as we sent. */
      staleSocket: boolean;
      /**
       * The connection was established (TLS included) and the whole request handed to it. Before
       * that, WAHA cannot have acted on it: it never acts on a request it did not receive in full.
       */
      written: boolean;
    };

const log = childLogger("waha-client");

export class WahaApiClient {
  /** Per call, from request to the end of the answer (connecting and waiting for a free connection included). */
  readonly timeoutMs: number;
  private readonly apiKey: string | undefined;
  /** The base URL without credentials, safe to show in messages. */
  private readonly displayOrigin: string;
  private readonly transport: typeof http | typeof https;
  /** Keep-alive connections to WAHA, this client's own; `close()` destroys them. */
  private readonly agent: http.Agent;
  private readonly hostname: string;
  private readonly port: number | undefined;
  /** The base URL's path ("" or "/prefix"), put before every API path. */
  private readonly basePath: string;
  /** When WAHA last answered (any HTTP answer), and when a call last could not reach it: the health check reads these. */
  private lastAnsweredAt: Date | null = null;
  private lastUnreachableAt: Date | null = null;

  constructor(options: WahaApiClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new WahaError({ kind: "invalid_request", operation: "configure", message: "WAHA configure failed: WAHA_URL is not a valid URL" });
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new WahaError({ kind: "invalid_request", operation: "configure", message: "WAHA configure failed: WAHA_URL must be an http(s) URL" });
    }
    if (parsed.username !== "" || parsed.password !== "") {
      throw new WahaError({
        kind: "invalid_request",
        operation: "configure",
        message: "WAHA configure failed: WAHA_URL must not contain credentials (WAHA takes its key as WAHA_API_KEY)",
      });
    }
    this.apiKey = options.apiKey === "" ? undefined : options.apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.displayOrigin = `${parsed.protocol}//${parsed.host}`;
    const secure = parsed.protocol === "https:";
    this.transport = secure ? https : http;
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
      // The most recently used connection first: the idle ones age out instead of all being kept warm.
      scheduling: "lifo",
      timeout: IDLE_SOCKET_TIMEOUT_MS,
    };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1"); // IPv6 literals without brackets
    this.port = parsed.port === "" ? undefined : Number(parsed.port);
    this.basePath = parsed.pathname.replace(/\/+$/, "");
  }

  /** Whether WAHA answered the last call that ended (no WAHA call of its own). */
  reachability(): { state: "answering" | "unreachable" | "not_asked_yet"; lastAnsweredAt: Date | null } {
    const answered = this.lastAnsweredAt?.getTime() ?? -1;
    const unreachable = this.lastUnreachableAt?.getTime() ?? -1;
    const state = answered < 0 && unreachable < 0 ? "not_asked_yet" : answered >= unreachable ? "answering" : "unreachable";
    return { state, lastAnsweredAt: this.lastAnsweredAt };
  }

  /** Closes the connections to WAHA (calls still in flight fail as network errors). Idle connections never keep the process alive. */
  close(): void {
    this.agent.destroy();
  }

  // ---------------------------------------------------------------- sessions

  async listSessions(): Promise<WahaSessionInfo[]> {
    // Without all=true WAHA leaves STOPPED sessions out.
    const answer = await this.call("listSessions", { method: "GET", path: "/api/sessions", query: { all: true } });
    if (!Array.isArray(answer.json)) throw this.unexpected("listSessions", "the answer is not a list of sessions");
    return answer.json.map((item) => this.toSessionInfo("listSessions", item));
  }

  async getSession(session: string): Promise<WahaSessionInfo> {
    const answer = await this.call("getSession", { method: "GET", path: `/api/sessions/${seg(session)}`, session });
    return this.toSessionInfo("getSession", answer.json);
  }

  async createSession(
    session: string,
    options: { start: boolean; webhooks?: WahaWebhookConfig[]; nowebStore?: WahaNowebStoreConfig },
  ): Promise<WahaSessionInfo> {
    const config: Record<string, unknown> = {};
    if (options.webhooks && options.webhooks.length > 0) {
      config.webhooks = options.webhooks.map((hook) => ({
        url: hook.url,
        events: hook.events,
        ...(hook.hmacKey ? { hmac: { key: hook.hmacKey } } : {}),
      }));
    }
    if (options.nowebStore) {
      // markOnline is WAHA's default (true), sent because WAHA's NowebConfig declares it required.
      config.noweb = { store: { enabled: options.nowebStore.enabled, fullSync: options.nowebStore.fullSync }, markOnline: true };
    }
    const answer = await this.call("createSession", {
      method: "POST",
      path: "/api/sessions",
      session,
      body: { name: session, start: options.start, ...(Object.keys(config).length > 0 ? { config } : {}) },
    });
    return this.toSessionInfo("createSession", answer.json);
  }

  async startSession(session: string): Promise<void> {
    await this.call("startSession", { method: "POST", path: `/api/sessions/${seg(session)}/start`, session });
  }

  async stopSession(session: string): Promise<void> {
    await this.call("stopSession", { method: "POST", path: `/api/sessions/${seg(session)}/stop`, session });
  }

  async logoutSession(session: string): Promise<void> {
    await this.call("logoutSession", { method: "POST", path: `/api/sessions/${seg(session)}/logout`, session });
  }

  /** The QR code to scan, as a base64 PNG. WAHA serves it only while the session is SCAN_QR_CODE. */
  async getQrImage(session: string): Promise<{ mimetype: string; data: string }> {
    const answer = await this.call("getQrImage", {
      method: "GET",
      path: `/api/${seg(session)}/auth/qr`,
      query: { format: "image" },
      accept: "application/json",
      session,
    });
    if (answer.contentType.startsWith("image/")) {
      return { mimetype: answer.contentType.split(";")[0]!.trim(), data: answer.bytes.toString("base64") };
    }
    const body = asRecord(answer.json);
    if (typeof body?.data !== "string" || body.data.length === 0) throw this.unexpected("getQrImage", "the answer has no image data");
    return { mimetype: typeof body.mimetype === "string" ? body.mimetype : "image/png", data: body.data };
  }

  /** The QR code's raw text, for rendering it ourselves. */
  async getQrValue(session: string): Promise<string> {
    const answer = await this.call("getQrValue", {
      method: "GET",
      path: `/api/${seg(session)}/auth/qr`,
      query: { format: "raw" },
      accept: "application/json",
      session,
    });
    const value = asRecord(answer.json)?.value;
    if (typeof value !== "string") throw this.unexpected("getQrValue", "the answer has no QR value");
    return value;
  }

  /** Pairing by code instead of QR: WhatsApp on the phone asks for this code. */
  async requestPairingCode(session: string, phoneNumber: string): Promise<{ code: string }> {
    const answer = await this.call("requestPairingCode", {
      method: "POST",
      path: `/api/${seg(session)}/auth/request-code`,
      body: { phoneNumber: phoneNumber.replace(/\D/g, "") },
      session,
    });
    const code = asRecord(answer.json)?.code;
    if (typeof code !== "string") throw this.unexpected("requestPairingCode", "the answer has no code");
    return { code };
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends a text. `messageId` (from `newMessageId`) fixes the message's id before the call, so a send
   * whose answer was lost can be found with `getMessage`. Resolves with the serialized id
   * (`true_<chatId>_<id>`) whatever the engine, usable with `getMessage`.
   */
  async sendText(input: { session: string; chatId: string; text: string; messageId?: string }): Promise<{ messageId: string }> {
    const answer = await this.call("sendText", {
      method: "POST",
      path: "/api/sendText",
      session: input.session,
      body: {
        session: input.session,
        chatId: input.chatId,
        text: input.text,
        ...(input.messageId ? { id: input.messageId } : {}),
      },
    });
    return { messageId: this.sentMessageId("sendText", answer.json, input.chatId, input.messageId) };
  }

  async sendImage(input: { session: string; chatId: string; file: WahaFile; caption?: string; messageId?: string }): Promise<{ messageId: string }> {
    const file =
      "url" in input.file
        ? {
            url: input.file.url,
            // WAHA requires a mimetype for a remote file.
            mimetype: input.file.mimetype ?? guessImageMimetype(input.file.filename ?? input.file.url),
            ...(input.file.filename ? { filename: input.file.filename } : {}),
          }
        : { data: input.file.data, mimetype: input.file.mimetype, filename: input.file.filename };
    const answer = await this.call("sendImage", {
      method: "POST",
      path: "/api/sendImage",
      session: input.session,
      body: {
        session: input.session,
        chatId: input.chatId,
        file,
        ...(input.caption !== undefined ? { caption: input.caption } : {}),
        ...(input.messageId ? { id: input.messageId } : {}),
      },
    });
    return { messageId: this.sentMessageId("sendImage", answer.json, input.chatId, input.messageId) };
  }

  async startTyping(input: { session: string; chatId: string }): Promise<void> {
    await this.call("startTyping", { method: "POST", path: "/api/startTyping", session: input.session, body: { session: input.session, chatId: input.chatId } });
  }

  async stopTyping(input: { session: string; chatId: string }): Promise<void> {
    await this.call("stopTyping", { method: "POST", path: "/api/stopTyping", session: input.session, body: { session: input.session, chatId: input.chatId } });
  }

  /** Whether `phone` (E.164) has WhatsApp; `chatId` is the id WAHA wants for it (null when it does not exist). */
  async checkNumberExists(session: string, phone: string): Promise<{ numberExists: boolean; chatId: string | null }> {
    const answer = await this.call("checkNumberExists", {
      method: "GET",
      path: "/api/contacts/check-exists",
      query: { phone: phone.replace(/\D/g, ""), session },
      session,
    });
    const body = asRecord(answer.json);
    if (typeof body?.numberExists !== "boolean") throw this.unexpected("checkNumberExists", "the answer has no numberExists");
    return { numberExists: body.numberExists, chatId: typeof body.chatId === "string" && body.chatId ? body.chatId : null };
  }

  // ---------------------------------------------------------------- idempotency

  /** WAHA >= 2026.4.3; resolves null when this WAHA lacks the endpoint (older versions), so callers work without it. */
  async newMessageId(session: string): Promise<string | null> {
    const operation = "newMessageId";
    const answer = await this.request(operation, { method: "GET", path: `/api/${seg(session)}/new-message-id`, session });
    if (answer.status === 404 && !mentionsSession(answer.json)) return null; // route unknown to this WAHA
    if (!isSuccess(answer.status)) throw this.httpError(operation, answer, session);
    const id = asRecord(answer.json)?.id;
    if (typeof id !== "string" || id.length === 0) throw this.unexpected(operation, "the answer has no id");
    return id;
  }

  /**
   * A message by id; null when WAHA says it does not exist. `messageId` may be serialized
   * (`true_<chatId>_<id>`, as `sendText` returns) or raw (as `newMessageId` returns).
   */
  async getMessage(session: string, chatId: string, messageId: string): Promise<{ id: string; body?: string | null; ack?: number | null } | null> {
    const operation = "getMessage";
    const serialized = toSerializedMessageId(chatId, messageId);
    const answer = await this.request(operation, {
      method: "GET",
      path: `/api/${seg(session)}/chats/${seg(chatId)}/messages/${seg(serialized)}`,
      query: { downloadMedia: false },
      session,
    });
    if (answer.status === 404 && !mentionsSession(answer.json)) return null;
    if (!isSuccess(answer.status)) throw this.httpError(operation, answer, session);
    if (answer.json === undefined || answer.json === null) return null; // some engines answer 200 with no body
    const message = this.toMessageInfo(operation, answer.json);
    return { id: message.id, body: message.body ?? null, ack: message.ack ?? null };
  }

  /** The chat's most recent messages, newest first (recovery when a message id was never fixed). */
  async listChatMessages(session: string, chatId: string, options: { limit?: number } = {}): Promise<WahaMessageInfo[]> {
    const operation = "listChatMessages";
    const answer = await this.request(operation, {
      method: "GET",
      path: `/api/${seg(session)}/chats/${seg(chatId)}/messages`,
      query: { limit: options.limit ?? 20, downloadMedia: false, sortBy: "timestamp", sortOrder: "desc" },
      session,
    });
    if (answer.status === 404 && !mentionsSession(answer.json)) return [];
    if (!isSuccess(answer.status)) throw this.httpError(operation, answer, session);
    if (!Array.isArray(answer.json)) throw this.unexpected(operation, "the answer is not a list of messages");
    return answer.json.map((item) => this.toMessageInfo(operation, item));
  }

  // ---------------------------------------------------------------- plumbing

  private async call(operation: string, options: CallOptions): Promise<Answer> {
    const answer = await this.request(operation, options);
    if (!isSuccess(answer.status)) throw this.httpError(operation, answer, options.session);
    return answer;
  }

  /** One HTTP exchange. Throws only for network failures and timeouts; any HTTP answer (3xx included: redirects are not followed) is returned. */
  private async request(operation: string, options: CallOptions): Promise<Answer> {
    let path = this.basePath + options.path;
    if (options.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(options.query)) if (value !== undefined) params.set(key, String(value));
      path += `?${params.toString()}`;
    }
    const headers: http.OutgoingHttpHeaders = { accept: options.accept ?? "application/json" };
    if (this.apiKey !== undefined) headers["x-api-key"] = this.apiKey;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    } else if (options.method === "POST" || options.method === "PUT") {
      headers["content-length"] = 0;
    }
    const started = performance.now();
    // One deadline for the whole call, a retry included.
    const deadline = started + this.timeoutMs;
    let outcome = await this.exchange(options.method, path, headers, payload, deadline);
    // A keep-alive connection WAHA closed while we were sending on it: a GET is safe to send again,
    // once, on a new connection. Never a POST: a send must not be doubled (it stays outcome unknown).
    if (!outcome.ok && outcome.staleSocket && options.method === "GET" && performance.now() < deadline) {
      log.debug({ operation, session: options.session }, "waha connection closed under a reused socket; retrying the GET once");
      outcome = await this.exchange(options.method, path, headers, payload, deadline);
    }
    if (!outcome.ok) {
      if (outcome.network) this.lastUnreachableAt = new Date();
      throw this.networkError(operation, outcome.error, options.session, outcome.network, outcome.written);
    }
    this.lastAnsweredAt = new Date();
    if (log.isLevelEnabled("debug")) {
      log.debug({ operation, session: options.session, status: outcome.answer.status, ms: Math.round(performance.now() - started) }, "waha call");
    }
    return outcome.answer;
  }

  /** One attempt: resolves (never rejects) once the answer is complete, the connection failed, or the deadline passed. */
  private exchange(method: HttpMethod, path: string, headers: http.OutgoingHttpHeaders, payload: string | undefined, deadline: number): Promise<Exchange> {
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      let answered = false;
      let finished = false;
      let connected = false;
      let request: http.ClientRequest | undefined;
      const settle = (outcome: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const fail = (error: unknown): void => {
        const staleSocket = !answered && request?.reusedSocket === true && isResetError(error);
        settle({ ok: false, error, network: true, staleSocket, written: finished && connected });
      };
      // The timeout covers everything: a free connection, connecting, sending, the answer's last byte.
      const timer = setTimeout(
        () => {
          const error = new DOMException(`The operation timed out after ${this.timeoutMs} ms`, "TimeoutError");
          settle({ ok: false, error, network: true, staleSocket: false, written: finished && connected });
          request?.destroy(error);
        },
        Math.max(0, deadline - performance.now()),
      );
      try {
        request = this.transport.request(
          { agent: this.agent, hostname: this.hostname, port: this.port, path, method, headers },
          (response) => {
            answered = true;
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("error", fail);
            response.on("close", () => {
              if (!response.complete) fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
            });
            response.on("end", () => {
              const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
              const contentType = response.headers["content-type"] ?? "";
              settle({ ok: true, answer: { status: response.statusCode ?? 0, contentType, bytes, json: parseJson(bytes, contentType) } });
            });
          },
        );
      } catch (error) {
        // Refused before anything was sent (e.g. a header value Node will not send).
        settle({ ok: false, error, network: false, staleSocket: false, written: false });
        return;
      }
      // 'finish' only means the request is buffered: on a new connection it leaves once TCP (and TLS) is up.
      request.on("finish", () => {
        finished = true;
      });
      request.on("socket", (socket) => {
        // A kept-alive socket is connected already; a new one is still connecting when it is handed over.
        if (request?.reusedSocket || !socket.connecting) connected = true;
        else {
          socket.once(this.transport === https ? "secureConnect" : "connect", () => {
            connected = true;
          });
        }
      });
      request.on("error", fail);
      request.end(payload);
    });
  }

  private networkError(operation: string, error: unknown, session: string | undefined, network: boolean, written: boolean): WahaError {
    const classified = classifyNetworkError(error, { network });
    const { transient, code } = classified;
    // A request that never fully left (refused, DNS, a TLS failure, a timeout while connecting) was not acted on.
    const outcomeUnknown = written && classified.outcomeUnknown;
    let reason: string;
    if (code === "TIMEOUT") reason = `WAHA did not answer within ${this.timeoutMs} ms`;
    else if (code === "ECONNREFUSED") reason = `cannot connect to ${this.displayOrigin} (connection refused)`;
    else if (code) reason = `network error talking to ${this.displayOrigin} (${code})`;
    else reason = `request to ${this.displayOrigin} failed (${error instanceof Error ? error.message : String(error)})`;
    log.warn({ operation, session, code }, "waha call failed");
    return this.makeError({
      kind: transient ? "transient" : "unexpected",
      operation,
      message: `WAHA ${operation} failed: ${reason}`,
      outcomeUnknown,
      cause: error,
    });
  }

  private httpError(operation: string, answer: Answer, session: string | undefined): WahaError {
    const body = asRecord(answer.json);
    const detail = describeBody(answer);
    const status = answer.status;
    const who = session === undefined ? "" : ` "${session}"`;

    if (status === 422 && body && Array.isArray(body.expected)) {
      const expected = body.expected.filter((item): item is string => typeof item === "string");
      const sessionStatus = typeof body.status === "string" ? body.status : undefined;
      return this.makeError({
        kind: "session_not_working",
        operation,
        httpStatus: status,
        expected,
        ...(sessionStatus !== undefined ? { sessionStatus } : {}),
        message: `WAHA ${operation} failed: session${who} is not ${expected.join(" or ") || "ready"} (status ${sessionStatus ?? "unknown"})`,
      });
    }
    if (status >= 300 && status < 400) {
      return this.makeError({ kind: "unexpected", operation, httpStatus: status, message: `WAHA ${operation} failed: unexpected redirect (HTTP ${status})` });
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
    return this.makeError({
      kind,
      operation,
      httpStatus: status,
      message: `WAHA ${operation} failed: ${reason}`,
      // 429/408 were refused up front.
      outcomeUnknown: status >= 500 && !proxyNeverForwarded,
    });
  }

  private unexpected(operation: string, why: string): WahaError {
    return this.makeError({ kind: "unexpected", operation, message: `WAHA ${operation} failed: ${why}` });
  }

  /** The last guard: whatever a server echoed, the API key never leaves in a message. */
  private makeError(init: ConstructorParameters<typeof WahaError>[0]): WahaError {
    const key = this.apiKey;
    const message = key && key.length > 0 ? init.message.split(key).join("[redacted]") : init.message;
    return new WahaError({ ...init, message });
  }

  private toSessionInfo(operation: string, raw: unknown): WahaSessionInfo {
    const body = asRecord(raw);
    if (!body || typeof body.name !== "string" || typeof body.status !== "string") {
      throw this.unexpected(operation, "the answer is not a session");
    }
    const info: WahaSessionInfo = { name: body.name, status: normaliseStatus(body.status) };
    if (info.status !== body.status) info.rawStatus = body.status;
    const me = asRecord(body.me);
    if (me && typeof me.id === "string") {
      info.me = { id: me.id, ...(typeof me.pushName === "string" ? { pushName: me.pushName } : {}) };
    } else if (body.me === null) {
      info.me = null;
    }
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

  private toMessageInfo(operation: string, raw: unknown): WahaMessageInfo {
    const body = asRecord(raw);
    if (!body || typeof body.id !== "string") throw this.unexpected(operation, "the answer is not a message");
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
  private sentMessageId(operation: string, raw: unknown, chatId: string, requestedId: string | undefined): string {
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
    throw this.makeError({
      kind: "unexpected",
      operation,
      message: `WAHA ${operation} failed: WAHA accepted the message but its answer has no message id`,
      outcomeUnknown: true,
    });
  }
}

// ---------------------------------------------------------------- helpers

/** ECONNRESET (incl. Node's "socket hang up") or EPIPE: the other side closed the connection. */
function isResetError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function parseJson(bytes: Buffer, contentType: string): unknown {
  if (bytes.length === 0) return undefined;
  if (!contentType.includes("json") && bytes[0] !== 0x7b /* { */ && bytes[0] !== 0x5b /* [ */) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
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
function mentionsSession(json: unknown): boolean {
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

function guessImageMimetype(name: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(name)?.[1]?.toLowerCase();
  switch (extension) {
    case "png":
      return "image/png";
    case "webp":
      return "image/webp";
    case "gif":
      return "image/gif";
    default:
      return "image/jpeg";
  }
}

function maskChatId(chatId: string): string {
  const phone = fromChatId(chatId);
  return phone ? maskPhone(phone) : "[chat]";
}
