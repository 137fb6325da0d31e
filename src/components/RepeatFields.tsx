"use client";

/**
 * The campaign form's "Repeat" section (issue 15): a cron expression and its time zone, an optional
 * end, and the next occurrences as you type, computed by croner in the zone, as the server does
 * (src/server/services/recurrence/rule.ts). The server checks the rule again (400 naming the field).
 */
import { Cron } from "croner";
import { useMemo } from "react";
import { localInputToIsoWithOffset, toLocalInputValue } from "./format";
import type { Campaign } from "./types";
import { Field, Input } from "./ui/field";

export interface RepeatDraft {
  on: boolean;
  cron: string;
  timeZone: string;
  /** datetime-local, in the browser's zone; "" = for ever. */
  until: string;
}

export function repeatDraft(campaign: Campaign | undefined, browserZone: string): RepeatDraft {
  const rule = campaign?.recurrence;
  return {
    on: Boolean(rule),
    cron: rule?.cron ?? "0 9 * * MON",
    timeZone: rule?.timeZone ?? browserZone,
    until: rule?.until ? toLocalInputValue(new Date(rule.until)) : "",
  };
}

type Rule = { cron: string; timeZone: string; until: string | null };

/** The rule to send and its next occurrences, or what is wrong with it (and in which field). */
export function readRepeat(draft: RepeatDraft, count = 5): { recurrence: Rule; next: Date[] } | { error: string; field: "cron" | "timeZone" | "until" } {
  const until = draft.until ? localInputToIsoWithOffset(draft.until) : null;
  if (draft.until && !until) return { error: "Choose the date and time of the last run", field: "until" };
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: draft.timeZone }).format(0);
  } catch {
    return { error: `Unknown time zone "${draft.timeZone}": use a name such as Europe/Berlin`, field: "timeZone" };
  }
  let pattern: Cron;
  try {
    pattern = new Cron(draft.cron.trim(), { timezone: draft.timeZone, paused: true, mode: "5-part" });
  } catch (error) {
    return { error: `Not a cron expression (minute hour day month weekday): ${error instanceof Error ? error.message.replace(/^CronPattern: /, "") : ""}`, field: "cron" };
  }
  const next: Date[] = [];
  let from = new Date();
  while (next.length < count) {
    const at = pattern.nextRun(from);
    if (!at || (until && at.getTime() > new Date(until).getTime())) break;
    next.push(at);
    from = at;
  }
  if (next.length === 0) return { error: until ? "The end is before the first run" : "This expression has no date ahead", field: until ? "until" : "cron" };
  return { recurrence: { cron: draft.cron.trim(), timeZone: draft.timeZone, until }, next };
}

function inZone(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }).format(at);
}

export function RepeatFields({
  value,
  onChange,
  fieldError,
  canTurnOff,
}: {
  value: RepeatDraft;
  onChange: (value: RepeatDraft) => void;
  fieldError: (field: string) => string | null;
  /** A recurring campaign stays one (cancel it to stop it). */
  canTurnOff: boolean;
}) {
  const read = useMemo(() => (value.on ? readRepeat(value) : null), [value]);
  const zones = useMemo(() => (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []), []);
  const localError = (field: string) => (read && "error" in read && read.field === field ? read.error : null);
  return (
    <div className="space-y-3" data-testid="campaign-repeat">
      <label className="flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          data-testid="campaign-repeat-on"
          checked={value.on}
          disabled={value.on && !canTurnOff}
          onChange={(event) => onChange({ ...value, on: event.target.checked })}
        />
        Repeat: each time is a run with its own recipients (the list as it is then)
      </label>
      {value.on ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="When (cron: minute hour day month weekday)" error={localError("cron") ?? fieldError("recurrence.cron")} hint="0 9 * * MON = Mondays at 09:00">
            <Input data-testid="campaign-repeat-cron" value={value.cron} onChange={(event) => onChange({ ...value, cron: event.target.value })} required />
          </Field>
          <Field label="In the time zone" error={localError("timeZone") ?? fieldError("recurrence.timeZone")}>
            <Input
              data-testid="campaign-repeat-zone"
              list="campaign-repeat-zones"
              value={value.timeZone}
              onChange={(event) => onChange({ ...value, timeZone: event.target.value })}
              required
            />
            <datalist id="campaign-repeat-zones">
              {zones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </Field>
          <Field label="Last run by (optional)" error={localError("until") ?? fieldError("recurrence.until")} className="sm:col-span-2">
            <Input type="datetime-local" data-testid="campaign-repeat-until" value={value.until} onChange={(event) => onChange({ ...value, until: event.target.value })} />
          </Field>
          {read && "next" in read ? (
            <div className="text-sm sm:col-span-2" data-testid="campaign-repeat-next">
              <p className="mb-1 font-medium text-slate-700">Next runs ({value.timeZone})</p>
              <ol className="list-inside list-decimal text-slate-600">
                {read.next.map((at) => (
                  <li key={at.toISOString()}>{inZone(at, value.timeZone)}</li>
                ))}
              </ol>
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
