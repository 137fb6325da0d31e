import { Badge, type Tone } from "./ui/badge";
import type { CampaignStatus, RecipientStatus } from "./types";

const CAMPAIGN_TONES: Record<CampaignStatus, Tone> = {
  Draft: "gray",
  Scheduled: "blue",
  Running: "violet",
  Paused: "amber",
  Completed: "green",
  Failed: "red",
  Cancelled: "gray",
  Missed: "red",
  Recurring: "blue",
};

export function CampaignStatusBadge({ status, testId }: { status: CampaignStatus; testId?: string }) {
  return (
    <Badge tone={CAMPAIGN_TONES[status]} testId={testId}>
      {status}
    </Badge>
  );
}

const SESSION_LABELS: Record<string, { label: string; tone: Tone }> = {
  WORKING: { label: "Connected", tone: "green" },
  SCAN_QR_CODE: { label: "Waiting for scan", tone: "amber" },
  STARTING: { label: "Starting", tone: "blue" },
  STOPPED: { label: "Stopped", tone: "gray" },
  FAILED: { label: "Failed", tone: "red" },
};

/** "Connected" for WORKING, "Waiting for scan" for SCAN_QR_CODE: what a person reads instead of WAHA's code. */
export function sessionStatusLabel(status: string): string {
  return SESSION_LABELS[status]?.label ?? status;
}

/** A plain word for WAHA's status; the code itself (what WAHA's docs and logs use) in the tooltip. */
export function SessionStatusBadge({ status, testId }: { status: string; testId?: string }) {
  const known = { label: sessionStatusLabel(status), tone: SESSION_LABELS[status]?.tone ?? ("gray" as Tone) };
  return (
    <Badge tone={known.tone} testId={testId} title={`WAHA status: ${status}`}>
      {known.label}
    </Badge>
  );
}

const RECIPIENT_TONES: Record<RecipientStatus, Tone> = {
  pending: "gray",
  sending: "violet",
  sent: "green",
  failed: "red",
  skipped: "gray",
  unknown: "amber",
  cancelled: "gray",
};

export function RecipientStatusBadge({ status }: { status: RecipientStatus }) {
  return <Badge tone={RECIPIENT_TONES[status]}>{status}</Badge>;
}
