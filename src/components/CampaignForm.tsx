"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { browserTimeZone, formatRelative, localInputToIsoWithOffset, offsetLabel, plural, toLocalInputValue } from "./format";
import { MediaThumb, useMediaUrl } from "./MediaThumb";
import { MessageEditor } from "./MessageEditor";
import { MessagePreview } from "./MessagePreview";
import { SafeSendingOptions, safeSendingDraft, safeSendingFields } from "./SafeSendingOptions";
import type { Campaign } from "./types";
import { Button } from "./ui/button";
import { Card } from "./ui/card";
import { ErrorMessage } from "./ui/error";
import { Field, Input, Select } from "./ui/field";
import { useToast } from "./ui/toast";
import { sessionStatusLabel } from "./StatusBadge";
import { readRepeat, RepeatFields, repeatDraft } from "./RepeatFields";

type ErrorWithField = { message: string; data?: { field?: string | null } | null } | null;

function defaultStart(): Date {
  // An hour ahead, on a round five minutes: a calm default that is never already past.
  const date = new Date(Date.now() + 60 * 60_000);
  date.setMinutes(Math.ceil(date.getMinutes() / 5) * 5, 0, 0);
  return date;
}

const seconds = (ms: number) => String(Math.round(ms / 100) / 10);

/** What the server was last sent, to tell whether the field an error names has changed since. */
type SentFields = Record<string, unknown>;

const PAST_TIME = "The scheduled time has passed: choose a time in the future";

