/**
 * One WahaApiClient (with its own keep-alive pool) per WAHA server: the operator's default server
 * (WAHA_URL, or the sandbox's fake) for numbers without `server_id`, and one per registered server,
 * built on first use and rebuilt when the server's URL or key changes.
 */
import type { WahaApiClient } from "./client";

export interface RegisteredServerTarget {
  id: string;
  url: string;
  /** Already decrypted; null = the server takes no key. */
  apiKey: string | null;
}

export class WahaClientRegistry {
  private readonly clients = new Map<string, { fingerprint: string; client: WahaApiClient }>();

  constructor(
    /** The operator's default server. */
    readonly defaultClient: WahaApiClient,
    /** Builds a client for a registered server (the same timeout as the default). */
    private readonly build: (target: { baseUrl: string; apiKey?: string }) => WahaApiClient,
    /** Reads a registered server's URL and key (decrypted); null when it no longer exists. */
    private readonly lookup: (serverId: string) => Promise<RegisteredServerTarget | null>,
  ) {}

  /** The client for a number: its server's, or the default one. */
  async forSession(session: { serverId: string | null }): Promise<WahaApiClient> {
    return session.serverId ? this.forServer(session.serverId) : this.defaultClient;
  }

  async forServer(serverId: string): Promise<WahaApiClient> {
    const target = await this.lookup(serverId);
    if (!target) throw new Error(`WAHA server ${serverId} is not registered`);
    return this.forTarget(target);
  }

  /** The client for a server already read (no lookup). */
  forTarget(target: RegisteredServerTarget): WahaApiClient {
    const fingerprint = `${target.url}\n${target.apiKey ?? ""}`;
    const known = this.clients.get(target.id);
    if (known?.fingerprint === fingerprint) return known.client;
    known?.client.close();
    const client = this.build({ baseUrl: target.url, ...(target.apiKey ? { apiKey: target.apiKey } : {}) });
    this.clients.set(target.id, { fingerprint, client });
    return client;
  }

  /** A deleted server: its connections are closed. */
  forget(serverId: string): void {
    this.clients.get(serverId)?.client.close();
    this.clients.delete(serverId);
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
