/**
 * Tools for tests/abuse/transport.test.ts: an attacker that streams a large body without holding it
 * (one 64 KB buffer written again and again, over a raw socket), the app in a child process whose memory can be read,
 * and raw tRPC calls with the headers a browser or a hostile page would send.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface StreamedAnswer {
  /** The status the server answered, or null when the connection died before any answer. */
  status: number | null;
  body: string;
  /** Bytes of the body the client got to write before the server ended the connection. */
  sentBytes: number;
}

/**
 * POSTs `totalBytes` (`prefix`, then filler) to `url` over a raw socket, with a `Content-Length` or
 * chunked, and keeps writing after the answer, as an attacker would (node:http's client stops
 * writing once it has an answer), until it has sent everything or the server cuts the connection.
 */
export function streamLargeBody(
  url: string,
  options: { totalBytes: number; declareLength: boolean; prefix?: string; headers?: Record<string, string> },
): Promise<StreamedAnswer> {
  const target = new URL(url);
  const prefix = Buffer.from(options.prefix ?? "");
  const filler = Buffer.alloc(64 * 1024, "a");
  const headers: Record<string, string> = {
    host: target.host,
    "content-type": "application/json",
    ...(options.declareLength ? { "content-length": String(options.totalBytes) } : { "transfer-encoding": "chunked" }),
    ...options.headers,
  };
  return new Promise((resolve) => {
    const socket = net.connect(Number(target.port), target.hostname);
    const received: Buffer[] = [];
    let sentBytes = 0;
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      const answer = Buffer.concat(received).toString("utf8");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      const headEnd = answer.indexOf("\r\n\r\n");
      resolve({ status: status ? Number(status[1]) : null, body: headEnd >= 0 ? answer.slice(headEnd + 4) : "", sentBytes });
    });
    socket.write(`POST ${target.pathname}${target.search} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")}\r\n`);
    // The server closed its side (after its answer): nothing more to send.
    let serverEnded = false;
    socket.on("end", () => (serverEnded = true));
    // At most this much per turn of the event loop, so that the answer is read out of the socket as
    // soon as it arrives (a loop writing as long as the kernel takes it would leave it unread).
    const perTurn = 1024 * 1024;
    const pump = () => {
      let thisTurn = 0;
      while (sentBytes < options.totalBytes && !socket.destroyed && !serverEnded) {
        if (thisTurn >= perTurn) {
          setImmediate(pump);
          return;
        }
        const piece = sentBytes === 0 && prefix.length > 0 ? prefix : filler.subarray(0, Math.min(filler.length, options.totalBytes - sentBytes));
        sentBytes += piece.length;
        thisTurn += piece.length;
        const framed = options.declareLength ? piece : Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]);
        if (!socket.write(framed)) {
          socket.once("drain", pump);
          return;
        }
      }
      // Everything sent: end the body, ask for the connection to be closed after the answer.
      if (socket.destroyed || serverEnded) return;
      if (options.declareLength) socket.end();
      else socket.end("0\r\n\r\n");
    };
    pump();
  });
}

/** Resident memory of a process, from the kernel (what `top` shows as RES). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export interface AppProcess {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** tests/abuse/transportAppProcess.ts as a child process; resolves once it listens. */
export async function startAppProcess(dataDir: string): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "tests/abuse/transportAppProcess.ts")], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`the app process exited (${code}) before listening: ${stderr.slice(-2000)}`)));
  });
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  // Parsed loosely: the assertions are the type check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function rawRequest(url: string, init: RequestInit): Promise<RawAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A tRPC mutation as the dashboard's client sends it (superjson envelope), with extra headers. */
export function trpcMutation(baseUrl: string, procedure: string, input: unknown, headers: Record<string, string> = {}) {
  return rawRequest(`${baseUrl}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input === undefined ? {} : { json: input }),
  });
}

/** `[[[[…]]]]` nested `depth` levels, as text (JSON.stringify would recurse to build it). */
export function deeplyNestedJson(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}
