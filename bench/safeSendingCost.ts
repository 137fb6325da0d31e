/**
 * 7. What safe sending costs per message (issue 13): the same campaign, delay 0, against the fake
 * WAHA (its own process), once with the neutral policy and once with typing and check-exists on
 * and daily/hourly limits set (high enough never to hold it back, so every check runs and none
 * waits). Statements per message are counted at the driver; the time per message is the difference
 * of the two steady rates. With delay 0 the typing lasts 0 ms (it is counted inside the delay), so
 * what is measured is its three WAHA calls (sendSeen, startTyping, stopTyping), check-exists' call,
 * and the statements around them: the contact's cached answer read, and written once per contact.
 */
import { type BenchContext, type MeasurementResult, errorCell } from "./lib/context";
import { type Row, int, ms, rate } from "./lib/table";
import { runSending } from "./sendingOverhead";

const SECTION = "7. Safe sending cost";

const SAFE = { typing: true, checkExists: true, dailyLimit: 100_000, hourlyLimit: 100_000 };

export async function measureSafeSendingCost(ctx: BenchContext): Promise<MeasurementResult> {
  const count = ctx.quick ? 1_000 : 5_000;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = { count };
  for (const backend of ["pglite", "postgres"] as const) {
    const name = backend === "pglite" ? "PGlite" : "PostgreSQL";
    const label = `1 campaign × ${int(count)}, delay 0, typing + check-exists + limits · ${name}`;
    try {
      ctx.progress(`safety: neutral policy · ${name}`);
      const plain = await runSending(ctx, backend, 1, count);
      ctx.progress(`safety: typing + check-exists + limits · ${name}`);
      const safe = await runSending(ctx, backend, 1, count, false, SAFE);
      const steady = (outcome: typeof plain) => (outcome.sendPhaseMs > 0 ? ((outcome.sent - 1) / outcome.sendPhaseMs) * 1000 : 0);
      const perMessage = (outcome: typeof plain) => outcome.statements / Math.max(1, outcome.sent);
      const extraMs = 1000 / steady(safe) - 1000 / steady(plain);
      const problems = safe.sent < count || plain.sent < count ? ` · not all sent (${safe.sent}/${plain.sent} of ${count})` : "";
      figures[backend] = { plain, safe, extraMsPerMessage: extraMs };
      rows.push(
        {
          section: SECTION,
          label,
          ours: `${rate(steady(safe))} steady · ${perMessage(safe).toFixed(2)} statements/msg · ${ms(1000 / steady(safe))}/msg${problems}`,
          baseline: `neutral policy: ${rate(steady(plain))} · ${perMessage(plain).toFixed(2)} statements/msg · ${ms(1000 / steady(plain))}/msg`,
          target: "—",
          met: null,
        },
        {
          section: SECTION,
          label: `the checks' cost per message · ${name}`,
          ours: `+${(perMessage(safe) - perMessage(plain)).toFixed(2)} statements, +${ms(extraMs)} (4 WAHA calls: check-exists, sendSeen, startTyping, stopTyping)`,
          baseline: "—",
          target: "—",
          met: null,
        },
      );
    } catch (error) {
      rows.push({ section: SECTION, label, ours: errorCell(error), baseline: "—", target: "—", met: null });
    }
  }
  return { rows, figures };
}
