import { formatNumber, formatTime, plural } from "./format";

/** Sends per minute as an inline SVG bar chart (no chart library; the data is small). */
export function SendsChart({ points }: { points: Array<{ minute: string; sent: number }> }) {
  if (points.length === 0) {
    return <p className="text-sm text-slate-500">No messages sent yet.</p>;
  }
  // Fill the minutes with no sends, so gaps show as gaps (up to three hours of bars).
  const first = new Date(points[0]!.minute).getTime();
  const last = new Date(points[points.length - 1]!.minute).getTime();
  const byMinute = new Map(points.map((point) => [new Date(point.minute).getTime(), point.sent]));
  const bars: Array<{ at: number; sent: number }> = [];
  if ((last - first) / 60_000 <= 180) {
    for (let at = first; at <= last; at += 60_000) bars.push({ at, sent: byMinute.get(at) ?? 0 });
  } else {
    for (const point of points) bars.push({ at: new Date(point.minute).getTime(), sent: point.sent });
  }
  const max = Math.max(...bars.map((bar) => bar.sent), 1);
  const width = 600;
  const height = 160;
  const bottom = 20;
  // At least ten slots, so a short campaign shows narrow bars from the left rather than one slab.
  const barWidth = width / Math.max(bars.length, 10);
  const total = bars.reduce((sum, bar) => sum + bar.sent, 0);
  return (
    <figure>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Sends per minute: ${plural(total, "message")} over ${plural(bars.length, "minute")}, at most ${formatNumber(max)} in one minute`}
        className="h-40 w-full"
        preserveAspectRatio="none"
        data-testid="sends-chart"
      >
        <line x1="0" y1={height - bottom} x2={width} y2={height - bottom} stroke="#cbd5e1" strokeWidth="1" />
        {bars.map((bar, index) => {
          const barHeight = ((height - bottom - 8) * bar.sent) / max;
          return (
            <rect
              key={bar.at}
              x={index * barWidth + barWidth * 0.15}
              y={height - bottom - barHeight}
              width={Math.max(1, barWidth * 0.7)}
              height={barHeight}
              rx="2"
              fill="#059669"
            >
              <title>{`${formatTime(new Date(bar.at))}: ${bar.sent} sent`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="mt-1 flex justify-between gap-2 text-xs text-slate-500">
        <span>
          {formatTime(new Date(bars[0]!.at))}
          {bars.length > 1 ? ` – ${formatTime(new Date(bars[bars.length - 1]!.at))}` : ""}, one bar per minute
        </span>
        <span>
          {total} sent · peak {max}/min
        </span>
      </figcaption>
    </figure>
  );
}
