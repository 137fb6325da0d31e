/**
 * The last line of `npm start`: plain text on stdout whatever the log format, because people and
 * scripts wait for it. `waha-campaigns is ready: http://localhost:3000 (sandbox WhatsApp, data in ./data)`.
 */
const LOCAL_HOSTS = new Set(["0.0.0.0", "::", "127.0.0.1", "::1", "localhost", ""]);

export interface ReadyFacts {
  host: string;
  port: number;
  sandbox: boolean;
  database: "pglite" | "postgres";
  dataDir: string;
}

export function readyLine(facts: ReadyFacts): string {
  // Listening on every interface or on loopback: this machine's browser opens it as localhost.
  const host = LOCAL_HOSTS.has(facts.host) ? "localhost" : facts.host.includes(":") ? `[${facts.host}]` : facts.host;
  const whatsapp = facts.sandbox ? "sandbox WhatsApp" : "WhatsApp through WAHA";
  const data = facts.database === "pglite" ? `data in ${facts.dataDir}` : "data in PostgreSQL";
  return `waha-campaigns is ready: http://${host}:${facts.port} (${whatsapp}, ${data})`;
}
