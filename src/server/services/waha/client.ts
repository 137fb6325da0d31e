/**
 * The one way the app talks to WAHA (https://waha.devlike.pro), over its HTTP API as described by
 * WAHA's own OpenAPI document (tests/fixtures/waha-openapi.json): one method per endpoint the app
 * uses, over the transport (transport.ts), its answers read by parse.ts. Every failure is a `WahaError`.
 */
import { toSerializedMessageId } from "./chatId";
import type { WahaError } from "./errors";
import { asRecord, httpError, isSuccess, mentionsSession, sentMessageId, toCapping, toMessageInfo, toSessionInfo, unexpected } from "./parse";
import { type Answer, type CallOptions, WahaTransport, type WahaTransportOptions } from "./transport";
import type { WahaCapping, WahaFile, WahaMessageInfo, WahaNowebStoreConfig, WahaSessionInfo, WahaWebhookConfig } from "./types";

export type WahaApiClientOptions = WahaTransportOptions;
export { WahaError, isWahaError, type WahaErrorKind, type WahaRestriction } from "./errors";
export { toChatId, fromChatId, toSerializedMessageId, isSerializedMessageId } from "./chatId";
export type { WahaCapping, WahaCappingStatus, WahaReachoutTimelock, WahaEngine, WahaFile, WahaMessageInfo, WahaNowebStoreConfig, WahaSessionInfo, WahaSessionStatus, WahaWebhookConfig } from "./types";

export class WahaApiClient {
  /** Per call, from request to the end of the answer (connecting and waiting for a free connection included). */
  readonly timeoutMs: number;
  private readonly http: WahaTransport;
  private readonly fail = (init: Parameters<WahaTransport["error"]>[0]): WahaError => this.http.error(init);

  constructor(options: WahaApiClientOptions) {
    this.http = new WahaTransport(options);
    this.timeoutMs = this.http.timeoutMs;
  }

  /** Whether WAHA answered the last call that ended (no WAHA call of its own). */
  reachability(): ReturnType<WahaTransport["reachability"]> {
    return this.http.reachability();
  }

  /** Closes the connections to WAHA (calls still in flight fail as network errors). Idle connections never keep the process alive. */
  close(): void {
    this.http.close();
  }

  // ---------------------------------------------------------------- sessions

  async listSessions(): Promise<WahaSessionInfo[]> {
    // Without all=true WAHA leaves STOPPED sessions out.
    const answer = await this.call("listSessions", { method: "GET", path: "/api/sessions", query: { all: true } });
    if (!Array.isArray(answer.json)) throw unexpected(this.fail, "listSessions", "the answer is not a list of sessions");
    return answer.json.map((item) => toSessionInfo(this.fail, "listSessions", item));
  }

  async getSession(session: string): Promise<WahaSessionInfo> {
    const answer = await this.call("getSession", { method: "GET", path: `/api/sessions/${seg(session)}`, session });
    return toSessionInfo(this.fail, "getSession", answer.json);
  }

  async createSession(
    session: string,
    options: {
      start: boolean;
      webhooks?: WahaWebhookConfig[];
      nowebStore?: WahaNowebStoreConfig;
      /** WEBJS emits `message.ack` only with `config.webjs.tagsEventsOn` (WAHA's WebjsConfig); other engines ignore it. */
      webjsTagsEvents?: boolean;
    },
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
    if (options.webjsTagsEvents) config.webjs = { tagsEventsOn: true };
    const answer = await this.call("createSession", {
      method: "POST",
      path: "/api/sessions",
      session,
      body: { name: session, start: options.start, ...(Object.keys(config).length > 0 ? { config } : {}) },
    });
    return toSessionInfo(this.fail, "createSession", answer.json);
  }

  /** The session's config as WAHA holds it, untouched (null: created without one); `updateSessionConfig` sends it back whole. */
  async getSessionConfig(session: string): Promise<Record<string, unknown> | null> {
    const answer = await this.call("getSessionConfig", { method: "GET", path: `/api/sessions/${seg(session)}`, session });
    const body = asRecord(answer.json);
    if (!body || typeof body.name !== "string") throw unexpected(this.fail, "getSessionConfig", "the answer is not a session");
    return asRecord(body.config) ?? null;
  }

