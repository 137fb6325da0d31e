/** What WAHA's API returns and takes, as the app uses it. */

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
  /** `me.reachoutTimelock` (GOWS, WAHA 2026.7+): null when WhatsApp imposes none; absent when WAHA does not say. */
  reachoutTimelock?: WahaReachoutTimelock | null;
}

/** WhatsApp's reachout timelock: while active, sends to new chats fail with error 463. */
export interface WahaReachoutTimelock {
  active: boolean;
  until: Date | null;
  enforcementType?: string;
}

/** WhatsApp's new-chat cap per cycle, NONE -> FIRST_WARNING -> SECOND_WARNING -> CAPPED (UNKNOWN: a value we do not know). */
export type WahaCappingStatus = "NONE" | "FIRST_WARNING" | "SECOND_WARNING" | "CAPPED" | "UNKNOWN";

/** `GET /api/sessions/{session}/capping` (GOWS, WAHA with PR#2186), parsed. */
export interface WahaCapping {
  status: WahaCappingStatus;
  /** WAHA's own value when `status` is UNKNOWN. */
  rawStatus?: string;
  /** New chats allowed this cycle; null = no cap (WAHA's -1). */
  totalQuota: number | null;
  /** New chats started this cycle. */
  usedQuota: number;
  cycleStart: Date | null;
  /** When the cycle (and the cap) resets. */
  cycleEnd: Date | null;
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
