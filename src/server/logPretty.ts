/**
 * One pino JSON line as a person reads it in a terminal: `15:41:09 WARN  runner: message key=value`,
 * an error's stack below it. Used only on a TTY (logger.ts `setLogFormat`); files and pipes get JSON.
 */
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const HIDDEN = new Set(["level", "time", "msg", "component", "pid", "hostname", "err", "error"]);

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function value(item: unknown): string {
  if (typeof item === "string") return /[\s="]/.test(item) ? JSON.stringify(item) : item;
  return JSON.stringify(item) ?? String(item);
}

export function prettyLogLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith("\n") ? jsonLine : `${jsonLine}\n`;
  }
  const time = new Date(typeof entry.time === "number" ? entry.time : Date.now());
  const clock = `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).padEnd(5);
  const component = typeof entry.component === "string" ? `${entry.component}: ` : "";
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, item]) => `${key}=${value(item)}`)
    .join(" ");
  const error = (entry.err ?? entry.error) as { stack?: unknown; message?: unknown } | undefined;
  const errorText = error ? `\n    ${String(error.stack ?? error.message ?? value(error)).split("\n").join("\n    ")}` : "";
  return `${clock} ${level} ${component}${String(entry.msg ?? "")}${fields ? ` ${fields}` : ""}${errorText}\n`;
}
