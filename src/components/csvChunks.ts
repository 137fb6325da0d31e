/**
 * A large CSV sent to the server in parts, so that the import page can show its progress (rows
 * parsed, rows saved) and no request exceeds the API's body limit. Each part is the header plus a
 * run of whole records cut from the original text, with the number of lines before it, so the
 * server reports every rejected row by its line in the original file.
 */
import { detectDelimiter } from "./csv";

export interface CsvPart {
  /** The header line, then whole records, as they were in the file. */
  csv: string;
  /** Add to a line number in `csv` to get the line in the whole file. */
  lineOffset: number;
  /** Data rows in this part (blank lines not counted). */
  rows: number;
}

/** At most this much per part: under the 1 MB a dashboard call may send even at 3 UTF-8 bytes a character, with room for JSON escaping. */
export const PART_LIMITS = { maxRows: 5_000, maxChars: 250_000 };
const FIRST_PART_ROWS = 1_000;

export function splitCsvIntoParts(text: string, limits = PART_LIMITS): { parts: CsvPart[]; rowCount: number } {
  const body = text.replace(/^\uFEFF/, "");
  const headerEnd = recordEnd(body, 0, detectDelimiter(body.split(/\r?\n/, 1)[0] ?? ""));
  // With its own line break: a part must end its lines as the file does, or the parser counts them differently.
  const header = body.slice(0, headerEnd.end);
  const delimiter = detectDelimiter(header.replace(/\r?\n$/, ""));
  const parts: CsvPart[] = [];
  let linesBefore = headerEnd.lines; // physical lines before the current part's first record
  let partStart = headerEnd.end;
  let partLines = 0;
  let partRows = 0;
  let rowCount = 0;
  let position = headerEnd.end;
  const close = () => {
    if (partRows > 0) parts.push({ csv: `${header}${body.slice(partStart, position)}`, lineOffset: linesBefore - 1, rows: partRows });
    linesBefore += partLines;
    partStart = position;
    partLines = 0;
    partRows = 0;
  };
  while (position < body.length) {
    const record = recordEnd(body, position, delimiter);
    if (body.slice(position, record.end).trim() !== "") {
      partRows++;
      rowCount++;
    }
    partLines += record.lines;
    position = record.end;
    // A small first part: the page shows rows saved within a second or two, even while the server warms up.
    const rowLimit = parts.length === 0 ? Math.min(limits.maxRows, FIRST_PART_ROWS) : limits.maxRows;
    if (partRows >= rowLimit || position - partStart >= limits.maxChars) close();
  }
  close();
  return { parts, rowCount };
}

/** Where the record starting at `start` ends (after its line break), and how many line breaks it spans. */
function recordEnd(text: string, start: number, delimiter: string): { end: number; lines: number } {
  let quoted = false;
  let fieldStart = true;
  let lines = 0;
  for (let i = start; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') i++;
        else quoted = false;
      } else if (char === "\n") {
        lines++;
      }
      continue;
    }
    if (char === '"' && fieldStart) {
      quoted = true;
    } else if (char === "\n") {
      return { end: i + 1, lines: lines + 1 };
    } else if (char === "\r" && text[i + 1] === "\n") {
      return { end: i + 2, lines: lines + 1 };
    }
    fieldStart = char === delimiter;
  }
  return { end: text.length, lines: lines + 1 };
}
