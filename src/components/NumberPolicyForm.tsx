"use client";

/**
 * A number's sending policy (issue 13): limits, warm-up, typing, check-exists, the zone the limits
 * count days in. Shows the safe defaults beside the current values and the warm-up schedule the
 * number follows.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { browserTimeZone, formatDateTime, plural } from "~/components/format";
import type { WhatsappSession } from "~/components/types";
import { Button } from "~/components/ui/button";
import { ErrorMessage } from "~/components/ui/error";
import { Field, Input } from "~/components/ui/field";
import { useToast } from "~/components/ui/toast";
import { type NumberPolicy, SAFE_DEFAULT_POLICY, WARMUP_STEP_DAYS, warmupSchedule } from "~/server/services/safeSending/policy";
import { useTRPC } from "~/trpc/react";

interface PolicyDraft {
  timeZone: string;
  dailyLimit: string;
  hourlyLimit: string;
  warmup: boolean;
  typing: boolean;
  checkExists: boolean;
  maxConsecutiveFailures: string;
}

const toDraft = (policy: NumberPolicy): PolicyDraft => ({
  timeZone: policy.timeZone,
  dailyLimit: policy.dailyLimit?.toString() ?? "",
  hourlyLimit: policy.hourlyLimit?.toString() ?? "",
  warmup: policy.warmup,
  typing: policy.typing,
  checkExists: policy.checkExists,
  maxConsecutiveFailures: policy.maxConsecutiveFailures?.toString() ?? "",
});

/** An empty box means "no limit". */
const toLimit = (value: string) => (value.trim() === "" ? null : Number(value));

/** "20 → 40 → 80 → 150 → 200" (or "→ no limit"). */
export function scheduleWords(schedule: (number | null)[]): string {
  return schedule.map((step) => (step === null ? "no limit" : String(step))).join(" → ");
}

const DEFAULTS_WORDS =
  `${SAFE_DEFAULT_POLICY.dailyLimit} a day, ${SAFE_DEFAULT_POLICY.hourlyLimit} an hour, warm-up on ` +
  `(${scheduleWords(warmupSchedule(SAFE_DEFAULT_POLICY.dailyLimit))}), typing on, check-exists on, ` +
  `pause after ${SAFE_DEFAULT_POLICY.maxConsecutiveFailures} failures in a row`;

export function NumberPolicyForm({ session }: { session: WhatsappSession }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<PolicyDraft>(() => toDraft(session));
  const set = <K extends keyof PolicyDraft>(key: K, value: PolicyDraft[K]) => setDraft((current) => ({ ...current, [key]: value }));
  const save = useMutation(
    trpc.whatsappSession.update.mutationOptions({
      onSuccess: (saved) => {
        toast.success(`Sending policy of "${saved.name}" saved`);
        setDraft(toDraft(saved));
        void queryClient.invalidateQueries(trpc.whatsappSession.pathFilter());
      },
      onError: (error) => toast.error(error.message),
    }),
  );
  const previewSchedule = warmupSchedule(toLimit(draft.dailyLimit));

  return (
    <form
      className="space-y-3"
      data-testid="number-policy"
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate({
          id: session.id,
          timeZone: draft.timeZone.trim(),
          dailyLimit: toLimit(draft.dailyLimit),
          hourlyLimit: toLimit(draft.hourlyLimit),
          warmup: draft.warmup,
          typing: draft.typing,
          checkExists: draft.checkExists,
          maxConsecutiveFailures: toLimit(draft.maxConsecutiveFailures),
        });
      }}
    >
      <p className="text-xs text-slate-500">Safe defaults: {DEFAULTS_WORDS}. Limits count every campaign on this number.</p>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Messages per day" hint={`Empty = no limit (default ${SAFE_DEFAULT_POLICY.dailyLimit})`}>
          <Input type="number" min={1} name="dailyLimit" value={draft.dailyLimit} onChange={(event) => set("dailyLimit", event.target.value)} />
        </Field>
        <Field label="Messages per hour" hint={`Empty = no limit (default ${SAFE_DEFAULT_POLICY.hourlyLimit})`}>
          <Input type="number" min={1} name="hourlyLimit" value={draft.hourlyLimit} onChange={(event) => set("hourlyLimit", event.target.value)} />
        </Field>
        <Field label="Time zone of the days and hours" hint={<button type="button" className="underline" onClick={() => set("timeZone", browserTimeZone())}>Use mine ({browserTimeZone()})</button>}>
          <Input name="timeZone" value={draft.timeZone} onChange={(event) => set("timeZone", event.target.value)} placeholder="Europe/Berlin" required />
        </Field>
        <Field label="Pause after failures in a row" hint="Empty = never (default 5): failures on a connected number often mean a restriction">
          <Input
            type="number"
            min={1}
            name="maxConsecutiveFailures"
            value={draft.maxConsecutiveFailures}
            onChange={(event) => set("maxConsecutiveFailures", event.target.value)}
          />
        </Field>
      </div>
      <fieldset className="space-y-1 text-sm">
        <Toggle checked={draft.warmup} onChange={(value) => set("warmup", value)} name="warmup">
          Warm-up: a new number climbs {scheduleWords(previewSchedule)} messages a day, {WARMUP_STEP_DAYS} days per step
        </Toggle>
        <Toggle checked={draft.typing} onChange={(value) => set("typing", value)} name="typing">
          Typing: mark the chat seen and show &ldquo;typing…&rdquo; before each message (inside the delay)
        </Toggle>
        <Toggle checked={draft.checkExists} onChange={(value) => set("checkExists", value)} name="checkExists">
          Check exists: skip numbers that are not on WhatsApp (asked once per contact)
        </Toggle>
      </fieldset>
      <p className="text-sm text-slate-600" data-testid="number-today-limit">
        Today&apos;s cap: {session.todayLimit === null ? "no limit" : plural(session.todayLimit, "message")}
        {session.warmupSchedule && session.firstSentAt ? ` (warming up since ${formatDateTime(session.firstSentAt)})` : ""}
        {session.warmupSchedule && !session.firstSentAt ? " (warm-up starts with the first message)" : ""}
      </p>
      {session.restrictedUntil && new Date(session.restrictedUntil) > new Date() ? (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="number-restricted">
          WhatsApp restricts this number until {formatDateTime(session.restrictedUntil)}
          {session.restrictionReason ? `: ${session.restrictionReason}` : ""}. Its campaigns wait.
        </p>
      ) : null}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" pending={save.isPending} data-testid="number-policy-save">
          Save policy
        </Button>
        <Button type="button" variant="ghost" onClick={() => setDraft(toDraft({ ...SAFE_DEFAULT_POLICY, timeZone: draft.timeZone }))}>
          Use safe defaults
        </Button>
      </div>
      <ErrorMessage error={save.error} />
    </form>
  );
}

function Toggle({ checked, onChange, name, children }: { checked: boolean; onChange: (value: boolean) => void; name: string; children: React.ReactNode }) {
  return (
    <label className="flex items-start gap-2">
      <input type="checkbox" className="mt-1" name={name} checked={checked} onChange={(event) => onChange(event.target.checked)} />
      <span>{children}</span>
    </label>
  );
}
