import { createHash, randomBytes } from "node:crypto";
import type { WebhookSender, WebhookTarget } from "./webhooks";

/**
 * The fake's memory: sessions with WAHA's lifecycle, accepted messages, injected faults and
 * send statistics. No HTTP here; server.ts maps requests onto these methods.
 */

export type WahaEngine = "NOWEB" | "WEBJS" | "GOWS";
export type WahaSessionStatus = "STOPPED" | "STARTING" | "SCAN_QR_CODE" | "WORKING" | "FAILED";
export const SESSION_STATUSES: readonly WahaSessionStatus[] = ["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"];

/** Every send the fake accepted (GET /__fake/messages). `id` is the serialized id the send answered. */
export interface FakeMessage {
  id: string;
  session: string;
  chatId: string;
  text: string | null;
  caption?: string;
  hasFile: boolean;
  /** The image's file name as the client sent it (sendImage's `file.filename`). */
  fileName?: string;
  at: string;
}

export interface FakeFaults {
  /** Delay before every send answer (sendText, sendImage), successful or not. */
  latencyMs: number;
  /** 0..1: this fraction of sends answers 500 and is not recorded. */
  errorRate: number;
  /** The next N sends answer 500 and are not recorded (checked before errorRate). */
  failNext: number;
  /**
   * WhatsApp's reachout timelock: until `untilMs` (epoch ms), every send of `session` (of every
   * session when absent) answers WAHA's 500 with error 463 and is not recorded. null: none.
   */
  restricted: { untilMs: number; session?: string } | null;
  /** New chats a session may start per cycle (the capping endpoint's totalQuota); -1 = no cap. At the cap, sends to new chats answer 463. */
  newChatQuota: number;
}

/** One WAHA call as the fake received it (GET /__fake/calls), in arrival order. */
export interface FakeCall {
  method: string;
  path: string;
  session: string | null;
  chatId: string | null;
  at: string;
}

/** Calls kept by GET /__fake/calls; older ones are dropped first (a benchmark must not grow it without bound). */
export const MAX_CALLS_KEPT = 200_000;

/** The new-chat cap's status from its use, as WhatsApp's warnings step up (thresholds of the fake, documented). */
export type CappingStatus = "NONE" | "FIRST_WARNING" | "SECOND_WARNING" | "CAPPED";

const CAPPING_CYCLE_MS = 24 * 60 * 60 * 1000;

function noFaults(): FakeFaults {
  return { latencyMs: 0, errorRate: 0, failNext: 0, restricted: null, newChatQuota: -1 };
}

export interface FakeStats {
  maxInFlight: Record<string, number>;
  inFlight: Record<string, number>;
  sent: Record<string, number>;
}

export interface SessionState {
  name: string;
  status: WahaSessionStatus;
  config: Record<string, unknown> | undefined;
  /** The logged-in account; kept across stop/start like WAHA's stored auth, cleared by logout. */
  me: { id: string; pushName: string } | null;
  /** Bumped on every status change: a scheduled transition only runs if nothing changed since. */
  generation: number;
  statuses: { status: WahaSessionStatus; timestamp: number }[];
  qrValue: string;
  activity: number | null;
}

export interface StoredMessage {
  message: FakeMessage;
  rawId: string;
  fromId: string;
  acceptedAt: number;
  /** Set by /__fake/messages/{id}/ack; otherwise the ack follows time (PENDING -> SERVER -> DEVICE). */
  ack: number | undefined;
  mimetype: string | undefined;
  /** Kept where WAHA's message endpoints can find it (false: NOWEB without its store when it was sent). */
  inStore: boolean;
}

