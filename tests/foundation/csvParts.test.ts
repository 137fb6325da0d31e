/** The import page sends a large CSV in parts of whole records (issue 16): nothing lost, lines kept. */
import { describe, expect, it } from "vitest";
import { splitCsvIntoParts } from "~/components/csvChunks";
import { parseContactsCsv } from "~/server/services/contactImport";

describe("a CSV split into parts for the import", () => {
  it("cuts only between records, repeats the header, and each part's lines plus its offset are the file's lines", () => {
    for (const text of [
      '\uFEFFphone_number;first_name\n+4915100000001;"Ana\nMaria"\n\n+4915100000002;Bo\n+4915100000003;"Quote ""x"""\n+4915100000004;Di',
      '\uFEFFphone_number;first_name\r\n+4915100000001;"Ana, Maria"\r\n\r\n+4915100000002;Bo\r\n+4915100000003;"Quote ""x"""\r\n+4915100000004;Di\r\n',
    ]) {
      const whole = parseContactsCsv(text).rows;
      const { parts, rowCount } = splitCsvIntoParts(text, { maxRows: 2, maxChars: 1_000_000 });
      expect(rowCount).toBe(4);
      expect(parts.map((part) => part.rows)).toEqual([2, 2]);
      const fromParts = parts.flatMap((part) =>
        parseContactsCsv(part.csv).rows.map((row) => ({ ...row, line: row.line + part.lineOffset })),
      );
      expect(fromParts).toEqual(whole);
      expect(fromParts.map((row) => row.values.first_name)).toEqual([text.includes("Ana\n") ? "Ana\nMaria" : "Ana, Maria", "Bo", 'Quote "x"', "Di"]);
    }
  });

  it("50,000 rows become parts under the size limit, each under 5,000 rows", () => {
    const lines = ["phone_number,first_name"];
    for (let i = 0; i < 50_000; i++) lines.push(`+491510${String(i).padStart(7, "0")},Name ${i}`);
    const { parts, rowCount } = splitCsvIntoParts(lines.join("\n"));
    expect(rowCount).toBe(50_000);
    expect(parts[0]!.rows).toBe(1_000); // the first part is small, so progress shows early
    expect(parts.reduce((sum, part) => sum + part.rows, 0)).toBe(50_000);
    for (const part of parts) {
      expect(part.rows).toBeLessThanOrEqual(5_000);
      expect(part.csv.length).toBeLessThan(250_100);
    }
    const last = parts.at(-1)!;
    expect(parseContactsCsv(last.csv).rows.at(-1)!.line + last.lineOffset).toBe(50_001);
  });
});
