/**
 * The one table the bench prints: our figure, the baseline or physical limit beside it, the target,
 * and whether the target is met. Rendered as a padded Markdown table, readable in a terminal and
 * pasteable into docs/performance.md as is.
 */

export interface Row {
  /** Measurement group, e.g. "1. Start precision". */
  section: string;
  label: string;
  ours: string;
  /** The baseline or physical limit measured in the same run ("—" when there is none). */
  baseline: string;
  /** "—" when the issue sets no target for this figure. */
  target: string;
  /** null: no target, or not measured. */
  met: boolean | null;
}

const HEADER = ["Measure", "Ours", "Baseline / limit", "Target", "Met"];

function cells(row: Row): string[] {
  return [row.label, row.ours, row.baseline, row.target, row.met === null ? "—" : row.met ? "yes" : "**no**"];
}

export function renderTable(rows: readonly Row[]): string {
  const body: string[][] = [];
  let section = "";
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      body.push([`**${section}**`, "", "", "", ""]);
    }
    body.push(cells(row));
  }
  const escape = (text: string) => text.replace(/\|/g, "\\|");
  const all = [HEADER, ...body].map((line) => line.map(escape));
  const widths = HEADER.map((_, column) => Math.max(...all.map((line) => line[column]!.length)));
  const format = (line: string[]) => `| ${line.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  return [format(all[0]!), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...all.slice(1).map(format)].join("\n");
}

// ------------------------------------------------------------------ number formatting

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "n/a";
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (Math.abs(value) >= 10) return `${Math.round(value)} ms`;
  return `${value.toFixed(1)} ms`;
}

export function mb(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || Number.isNaN(bytes)) return "n/a";
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

export function int(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

export function rate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || Number.isNaN(perSecond)) return "n/a";
  return `${int(perSecond)} msg/s`;
}

export function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** "p50 12 ms · p99 40 ms · max 52 ms" */
export function latency(summary: { p50: number; p99: number; max: number }): string {
  return `p50 ${ms(summary.p50)} · p99 ${ms(summary.p99)} · max ${ms(summary.max)}`;
}
