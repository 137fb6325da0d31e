/**
 * Just enough CSV for the import preview and the rejected-rows download. The server parses the real
 * import (csv-parse); this only shows the user what it will read, so it follows the same rules:
 * BOM stripped, delimiter `,` `;` or tab chosen by the header line, quoted fields, CRLF.
 */

export interface CsvPreview {
  delimiter: string;
  columns: string[];
  rows: string[][];
  /** Data rows in the file (not counting blank lines), as far as this quick parse can tell. */
  rowCount: number;
}

export function detectDelimiter(headerLine: string): string {
  const count = (char: string) => headerLine.split(char).length - 1;
  return [",", ";", "\t"].sort((a, b) => count(b) - count(a))[0]!;
}

/** Splits CSV text into records; a quote starts a quoted field only at the start of a field. */
export function parseCsv(text: string, delimiter: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += char;
      }
      continue;
    }
    if (char === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
    } else if (char === delimiter) {
      record.push(field);
      field = "";
      fieldStart = true;
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      fieldStart = true;
    } else {
      field += char;
      fieldStart = false;
    }
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records.filter((r) => r.some((value) => value.trim() !== "")).map((r) => r.map((value) => value.trim()));
}

export function previewCsv(text: string, maxRows = 5): CsvPreview {
  const clean = text.replace(/^\uFEFF/, "");
  const headerLine = clean.split(/\r?\n/, 1)[0] ?? "";
  const delimiter = detectDelimiter(headerLine);
  const [header = [], ...body] = parseCsv(clean, delimiter);
  return { delimiter, columns: header, rows: body.slice(0, maxRows), rowCount: body.length };
}

/** Guess the column the server would pick by default (same candidate names, case-insensitive). */
export function guessColumn(columns: string[], candidates: string[]): string | undefined {
  const lower = columns.map((column) => column.toLowerCase());
  for (const candidate of candidates) {
    const index = lower.indexOf(candidate);
    if (index >= 0) return columns[index];
  }
  return undefined;
}

export const PHONE_COLUMN_NAMES = ["phone_number", "phone", "number", "mobile", "whatsapp"];
export const FIRST_NAME_COLUMN_NAMES = ["first_name", "firstname", "name"];

function escapeCell(value: string | number): string {
  let text = String(value);
  // A spreadsheet would run a cell starting with = or @ as a formula.
  if (/^[=@\t\r]/.test(text) || /^[+-][^0-9\s(]/.test(text)) text = `'${text}`;
  return /[",\n\r;]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(columns: string[], rows: Array<Array<string | number>>): string {
  return [columns, ...rows].map((row) => row.map(escapeCell).join(",")).join("\r\n") + "\r\n";
}

/** Saves text as a file through a Blob URL (no server round trip). */
export function downloadText(filename: string, text: string, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
