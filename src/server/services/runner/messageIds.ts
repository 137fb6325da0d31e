/**
 * Message ids from WAHA's `GET /api/{session}/new-message-id`. When the pace is fast they are
 * fetched ahead, a batch of concurrent GETs at a time, refilled in the background while the run
 * sends (these GETs are not sends: they do not count against the one send in flight per number).
 * An id is used once: `peek` it for the statement that marks a recipient `sending`, `consume` it when
 * a row took it. A WAHA without the endpoint (older than 2026.4.3) gives null: sends go without an id.
 */
import type { WahaApiClient } from "../waha/client";

export class MessageIdPool {
  private readonly ids: string[] = [];
  private supported = true;
  private refill: Promise<void> | null = null;
  private refillError: unknown = null;

  constructor(
    private readonly client: WahaApiClient,
    private readonly session: string,
    private readonly batchSize: number,
  ) {}

  /** The next id to use, or null when this WAHA cannot fix ids. Throws WAHA's errors (e.g. session not working). */
  async peek(): Promise<string | null> {
    while (this.supported && this.ids.length === 0) {
      if (this.refillError !== null) {
        const error = this.refillError;
        this.refillError = null;
        throw error;
      }
      try {
        await (this.refill ?? this.fill());
      } catch (error) {
        this.refillError = null; // reported here, not again
        throw error;
      }
    }
    this.prefetch();
    return this.supported ? (this.ids[0] ?? null) : null;
  }

  consume(id: string | null): void {
    if (id !== null && this.ids[0] === id) this.ids.shift();
    this.prefetch();
  }

  /** True when `take()` can answer without waiting for WAHA. */
  ready(): boolean {
    return !this.supported || this.ids.length > 0;
  }

  /** The next id without waiting (call only when `ready()`); null when this WAHA cannot fix ids. */
  take(): string | null {
    if (!this.supported) return null;
    const id = this.ids.shift() ?? null;
    this.prefetch();
    return id;
  }

  /** An id taken but not used. */
  putBack(id: string | null): void {
    if (id !== null) this.ids.unshift(id);
  }

  /** Starts a background refill when the pool runs low; its failure surfaces at the next `peek` that needs it. */
  private prefetch(): void {
    if (this.batchSize <= 1 || !this.supported || this.refill || this.refillError !== null) return;
    if (this.ids.length > this.batchSize / 2) return;
    this.fill().catch((error: unknown) => {
      this.refillError = error;
    });
  }

  private fill(): Promise<void> {
    this.refill ??= (async () => {
      try {
        const results = await Promise.all(Array.from({ length: Math.max(1, this.batchSize) }, () => this.client.newMessageId(this.session)));
        for (const id of results) {
          if (id === null) {
            this.supported = false;
            this.ids.length = 0;
            return;
          }
          this.ids.push(id);
        }
      } finally {
        this.refill = null;
      }
    })();
    return this.refill;
  }
}
