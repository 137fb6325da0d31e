/**
 * WAHA's HTTP transport: node:http(s) with a keep-alive agent of its own, one deadline per call (a
 * free connection, connecting, sending and the answer's last byte), a stale kept-alive connection
 * retried once for a GET and never for a POST, and every failure classified (waha/errors.ts): a
 * request that never fully reached WAHA is known not sent, one that may have is outcome unknown.
 * It also remembers when WAHA last answered, for the health check. Answers are parsed in parse.ts.
 */
import http from "node:http";
import https from "node:https";
import { childLogger } from "~/server/logger";
import { WahaError, type WahaErrorInit, classifyNetworkError } from "./errors";

export interface WahaTransportOptions {
  baseUrl: string;
  apiKey?: string;
  /** Per call, from request to the end of the answer. Default 30 s (WAHA itself may wait ~10 s for a session). */
  timeoutMs?: number;
  /** Connections kept to WAHA at most (calls beyond wait for one, within their timeout). Default 64. */
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

type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface CallOptions {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** The session this call is about, for error messages. */
  session?: string;
  accept?: string;
}

export interface Answer {
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

export class WahaTransport {
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

  constructor(options: WahaTransportOptions) {
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

  /** One HTTP exchange. Throws only for network failures and timeouts; any HTTP answer (3xx included: redirects are not followed) is returned. */
  async request(operation: string, options: CallOptions): Promise<Answer> {
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
    return this.error({
      kind: transient ? "transient" : "unexpected",
      operation,
      message: `WAHA ${operation} failed: ${reason}`,
      outcomeUnknown,
      cause: error,
    });
  }

  /** The last guard: whatever a server echoed, the API key never leaves in a message. */
  error(init: WahaErrorInit): WahaError {
    const key = this.apiKey;
    const message = key && key.length > 0 ? init.message.split(key).join("[redacted]") : init.message;
    return new WahaError({ ...init, message });
  }

}

/** ECONNRESET (incl. Node's "socket hang up") or EPIPE: the other side closed the connection. */
function isResetError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
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