  /**
   * Replaces the session's whole config (PUT /api/sessions/{session}): pass what `getSessionConfig`
   * read, changed, so that nothing else is lost. WAHA may restart a running session to apply it.
   */
  async updateSessionConfig(session: string, config: Record<string, unknown>): Promise<void> {
    await this.call("updateSession", { method: "PUT", path: `/api/sessions/${seg(session)}`, session, body: { name: session, config } });
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

  /** Stops, logs out and deletes the session on WAHA (idempotent there). */
  async deleteSession(session: string): Promise<void> {
    await this.call("deleteSession", { method: "DELETE", path: `/api/sessions/${seg(session)}`, session });
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
    if (typeof body?.data !== "string" || body.data.length === 0) throw unexpected(this.fail, "getQrImage", "the answer has no image data");
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
    if (typeof value !== "string") throw unexpected(this.fail, "getQrValue", "the answer has no QR value");
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
    if (typeof code !== "string") throw unexpected(this.fail, "requestPairingCode", "the answer has no code");
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
    return { messageId: sentMessageId(this.fail, "sendText", answer.json, input.chatId, input.messageId) };
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
    return { messageId: sentMessageId(this.fail, "sendImage", answer.json, input.chatId, input.messageId) };
  }

  /** Marks the chat's messages as read (WAHA: `POST /api/sendSeen {session, chatId}`; every unread message when no ids are given). */
  async sendSeen(input: { session: string; chatId: string; messageIds?: string[] }): Promise<void> {
    await this.call("sendSeen", {
      method: "POST",
      path: "/api/sendSeen",
      session: input.session,
      body: { session: input.session, chatId: input.chatId, ...(input.messageIds && input.messageIds.length > 0 ? { messageIds: input.messageIds } : {}) },
    });
  }

  /** Shows "typing…" in the chat until `stopTyping` or a send (WAHA: `POST /api/startTyping {session, chatId}`). */
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
    if (typeof body?.numberExists !== "boolean") throw unexpected(this.fail, "checkNumberExists", "the answer has no numberExists");
    return { numberExists: body.numberExists, chatId: typeof body.chatId === "string" && body.chatId ? body.chatId : null };
  }

  /**
   * WhatsApp's new-chat cap for this number (waha PR#2186, GOWS only): how many new chats it may
   * still start this cycle. Resolves null when this WAHA cannot say (another engine: 501 or 400;
   * a WAHA without the endpoint: its route 404), so callers work without it.
   */
  async getCapping(session: string): Promise<WahaCapping | null> {
    const operation = "getCapping";
    const answer = await this.request(operation, { method: "GET", path: `/api/sessions/${seg(session)}/capping`, session });
    // Nest's "Cannot GET /api/sessions/…/capping" names the path, so mentionsSession cannot tell it apart.
    if (answer.status === 404 && /^Cannot [A-Z]+ \//.test(String(asRecord(answer.json)?.message ?? ""))) return null; // route unknown to this WAHA
    if (answer.status === 501 || (answer.status === 400 && /engine|not implemented|GOWS/i.test(JSON.stringify(answer.json ?? "")))) return null;
    if (!isSuccess(answer.status)) throw httpError(this.fail, operation, answer, session);
    return toCapping(this.fail, operation, answer.json);
  }

  // ---------------------------------------------------------------- idempotency

  /** WAHA >= 2026.4.3; resolves null when this WAHA lacks the endpoint (older versions), so callers work without it. */
  async newMessageId(session: string): Promise<string | null> {
    const operation = "newMessageId";
    const answer = await this.request(operation, { method: "GET", path: `/api/${seg(session)}/new-message-id`, session });
    if (answer.status === 404 && !mentionsSession(answer.json)) return null; // route unknown to this WAHA
    if (!isSuccess(answer.status)) throw httpError(this.fail, operation, answer, session);
    const id = asRecord(answer.json)?.id;
    if (typeof id !== "string" || id.length === 0) throw unexpected(this.fail, operation, "the answer has no id");
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
    if (!isSuccess(answer.status)) throw httpError(this.fail, operation, answer, session);
    if (answer.json === undefined || answer.json === null) return null; // some engines answer 200 with no body
    const message = toMessageInfo(this.fail, operation, answer.json);
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
    if (!isSuccess(answer.status)) throw httpError(this.fail, operation, answer, session);
    if (!Array.isArray(answer.json)) throw unexpected(this.fail, operation, "the answer is not a list of messages");
    return answer.json.map((item) => toMessageInfo(this.fail, operation, item));
  }

  // ---------------------------------------------------------------- plumbing

  private request(operation: string, options: CallOptions): Promise<Answer> {
    return this.http.request(operation, options);
  }

  private async call(operation: string, options: CallOptions): Promise<Answer> {
    const answer = await this.request(operation, options);
    if (!isSuccess(answer.status)) throw httpError(this.fail, operation, answer, options.session);
    return answer;
  }
}

function seg(value: string): string {
  return encodeURIComponent(value);
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
