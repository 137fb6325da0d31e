"use client";

/**
 * The campaign's safe-sending options (issue 13): a send window (hours, weekdays, zone, or each
 * recipient's own zone), batches with pauses, and the latest time it may still start. The server
 * validates every field and names the one at fault; this only turns the form into those fields.
 */
import { localInputToIsoWithOffset, toLocalInputValue } from "./format";
import type { Campaign } from "./types";
import { Field, Input } from "./ui/field";

export interface SafeSendingDraft {
  windowOn: boolean;
  windowStart: string;
  windowEnd: string;
  windowZone: string;
  /** ISO weekdays 1..7 ticked; all seven = every day. */
  windowDays: number[];
  recipientLocal: boolean;
  batchSize: string;
  batchPauseMinutes: string;
  latestStart: string;
}

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export function safeSendingDraft(campaign: Campaign | undefined, timeZone: string): SafeSendingDraft {
  const window = campaign?.sendWindow ?? null;
  return {
    windowOn: Boolean(window),
    windowStart: window?.start ?? "09:00",
    windowEnd: window?.end ?? "20:00",
    windowZone: window?.timeZone ?? timeZone,
    windowDays: window?.days ?? EVERY_DAY,
    recipientLocal: window?.recipientLocal ?? false,
    batchSize: campaign?.batchSize?.toString() ?? "",
    batchPauseMinutes: campaign?.batchPauseMs ? String(campaign.batchPauseMs / 60_000) : "",
    latestStart: campaign?.latestStart ? toLocalInputValue(campaign.latestStart) : "",
  };
}

/** The API fields, or the reason the form cannot be sent as it is. */
export function safeSendingFields(draft: SafeSendingDraft):
  | { error: string }
  | { sendWindow: Campaign["sendWindow"]; batchSize: number | null; batchPauseMs: number | null; latestStart: string | null } {
  if (draft.windowOn && draft.windowDays.length === 0) return { error: "Tick at least one day for the send window" };
  const batchSize = draft.batchSize.trim() === "" ? null : Number(draft.batchSize);
  const batchPauseMs = draft.batchPauseMinutes.trim() === "" ? null : Math.round(Number(draft.batchPauseMinutes) * 60_000);
  if ((batchSize === null) !== (batchPauseMs === null)) return { error: "Give both the batch size and the pause between batches, or neither" };
  const latestStart = draft.latestStart ? localInputToIsoWithOffset(draft.latestStart) : null;
  if (draft.latestStart && !latestStart) return { error: "The latest start is not a date and time" };
  return {
    sendWindow: draft.windowOn
      ? {
          start: draft.windowStart,
          end: draft.windowEnd,
          timeZone: draft.windowZone.trim(),
          ...(draft.windowDays.length < 7 ? { days: [...draft.windowDays].sort((a, b) => a - b) } : {}),
          ...(draft.recipientLocal ? { recipientLocal: true } : {}),
        }
      : null,
    batchSize,
    batchPauseMs,
    latestStart,
  };
}

export function SafeSendingOptions({
  draft,
  onChange,
  fieldError,
}: {
  draft: SafeSendingDraft;
  onChange: (draft: SafeSendingDraft) => void;
  fieldError: (field: string) => string | null;
}) {
  const set = <K extends keyof SafeSendingDraft>(key: K, value: SafeSendingDraft[K]) => onChange({ ...draft, [key]: value });
  return (
    <div className="space-y-3" data-testid="campaign-safe-sending">
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" data-testid="campaign-window-on" checked={draft.windowOn} onChange={(event) => set("windowOn", event.target.checked)} />
        Send only within hours of the day
      </label>
      {draft.windowOn ? (
        <div className="grid gap-3 sm:grid-cols-3">
          <Field label="From" error={fieldError("sendWindow") ?? fieldError("sendWindow.start")}>
            <Input type="time" data-testid="campaign-window-start" value={draft.windowStart} onChange={(event) => set("windowStart", event.target.value)} required />
          </Field>
          <Field label="Until" hint="Before the start = across midnight" error={fieldError("sendWindow.end")}>
            <Input type="time" data-testid="campaign-window-end" value={draft.windowEnd} onChange={(event) => set("windowEnd", event.target.value)} required />
          </Field>
          <Field label="Time zone" error={fieldError("sendWindow.timeZone")}>
            <Input value={draft.windowZone} onChange={(event) => set("windowZone", event.target.value)} placeholder="Europe/Berlin" required />
          </Field>
          <div className="flex flex-wrap gap-3 text-sm sm:col-span-3" role="group" aria-label="Days of the week">
            {DAY_NAMES.map((day, index) => (
              <label key={day} className="flex items-center gap-1">
                <input
                  type="checkbox"
                  checked={draft.windowDays.includes(index + 1)}
                  onChange={(event) =>
                    set("windowDays", event.target.checked ? [...draft.windowDays, index + 1] : draft.windowDays.filter((d) => d !== index + 1))
                  }
                />
                {day}
              </label>
            ))}
          </div>
          <label className="flex items-start gap-2 text-sm sm:col-span-3">
            <input type="checkbox" className="mt-1" checked={draft.recipientLocal} onChange={(event) => set("recipientLocal", event.target.checked)} />
            <span>
              In each recipient&apos;s own time zone, from their phone number&apos;s country (countries with several zones, such as the US or
              Brazil, use the zone above). Recipients outside their hours wait; the others go first.
            </span>
          </label>
        </div>
      ) : null}
      <div className="grid gap-3 sm:grid-cols-3">
        <Field label="Batch size" error={fieldError("batchSize")} hint="Empty = no batches">
          <Input type="number" min={1} data-testid="campaign-batch-size" value={draft.batchSize} onChange={(event) => set("batchSize", event.target.value)} />
        </Field>
        <Field label="Pause between batches (min)" error={fieldError("batchPauseMs")}>
          <Input
            type="number"
            min={0.1}
            step="0.1"
            data-testid="campaign-batch-pause"
            value={draft.batchPauseMinutes}
            onChange={(event) => set("batchPauseMinutes", event.target.value)}
          />
        </Field>
        <Field label="Latest start (optional)" error={fieldError("latestStart")} hint="Not started by then: marked Missed instead of sending late">
          <Input type="datetime-local" data-testid="campaign-latest-start" value={draft.latestStart} onChange={(event) => set("latestStart", event.target.value)} />
        </Field>
      </div>
    </div>
  );
}