/** The current time, refreshed every `everyMs`: "starts in 5 min" turns into "has passed" on its own. */
/** "vip, Gold" → ["vip", "gold"]; the audience, or null when it holds nothing (lists from the API are kept). */
function audienceOf(listIds: string[] | undefined, tags: string, excludeTags: string) {
  const split = (text: string) => [...new Set(text.split(/[,;|]/).map((tag) => tag.trim().toLowerCase()).filter(Boolean))];
  const audience = {
    ...(listIds?.length ? { listIds } : {}),
    ...(split(tags).length ? { tags: split(tags) } : {}),
    ...(split(excludeTags).length ? { excludeTags: split(excludeTags) } : {}),
  };
  return Object.keys(audience).length > 0 ? audience : null;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * Create a campaign (scheduled, or saved as a draft to schedule later), or edit one that has not
 * started (`campaign` given): a draft can be saved again or scheduled, a scheduled one rescheduled.
 * Each mistake is shown once, next to its field (or above the buttons when it has none), and goes
 * away as soon as that field changes.
 */
export function CampaignForm({ campaign, onSaved }: { campaign?: Campaign; onSaved: (campaign: Campaign) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const appInfo = useQuery(trpc.auth.appInfo.queryOptions());
  const sessions = useQuery(trpc.whatsappSession.list.queryOptions());
  const lists = useQuery(trpc.contactList.list.queryOptions({ limit: 200 }));
  const templates = useQuery(trpc.template.list.queryOptions({ limit: 200 }));
  const media = useQuery(trpc.media.list.queryOptions({ limit: 100 }));
  const isDraft = !campaign || campaign.status === "Draft";

  const timeZone = useMemo(browserTimeZone, []);
  const initialWhen = useMemo(
    () => (campaign ? (campaign.scheduledAt ? toLocalInputValue(new Date(campaign.scheduledAt)) : "") : toLocalInputValue(defaultStart())),
    [campaign],
  );
  const [name, setName] = useState(campaign?.name ?? "");
  const [sessionId, setSessionId] = useState(campaign?.sessionId ?? "");
  // Issue 15: more numbers besides the first, how recipients are shared, and what a dropped number does.
  const [extraSessionIds, setExtraSessionIds] = useState<string[]>((campaign?.sessionIds ?? []).filter((id) => id !== campaign?.sessionId));
  const [numberAssignment, setNumberAssignment] = useState<"balanced" | "sticky">(campaign?.numberAssignment ?? "balanced");
  const [reassignOnDrop, setReassignOnDrop] = useState(campaign?.reassignOnDrop ?? false);
  const [listId, setListId] = useState(campaign?.listId ?? "");
  // Issue 15: tags reached besides the list, and tags left out, written "vip, gold".
  const [tags, setTags] = useState((campaign?.audience?.tags ?? []).join(", "));
  const [excludeTags, setExcludeTags] = useState((campaign?.audience?.excludeTags ?? []).join(", "));
  const [mode, setMode] = useState<"template" | "text">(campaign?.messageText ? "text" : "template");
  const [templateId, setTemplateId] = useState(campaign?.templateId ?? "");
  const [text, setText] = useState(campaign?.messageText ?? "");
  const [mediaId, setMediaId] = useState(campaign?.mediaId ?? "");
  const [when, setWhen] = useState(initialWhen);
  const [delayMin, setDelayMin] = useState<string | null>(campaign ? seconds(campaign.delayMinMs) : null);
  const [delayMax, setDelayMax] = useState<string | null>(campaign ? seconds(campaign.delayMaxMs) : null);
  const [safeSending, setSafeSending] = useState(() => safeSendingDraft(campaign, browserTimeZone()));
  // Issue 15: repeat on a cron in a zone; then the runs' times come from it, not from "Send at".
  const [repeat, setRepeat] = useState(() => repeatDraft(campaign, browserTimeZone()));
  const [serverError, setServerError] = useState<ErrorWithField>(null);
  const [sent, setSent] = useState<SentFields>({});
  const [messageIssueShown, setMessageIssueShown] = useState(false);
  const [pending, setPending] = useState(false);
  const now = useNow(15_000);

  // Until the user types a delay, show the server's default (SEND_DELAY_MIN_MS / MAX_MS).
  const delayMinValue = delayMin ?? (appInfo.data ? seconds(appInfo.data.defaultDelayMinMs) : "");
  const delayMaxValue = delayMax ?? (appInfo.data ? seconds(appInfo.data.defaultDelayMaxMs) : "");
  const chosenSession = sessions.data?.find((session) => session.id === (sessionId || (sessions.data?.length === 1 ? sessions.data[0]!.id : "")));
  const chosenTemplate = templates.data?.items.find((template) => template.id === templateId);
  const body = mode === "template" ? (chosenTemplate?.body ?? "") : text;
  // The campaign's own image, else its template's (what it will send).
  const templateMediaId = mode === "template" ? (chosenTemplate?.mediaId ?? null) : null;
  const imageUrl = useMediaUrl(mediaId || templateMediaId || null);
  const whenIso = when ? localInputToIsoWithOffset(when) : null;
  const whenDate = useMemo(() => (whenIso ? new Date(whenIso) : null), [whenIso]);

  // Mistakes the form sees itself, live: they clear the moment the value is fixed.
  const minMs = Math.round(Number(delayMinValue) * 1000);
  const maxMs = Math.round(Number(delayMaxValue) * 1000);
  const delaysInvalid = !Number.isFinite(minMs) || !Number.isFinite(maxMs) || minMs < 0 || maxMs < 0;
  const delayError = delaysInvalid ? "Delays are seconds, 0 or more" : maxMs < minMs ? "The longest delay must not be shorter than the shortest" : null;
  // An unchanged past time of a campaign already scheduled is the server's to judge (it keeps it).
  const timePassed = whenDate !== null && whenDate.getTime() <= now && when !== initialWhen;
  const whenError = when && !whenDate ? "Choose the date and time to send" : timePassed ? `${PAST_TIME} (that was ${formatRelative(whenDate!, now)})` : null;
  const safeFields = safeSendingFields(safeSending);
  const repeatRead = repeat.on ? readRepeat(repeat) : null;
  const repeatError = repeatRead && "error" in repeatRead ? repeatRead.error : null;

  const message = mode === "template" ? { templateId: templateId || null, text: null } : { text: text || null, templateId: null };
  const audience = audienceOf(campaign?.audience?.listIds, tags, excludeTags);
  // The other numbers ticked (never the first, and only numbers that still exist).
  const extras = extraSessionIds.filter((id) => id !== sessionId && (sessions.data?.some((session) => session.id === id) ?? true));
  const fields: SentFields = {
    name,
    listId: listId || null,
    audience,
    ...message,
    mediaId: mediaId || null,
    sessionId: sessionId || null,
    ...(sessionId && extras.length > 0 ? { sessionIds: [sessionId, ...extras], numberAssignment, reassignOnDrop } : {}),
    delayMinMs: minMs,
    delayMaxMs: maxMs,
    scheduledAt: whenIso,
    ...("error" in safeFields ? {} : safeFields),
    // A draft may take or drop a rule; a recurring campaign keeps one.
    ...(repeatRead && "recurrence" in repeatRead ? { recurrence: repeatRead.recurrence } : isDraft && campaign?.recurrence ? { recurrence: null } : {}),
  };
  /** The server's error for `field`, while that field still holds what was sent. */
  const fieldError = (field: string) => {
    if (!serverError || serverError.data?.field !== field) return null;
    if (field in sent && JSON.stringify(sent[field]) !== JSON.stringify(fields[field])) return null;
    // The preview already says what is wrong with the text (unknown placeholder, unclosed braces).
    if ((field === "text" || field === "templateId") && messageIssueShown) return null;
    return serverError.message;
  };
  const formError = serverError && !serverError.data?.field && JSON.stringify(sent) === JSON.stringify(fields) ? serverError : null;
  const safeError = "error" in safeFields ? safeFields.error : null;

  const done = (result: Campaign, verb: string) => {
    toast.success(`Campaign "${result.name}" ${verb}`);
    void queryClient.invalidateQueries(trpc.campaign.pathFilter());
    onSaved(result);
  };
  const create = useMutation(trpc.campaign.create.mutationOptions());
  const update = useMutation(trpc.campaign.update.mutationOptions());
  const schedule = useMutation(trpc.campaign.schedule.mutationOptions());

  async function run(action: () => Promise<Campaign>, verb: string) {
    setServerError(null);
    setSent(fields);
    setPending(true);
    try {
      done(await action(), verb);
    } catch (error) {
      setServerError(error as ErrorWithField);
    } finally {
      setPending(false);
    }
  }

  const { scheduledAt: _scheduledAt, ...withoutTime } = fields as SentFields & { scheduledAt: string | null };
  // The fields as the procedures take them (a draft's may be empty).
  const payload = { ...withoutTime, name } as Parameters<typeof create.mutateAsync>[0];

  /** Save without scheduling: only the name is needed. */
  function saveDraft() {
    if (!name.trim() || delayError || safeError) return;
    if (!campaign) {
      void run(() => create.mutateAsync({ ...payload, status: "Draft", ...(whenIso ? { scheduledAt: whenIso } : {}) }), "saved as a draft");
    } else {
      void run(() => update.mutateAsync({ id: campaign.id, ...payload, scheduledAt: whenIso }), "saved");
    }
  }

  /** Schedule a new campaign or a draft, or save a scheduled one's changes. */
  function submit() {
    if (repeat.on) {
      if (delayError || safeError || repeatError) return;
      // The rule gives the times: a new or draft campaign becomes a recurring one, whose next run is armed.
      if (!campaign) void run(() => create.mutateAsync({ ...payload }), "scheduled to repeat");
      else if (campaign.status === "Draft") {
        void run(async () => {
          await update.mutateAsync({ id: campaign.id, ...payload });
          return schedule.mutateAsync({ id: campaign.id });
        }, "scheduled to repeat");
      } else void run(() => update.mutateAsync({ id: campaign.id, ...payload }), "updated");
      return;
    }
    if (delayError || whenError || safeError || !whenIso) return;
    if (!campaign) {
      void run(() => create.mutateAsync({ ...payload, scheduledAt: whenIso }), "scheduled");
    } else if (campaign.status === "Draft") {
      void run(async () => {
        await update.mutateAsync({ id: campaign.id, ...payload, scheduledAt: whenIso });
        return schedule.mutateAsync({ id: campaign.id, scheduledAt: whenIso });
      }, "scheduled");
    } else {
      void run(() => update.mutateAsync({ id: campaign.id, ...payload, ...(when !== initialWhen ? { scheduledAt: whenIso } : {}) }), "updated");
    }
  }

  return (
    <form
      className="grid gap-4 lg:grid-cols-[1fr_22rem] lg:items-start"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <div className="space-y-4 lg:col-start-1 lg:row-start-1">
        <Card title="Who and from where">
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Campaign name" error={fieldError("name")} className="sm:col-span-2">
              <Input data-testid="campaign-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={120} />
            </Field>
            <Field
              label="WhatsApp number"
              error={fieldError("sessionId")}
              hint={
                chosenSession && chosenSession.status !== "WORKING" ? (
                  <span className="text-amber-700">
                    This number is {sessionStatusLabel(chosenSession.status).toLowerCase()}, not connected: the campaign pauses at its start until you link it.
                  </span>
                ) : sessions.data?.length === 0 ? (
                  <Link href="/numbers" className="text-emerald-800 underline">
                    Connect a number first
                  </Link>
                ) : undefined
              }
            >
              <Select data-testid="campaign-session" value={sessionId} onChange={(event) => setSessionId(event.target.value)}>
                {sessions.data && sessions.data.length !== 1 ? <option value="">Choose a number</option> : null}
                {sessions.data?.map((session) => (
                  <option key={session.id} value={session.id}>
                    {session.name} {session.phoneNumber ? `(${session.phoneNumber})` : ""} · {sessionStatusLabel(session.status)}
                  </option>
                ))}
              </Select>
            </Field>
            {sessionId && sessions.data && sessions.data.length > 1 ? (
              <Field label="Also send from" error={fieldError("sessionIds")} className="sm:col-span-2">
                <div className="space-y-2" data-testid="campaign-more-numbers">
                  <div className="flex flex-wrap gap-3 text-sm">
                    {sessions.data
                      .filter((session) => session.id !== sessionId)
                      .map((session) => (
                        <label key={session.id} className="flex items-center gap-1">
                          <input
                            type="checkbox"
                            checked={extras.includes(session.id)}
                            onChange={(event) =>
                              setExtraSessionIds(event.target.checked ? [...extras, session.id] : extras.filter((id) => id !== session.id))
                            }
                          />
                          {session.name} · {sessionStatusLabel(session.status)}
                        </label>
                      ))}
                  </div>
                  {extras.length > 0 ? (
                    <div className="grid gap-2 sm:grid-cols-2">
                      <Select
                        data-testid="campaign-number-assignment"
                        value={numberAssignment}
                        onChange={(event) => setNumberAssignment(event.target.value === "sticky" ? "sticky" : "balanced")}
                      >
                        <option value="balanced">Share recipients: whichever number is free sends next</option>
                        <option value="sticky">Keep each contact on the number that messaged them before</option>
                      </Select>
                      <label className="flex items-center gap-2 text-sm">
                        <input type="checkbox" checked={reassignOnDrop} onChange={(event) => setReassignOnDrop(event.target.checked)} />
                        If a number disconnects, its recipients move to the others
                      </label>
                    </div>
                  ) : null}
                </div>
              </Field>
            ) : null}
            <Field
              label="Contact list"
              error={fieldError("listId")}
              hint={
                lists.data?.items.length === 0 ? (
                  <Link href="/contacts" className="text-emerald-800 underline">
                    Import contacts first
                  </Link>
                ) : undefined
              }
            >
              <Select data-testid="campaign-list" value={listId} onChange={(event) => setListId(event.target.value)} required={!isDraft && !audience?.tags}>
                <option value="">{audience?.tags ? "(none: the tags below)" : "Choose a list"}</option>
                {lists.data?.items.map((list) => (
                  <option key={list.id} value={list.id}>
                    {list.name} ({plural(list.memberCount, "contact")})
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Also contacts tagged" hint="Optional, e.g. vip, gold: contacts with any of these tags" error={fieldError("audience.tags")}>
              <Input data-testid="campaign-tags" value={tags} onChange={(event) => setTags(event.target.value)} placeholder="(no tags)" />
            </Field>
            <Field label="Leave out contacts tagged" hint="Optional: contacts with any of these tags get nothing" error={fieldError("audience.excludeTags")}>
              <Input data-testid="campaign-exclude-tags" value={excludeTags} onChange={(event) => setExcludeTags(event.target.value)} placeholder="(none)" />
            </Field>
          </div>
        </Card>

        <Card title="Message">
          <div className="space-y-3">
            <div role="radiogroup" aria-label="Message source" className="flex gap-4 text-sm">
              <label className="flex items-center gap-2">
                <input type="radio" name="mode" data-testid="mode-template" checked={mode === "template"} onChange={() => setMode("template")} />
                Use a template
              </label>
              <label className="flex items-center gap-2">
                <input type="radio" name="mode" data-testid="mode-text" checked={mode === "text"} onChange={() => setMode("text")} />
                Write the text here
              </label>
            </div>
            {mode === "template" ? (
              <Field
                label="Template"
                error={fieldError("templateId")}
                hint={
                  templates.data?.items.length === 0 ? (
                    <Link href="/templates" className="text-emerald-800 underline">
                      Write a template first
                    </Link>
                  ) : undefined
                }
              >
                <Select data-testid="campaign-template" value={templateId} onChange={(event) => setTemplateId(event.target.value)} required={!isDraft}>
                  <option value="">Choose a template</option>
                  {templates.data?.items.map((template) => (
                    <option key={template.id} value={template.id}>
                      {template.name}
                    </option>
                  ))}
                </Select>
              </Field>
            ) : (
              <MessageEditor value={text} onChange={setText} testId="campaign-text" error={fieldError("text")} />
            )}
            <Field
              label="Image (optional)"
              error={fieldError("mediaId")}
              hint={
                media.data?.items.length === 0
                  ? "Upload images under Media"
                  : templateMediaId
                    ? "The template's image is sent unless you choose another one here"
                    : "For a contact without a first name, write a fallback in the text: {{first_name|friend}}"
              }
            >
              <Select data-testid="campaign-media" value={mediaId} onChange={(event) => setMediaId(event.target.value)}>
                <option value="">{templateMediaId ? "The template's image" : "No image"}</option>
                {media.data?.items.map((item) => (
                  <option key={item.id} value={item.id}>
                    {item.filename}
                  </option>
                ))}
              </Select>
            </Field>
            {mediaId || templateMediaId ? <MediaThumb id={(mediaId || templateMediaId)!} alt="Chosen image" className="h-24 w-24 rounded-md" /> : null}
          </div>
        </Card>

        <Card title="When and how fast">
          <div className="grid gap-3 sm:grid-cols-2">
            <Field
              label={
                <>
                  Send at <span className="font-normal text-slate-500">({timeZone}{whenDate ? `, ${offsetLabel(whenDate)}` : ""})</span>
                </>
              }
              error={whenError ?? fieldError("scheduledAt")}
              hint={whenError ? undefined : whenDate ? `Starts ${formatRelative(whenDate, now)}` : isDraft ? "A draft may wait for its time" : undefined}
              className={repeat.on ? "hidden" : "sm:col-span-2"}
            >
              <Input
                type="datetime-local"
                step={1}
                data-testid="campaign-when"
                aria-invalid={whenError ? true : undefined}
                className={whenError ? "border-red-500 text-red-700" : ""}
                value={when}
                onChange={(event) => setWhen(event.target.value)}
                required={!isDraft && !repeat.on}
              />
            </Field>
            {/* A one-off campaign already scheduled, or one run of a series, does not become a series. */}
            {isDraft || campaign?.status === "Recurring" ? (
              <div className="sm:col-span-2">
                <RepeatFields value={repeat} onChange={setRepeat} fieldError={fieldError} canTurnOff={campaign?.status !== "Recurring"} />
              </div>
            ) : null}
            <Field label="Shortest delay between messages (s)" error={fieldError("delayMinMs")}>
              <Input
                type="number"
                min={0}
                step="0.1"
                inputMode="decimal"
                data-testid="campaign-delay-min"
                value={delayMinValue}
                onChange={(event) => setDelayMin(event.target.value)}
                required
              />
            </Field>
            <Field label="Longest delay between messages (s)" error={delayError ?? fieldError("delayMaxMs")}>
              <Input
                type="number"
                min={0}
                step="0.1"
                inputMode="decimal"
                data-testid="campaign-delay-max"
                value={delayMaxValue}
                onChange={(event) => setDelayMax(event.target.value)}
                required
              />
            </Field>
            <p className="text-xs text-slate-500 sm:col-span-2">
              Each message waits a random time in this range after the previous one from the same number. WAHA advises 30–60 s
              for people who have not messaged you before; short gaps to a cold audience get numbers banned.
            </p>
          </div>
        </Card>

        <Card title="Keeping the number safe">
          <SafeSendingOptions draft={safeSending} onChange={setSafeSending} fieldError={fieldError} />
          <p className="mt-2 text-xs text-slate-500">
            The number&apos;s own daily and hourly limits and warm-up (under Numbers) apply to every campaign on it.
          </p>
        </Card>
      </div>

      {/* DOM order fields, preview, submit: on a phone the preview comes before the button; on a wide screen it sits on the right. */}
      <aside className="space-y-4 lg:col-start-2 lg:row-span-2 lg:row-start-1">
        <Card title="Preview">
          {body ? (
            <MessagePreview body={body} imageUrl={imageUrl} listId={listId} onIssues={setMessageIssueShown} />
          ) : (
            <p className="text-sm text-slate-500">Choose a template or write the text to see it here.</p>
          )}
        </Card>
      </aside>

      <div className="space-y-4 lg:col-start-1 lg:row-start-2">
        {safeError ? <ErrorMessage error={{ message: safeError }} /> : null}
        <ErrorMessage error={formError} testId="campaign-error" />
        <div className="flex flex-col gap-2 sm:flex-row">
          <Button type="submit" pending={pending} data-testid="campaign-submit" className="w-full sm:w-auto">
            {campaign && !isDraft ? "Save changes" : "Schedule campaign"}
          </Button>
          {isDraft ? (
            <Button type="button" variant="secondary" pending={pending} data-testid="campaign-save-draft" className="w-full sm:w-auto" onClick={saveDraft}>
              Save draft
            </Button>
          ) : null}
        </div>
      </div>

    </form>
  );
}
