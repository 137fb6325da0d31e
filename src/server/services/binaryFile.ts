/**
 * Telling a binary file (an image, a PDF, a workbook) picked by mistake from a CSV, on the text it
 * decodes to. Pure: the import page checks before it previews, the server before it parses.
 */

/** Starts of files people pick by mistake, as they read once decoded as UTF-8 (a bad byte reads as U+FFFD). */
const SIGNATURES: Array<[string, string]> = [
  ["\uFFFDPNG", "a PNG image"],
  ["GIF87a", "a GIF image"],
  ["GIF89a", "a GIF image"],
  ["%PDF-", "a PDF document"],
  ["PK\u0003\u0004", "a ZIP archive or an Excel workbook (.xlsx)"],
  ["\uFFFD\uFFFD\u0011\uFFFD", "an old Excel workbook (.xls)"],
  ["\uFFFD\uFFFD\uFFFD", "an image or another binary file"],
];

/** What kind of binary file this text came from, or null for text: a CSV holds no NUL byte, nor many undecodable ones. */
export function binaryFileKind(text: string): string | null {
  const head = text.slice(0, 4096);
  for (const [signature, kind] of SIGNATURES) if (head.startsWith(signature)) return kind;
  if (head.includes("\u0000")) return "a binary file";
  const undecodable = head.split("\uFFFD").length - 1;
  return undecodable > 8 && undecodable > head.length / 50 ? "a binary file" : null;
}

export function binaryFileMessage(kind: string): string {
  return `This file is ${kind}, not a CSV text file: export the sheet as CSV (comma-separated values, UTF-8) and choose that file`;
}