export const ACK_NAMES: Record<number, string> = { [-1]: "ERROR", 0: "PENDING", 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED" };

/**
 * Which sessions keep their messages on a NOWEB fake. `always`: every one (the fake's default, for
 * tests about other things). `config`: as WAHA does, only a session created with
 * `config.noweb.store.enabled: true`; the others answer 400 to message reads.
 */
export type NowebStoreMode = "always" | "config";

export interface StateOptions {
  engine: WahaEngine;
  nowebStore: NowebStoreMode;
  transitionDelayMs: number;
  ackDelayMs: number;
  webhooks: WebhookSender;
}

export class FakeWahaState {
  readonly sessions = new Map<string, SessionState>();
  private records: StoredMessage[] = [];
  /** `${session}\n${serializedId}` -> message */
  private byId = new Map<string, StoredMessage>();
  /** `${session}\n${chatId}` -> messages, oldest first */
  private byChat = new Map<string, StoredMessage[]>();
  faults: FakeFaults = noFaults();
  private calls: FakeCall[] = [];
  /** `${session}\n${chatId}` of every chat a session sent to this cycle: its new chats. */
  private startedChats = new Map<string, Set<string>>();
  private cycleStart = Date.now();
  private inFlight = new Map<string, number>();
  private maxInFlight = new Map<string, number>();
  private sent = new Map<string, number>();
  private readonly missingNumbers = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: StateOptions) {}

  get engine(): WahaEngine {
    return this.options.engine;
  }

  // ------------------------------------------------------------ sessions

  createSession(name: string, config: Record<string, unknown> | undefined, start: boolean): SessionState {
    const session: SessionState = {
      name,
      status: "STOPPED",
      config,
      me: null,
      generation: 0,
      statuses: [],
      qrValue: newQrValue(),
      activity: null,
    };
    this.sessions.set(name, session);
    if (start) this.start(session);
    return session;
  }

  /** STOPPED -> STARTING -> SCAN_QR_CODE (or WORKING when the account is still logged in). Idempotent. */
  start(session: SessionState): void {
    if (session.status !== "STOPPED" && session.status !== "FAILED") return;
    this.setStatus(session, "STARTING");
    this.later(session, () => this.setStatus(session, session.me ? "WORKING" : "SCAN_QR_CODE"));
  }

  stop(session: SessionState): void {
    if (session.status !== "STOPPED") this.setStatus(session, "STOPPED");
  }

  /** WAHA: "Logout the session, restart a session if it was not STOPPED". */
  logout(session: SessionState): void {
    session.me = null;
    if (session.status === "STOPPED") return;
    this.setStatus(session, "STARTING");
    this.later(session, () => this.setStatus(session, "SCAN_QR_CODE"));
  }

  restart(session: SessionState): void {
    this.stop(session);
    this.start(session);
  }

  delete(session: SessionState): void {
    this.stop(session);
    this.sessions.delete(session.name);
  }

  /** The control API's status change: creates the session if unknown; WORKING logs an account in. */
  forceStatus(name: string, status: WahaSessionStatus, me?: { id: string; pushName?: string }): SessionState {
    const session = this.sessions.get(name) ?? this.createSession(name, undefined, false);
    if (me) session.me = { id: me.id, pushName: me.pushName ?? `Fake ${name}` };
    if (status === "WORKING") session.me ??= defaultMe(name);
    if (status === "SCAN_QR_CODE") session.me = null; // the phone unlinked this device
    this.setStatus(session, status);
    return session;
  }

  setStatus(session: SessionState, status: WahaSessionStatus): void {
    session.generation++;
    session.status = status;
    const timestamp = Date.now();
    session.activity = timestamp;
    session.statuses.push({ status, timestamp });
    if (session.statuses.length > 10) session.statuses.shift();
    if (status === "SCAN_QR_CODE") session.qrValue = newQrValue();
    this.options.webhooks.emit(this.webhooksOf(session), {
      session: session.name,
      event: "session.status",
      engine: this.engine,
      me: status === "WORKING" ? session.me : null,
      metadata: session.config?.metadata,
      payload: { name: session.name, status, statuses: session.statuses.slice() },
    });
  }

  /** SessionInfo as GET /api/sessions/{session} answers it. */
  sessionInfo(session: SessionState): Record<string, unknown> {
    return {
      name: session.name,
      status: session.status,
      ...(session.config !== undefined ? { config: session.config } : {}),
      me: session.status === "WORKING" ? this.meInfo(session) : null,
      presence: {},
      timestamps: { activity: session.activity },
      engine: { engine: this.engine },
    };
  }

  /** `me`, with GOWS's `reachoutTimelock` (null when none; shape assumed from whatsmeow's event, see docs/fake-waha.md). */
  private meInfo(session: SessionState): Record<string, unknown> | null {
    if (!session.me) return null;
    if (this.engine !== "GOWS") return session.me;
    const until = this.restrictedUntil(session.name);
    return {
      ...session.me,
      reachoutTimelock: until === null ? null : { isActive: true, timeEnforcementEnds: new Date(until).toISOString(), enforcementType: "RESTRICT_ALL_COMPANIONS" },
    };
  }

  /** SessionDTO as create/start/stop/logout answer it. */
  sessionDto(session: SessionState): Record<string, unknown> {
    return { name: session.name, status: session.status, ...(session.config !== undefined ? { config: session.config } : {}) };
  }

  meOf(session: SessionState): { id: string; pushName: string } {
    return session.me ?? defaultMe(session.name);
  }

  // ------------------------------------------------------------ messages

  /**
   * Whether WAHA keeps this session's messages now. WEBJS and GOWS do; NOWEB only with its store
   * (`config.noweb.store.enabled`, off by default), unless the fake runs with `nowebStore: "always"`.
   */
  storesMessages(session: SessionState): boolean {
    if (this.engine !== "NOWEB" || this.options.nowebStore === "always") return true;
    const noweb = session.config?.noweb as { store?: { enabled?: unknown } } | undefined;
    return noweb?.store?.enabled === true;
  }

  /** Records an accepted send; returns its serialized id. Duplicate ids are recorded again (a resend is visible). */
  record(input: { session: SessionState; chatId: string; rawId: string; text: string | null; caption?: string; hasFile: boolean; mimetype?: string; fileName?: string }): StoredMessage {
    const now = Date.now();
    const id = `true_${input.chatId}_${input.rawId}`;
    const message: FakeMessage = {
      id,
      session: input.session.name,
      chatId: input.chatId,
      text: input.text,
      ...(input.caption !== undefined ? { caption: input.caption } : {}),
      hasFile: input.hasFile,
      ...(input.fileName !== undefined ? { fileName: input.fileName } : {}),
      at: new Date(now).toISOString(),
    };
    const stored: StoredMessage = {
      message,
      rawId: input.rawId,
      fromId: this.meOf(input.session).id,
      acceptedAt: now,
      ack: undefined,
      mimetype: input.mimetype,
      inStore: this.storesMessages(input.session),
    };
    this.records.push(stored);
    this.byId.set(`${message.session}\n${id}`, stored);
    const chatKey = `${message.session}\n${input.chatId}`;
    const chat = this.byChat.get(chatKey);
    if (chat) chat.push(stored);
    else this.byChat.set(chatKey, [stored]);
    this.sent.set(message.session, (this.sent.get(message.session) ?? 0) + 1);
    this.chatsOf(message.session).add(input.chatId);
    input.session.activity = now;
    this.scheduleAcks(input.session, stored);
    return stored;
  }

  /** A message as WAHA's endpoints find it: only one kept in the session's store. */
  findMessage(session: string, serializedId: string): StoredMessage | undefined {
    const stored = this.byId.get(`${session}\n${serializedId}`);
    return stored?.inStore ? stored : undefined;
  }

  chatMessages(session: string, chatId: string): StoredMessage[] {
    return (this.byChat.get(`${session}\n${chatId}`) ?? []).filter((stored) => stored.inStore);
  }

  messages(): FakeMessage[] {
    return this.records.map((stored) => ({ ...stored.message }));
  }

  ackOf(stored: StoredMessage, now = Date.now()): number {
    if (stored.ack !== undefined) return stored.ack;
    const elapsed = now - stored.acceptedAt;
    if (elapsed >= 2 * this.options.ackDelayMs) return 2;
    if (elapsed >= this.options.ackDelayMs) return 1;
    return 0;
  }

  /** Sets a message's ack (e.g. READ or ERROR) and sends the message.ack webhook. False if unknown. */
  setAck(serializedId: string, ack: number): boolean {
    const stored = this.records.findLast((item) => item.message.id === serializedId);
    if (!stored) return false;
    stored.ack = ack;
    const session = this.sessions.get(stored.message.session);
    if (session) this.emitAck(session, stored, ack);
    return true;
  }

  private scheduleAcks(session: SessionState, stored: StoredMessage): void {
    const targets = this.webhooksOf(session);
    if (!targets || !targets.some((target) => target.events.includes("message.ack") || target.events.includes("*"))) return;
    const delay = this.options.ackDelayMs;
    this.timer(delay, () => {
      if (stored.ack === undefined) this.emitAck(session, stored, 1);
    });
    this.timer(2 * delay, () => {
      if (stored.ack === undefined) this.emitAck(session, stored, 2);
    });
  }

  private emitAck(session: SessionState, stored: StoredMessage, ack: number): void {
    this.options.webhooks.emit(this.webhooksOf(session), {
      session: session.name,
      event: "message.ack",
      engine: this.engine,
      me: session.me,
      metadata: session.config?.metadata,
      payload: {
        id: stored.message.id,
        from: stored.fromId,
        to: stored.message.chatId,
        participant: null,
        fromMe: true,
        ack,
        ackName: ACK_NAMES[ack] ?? "UNKNOWN",
      },
    });
  }

  /**
   * A contact's message to `session` (issue 14): emits WAHA's `message` webhook, its payload shaped as
   * the engine sends it (`_data` differs; the top level is WAHA's common WAMessage). `chatId` is the
   * sender's chat, or a group's (`...@g.us`, the sender then in `participant`). Returns the payload,
   * or null when no webhook of the session subscribes to `message`.
   */
  emitInbound(session: SessionState, input: { chatId: string; participant: string | null; text: string; rawId: string }): Record<string, unknown> {
    const now = Date.now();
    const seconds = Math.floor(now / 1000);
    const me = this.meOf(session);
    const id = `false_${input.chatId}_${input.rawId}${input.participant ? `_${input.participant}` : ""}`;
    const sender = input.participant ?? input.chatId;
    const jid = (chatId: string) => chatId.replace(/@c\.us$/, "@s.whatsapp.net");
    const engineData =
      this.engine === "NOWEB"
        ? {
            key: { remoteJid: jid(input.chatId), fromMe: false, id: input.rawId, ...(input.participant ? { participant: jid(input.participant) } : {}) },
            message: { conversation: input.text },
            messageTimestamp: seconds,
            pushName: "Fake contact",
          }
        : this.engine === "GOWS"
          ? {
              Info: { Chat: jid(input.chatId), Sender: jid(sender), IsFromMe: false, IsGroup: input.chatId.endsWith("@g.us"), ID: input.rawId, PushName: "Fake contact", Timestamp: new Date(now).toISOString() },
              Message: { conversation: input.text },
            }
          : {
              id: { fromMe: false, remote: input.chatId, id: input.rawId, _serialized: id },
              body: input.text,
              type: "chat",
              t: seconds,
              notifyName: "Fake contact",
              from: input.chatId,
              to: me.id,
              ...(input.participant ? { author: input.participant } : {}),
            };
    const payload: Record<string, unknown> = {
      id,
      timestamp: seconds,
      from: input.chatId,
      fromMe: false,
      source: "app",
      to: me.id,
      participant: input.participant,
      body: input.text,
      hasMedia: false,
      media: null,
      ack: 1,
      ackName: "SERVER",
      replyTo: null,
      _data: engineData,
    };
    this.options.webhooks.emit(this.webhooksOf(session), {
      session: session.name,
      event: "message",
      engine: this.engine,
      me: session.me,
      metadata: session.config?.metadata,
      payload,
    });
    return payload;
  }

  // ------------------------------------------------------------ calls, restriction, capping

  /** Records a WAHA call on arrival; the caller fills `session` / `chatId` once the body is read. */
  recordCall(method: string, path: string, session: string | null): FakeCall {
    const call: FakeCall = { method, path, session, chatId: null, at: new Date().toISOString() };
    this.calls.push(call);
    if (this.calls.length > MAX_CALLS_KEPT) this.calls.splice(0, this.calls.length - MAX_CALLS_KEPT);
    return call;
  }

  callLog(): FakeCall[] {
    return this.calls.map((call) => ({ ...call }));
  }

  /** The reachout timelock's end for this session now, or null when sends are not restricted. */
  restrictedUntil(session: string, now = Date.now()): number | null {
    const restricted = this.faults.restricted;
    if (!restricted || now >= restricted.untilMs) return null;
    if (restricted.session !== undefined && restricted.session !== session) return null;
    return restricted.untilMs;
  }

  /** Whether a send to `chatId` would start a new chat beyond the cap. */
  overNewChatCap(session: string, chatId: string): boolean {
    const quota = this.faults.newChatQuota;
    if (quota < 0) return false;
    const chats = this.chatsOf(session);
    return !chats.has(chatId) && chats.size >= quota;
  }

  /** MessageCappingData as WAHA's GET /api/sessions/{session}/capping answers it (cycle times in unix seconds). */
  capping(session: string): Record<string, unknown> {
    this.rollCycle();
    const total = this.faults.newChatQuota;
    const used = this.chatsOf(session).size;
    let status: CappingStatus = "NONE";
    if (total >= 0) {
      if (used >= total) status = "CAPPED";
      else if (used >= total * 0.9) status = "SECOND_WARNING";
      else if (used >= total * 0.75) status = "FIRST_WARNING";
    }
    return {
      cappingStatus: status,
      totalQuota: total,
      usedQuota: used,
      cycleStart: Math.floor(this.cycleStart / 1000),
      cycleEnd: Math.floor((this.cycleStart + CAPPING_CYCLE_MS) / 1000),
      mvStatus: "NONE",
      oteStatus: "NONE",
    };
  }

  private chatsOf(session: string): Set<string> {
    this.rollCycle();
    let chats = this.startedChats.get(session);
    if (!chats) this.startedChats.set(session, (chats = new Set()));
    return chats;
  }

  private rollCycle(): void {
    if (Date.now() < this.cycleStart + CAPPING_CYCLE_MS) return;
    this.cycleStart = Date.now();
    this.startedChats = new Map();
  }

  // ------------------------------------------------------------ numbers, faults, stats

  numberExists(digits: string): boolean {
    return !this.missingNumbers.has(digits);
  }

  setNumberExists(phone: string, exists: boolean): void {
    const digits = phone.replace(/\D/g, "");
    if (exists) this.missingNumbers.delete(digits);
    else this.missingNumbers.add(digits);
  }

  setFaults(patch: Partial<FakeFaults>): FakeFaults {
    this.faults = { ...this.faults, ...patch };
    return { ...this.faults };
  }

  /** Decides, for one send, whether an injected fault fails it. */
  takeFault(): boolean {
    if (this.faults.failNext > 0) {
      this.faults.failNext--;
      return true;
    }
    return this.faults.errorRate > 0 && Math.random() < this.faults.errorRate;
  }

  beginSend(session: string): void {
    const open = (this.inFlight.get(session) ?? 0) + 1;
    this.inFlight.set(session, open);
    if (open > (this.maxInFlight.get(session) ?? 0)) this.maxInFlight.set(session, open);
  }

  endSend(session: string): void {
    const open = (this.inFlight.get(session) ?? 1) - 1;
    if (open <= 0) this.inFlight.delete(session);
    else this.inFlight.set(session, open);
  }

  stats(): FakeStats {
    return {
      maxInFlight: Object.fromEntries(this.maxInFlight),
      inFlight: Object.fromEntries(this.inFlight),
      sent: Object.fromEntries(this.sent),
    };
  }

  /**
   * Forgets messages, calls, stats (sends still open keep counting), faults, new chats and unknown numbers.
   * Sessions stay, as on a real server the app still knows about, unless `sessions` is set.
   */
  reset(options: { sessions?: boolean } = {}): void {
    this.records = [];
    this.byId = new Map();
    this.byChat = new Map();
    this.faults = noFaults();
    this.calls = [];
    this.startedChats = new Map();
    this.cycleStart = Date.now();
    this.maxInFlight = new Map(this.inFlight);
    this.sent = new Map();
    this.missingNumbers.clear();
    if (options.sessions) {
      for (const session of this.sessions.values()) session.generation++;
      this.sessions.clear();
      this.clearTimers();
    }
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private webhooksOf(session: SessionState): WebhookTarget[] | undefined {
    const hooks = session.config?.webhooks;
    return Array.isArray(hooks) ? (hooks as WebhookTarget[]) : undefined;
  }

  /** Runs `step` after the transition delay unless the session changed status or was removed meanwhile. */
  private later(session: SessionState, step: () => void): void {
    const generation = session.generation;
    this.timer(this.options.transitionDelayMs, () => {
      if (session.generation === generation && this.sessions.get(session.name) === session) step();
    });
  }

  private timer(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}

function newQrValue(): string {
  return `2@${randomBytes(24).toString("base64")},${randomBytes(24).toString("base64")},${randomBytes(16).toString("base64")}`;
}

/** A stable fake phone number per session name: +1 555 xxx xxxx. */
export function defaultMe(name: string): { id: string; pushName: string } {
  const digits = (createHash("sha256").update(name).digest().readUInt32BE(0) % 10_000_000).toString().padStart(7, "0");
  return { id: `1555${digits}@c.us`, pushName: `Fake ${name}` };
}

/** A WhatsApp-looking message id (`3EB0` + hex), as new-message-id and the engines produce. */
export function newRawMessageId(): string {
  return `3EB0${randomBytes(8).toString("hex").toUpperCase()}`;
}
