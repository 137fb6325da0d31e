/**
 * What a create, edit or schedule of a recurring campaign may ask (issue 15), checked before the
 * campaign service writes: each refusal is a 400 naming the field. The rule itself (cron, zone,
 * until) is `recurrenceSchema`'s; here, what depends on the campaign and on now.
 */
import type { Campaign, CampaignRecurrence } from "~/server/db/schema";
import { badRequest } from "../errors";
import { firstOccurrence } from "./rule";

/**
 * A new series' first occurrence: after `earliest` (now plus the scheduler's lead), or from
 * `scheduledAt` when one is given (the series starts then). A series has no latest start.
 */
export function seriesStart(recurrence: CampaignRecurrence, input: { scheduledAt?: Date | null; latestStart?: Date | null }, earliest: number): Date {
  if (input.latestStart) {
    throw badRequest("A recurring campaign has no latestStart: each run starts at its occurrence (leave latestStart out)", "latestStart");
  }
  const from = Math.max(earliest, input.scheduledAt ? input.scheduledAt.getTime() - 1 : 0);
  return firstOccurrence(recurrence, new Date(from));
}

/**
 * An edit of `current`: a series keeps a rule (cancel it to stop it) and takes no time of its own; a
 * one-off campaign does not become a series by an edit (a draft may take or drop a rule). Answers
 * the rule to store, checked against now.
 */
export function editedRecurrence(
  current: Campaign,
  input: { recurrence?: CampaignRecurrence | null; scheduledAt?: Date | null; latestStart?: Date | null },
  earliest: number,
): CampaignRecurrence | null {
  if (current.status === "Recurring") {
    if (input.recurrence === null) throw badRequest("A recurring campaign keeps its recurrence: cancel it to stop its runs", "recurrence");
    if (input.scheduledAt !== undefined) throw badRequest("A recurring campaign's runs follow its recurrence: change recurrence.cron instead of scheduledAt", "scheduledAt");
    if (input.latestStart) throw badRequest("A recurring campaign has no latestStart: each run starts at its occurrence", "latestStart");
    const recurrence = input.recurrence ?? current.recurrence;
    if (recurrence && input.recurrence) firstOccurrence(recurrence, new Date(earliest));
    return recurrence;
  }
  if (current.status !== "Draft" && input.recurrence) {
    throw badRequest(
      current.seriesId
        ? "This is one run of a recurring campaign: change the recurring campaign instead"
        : "A scheduled campaign runs once: create a recurring campaign (or a draft) with recurrence instead",
      "recurrence",
    );
  }
  return input.recurrence !== undefined ? input.recurrence : current.recurrence;
}
