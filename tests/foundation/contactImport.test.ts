import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type FixtureName, fixturePath } from "../fixtures/paths";
import { parseContactsCsv, prepareImport } from "~/server/services/contactImport";

const read = (name: FixtureName) => readFileSync(fixturePath(name), "utf8");

describe("CSV contact import (parsing and normalising)", () => {
  it("keeps all 20 clean contacts in E.164 with their extra columns as attributes", () => {
    const { columns, rows } = parseContactsCsv(read("contacts-clean.csv"));
    const prepared = prepareImport(columns, rows);
    expect(prepared.rejected).toEqual([]);
    expect(prepared.contacts).toHaveLength(20);
    const chloe = prepared.contacts.find((contact) => contact.firstName === "Chloé");
    expect(chloe).toMatchObject({ phone: "+12015550103", attributes: { city: "Hoboken", plan: "gold" } });
    const noName = prepared.contacts.find((contact) => contact.phone === "+12015550105");
    expect(noName?.firstName).toBeNull();
    const noPlan = prepared.contacts.find((contact) => contact.phone === "+12015550106");
    expect(noPlan?.attributes).toEqual({ city: "Newark" });
  });

  it("reads a messy export: BOM, semicolons, CRLF, local numbers, duplicates, bad rows with their lines", () => {
    const { columns, rows } = parseContactsCsv(read("contacts-messy.csv"));
    expect(columns).toEqual(["phone_number", "first_name", "notes"]);
    const prepared = prepareImport(columns, rows, { defaultCountry: "US" });
    expect(prepared.contacts).toHaveLength(6);
    expect(prepared.duplicatesMerged).toBe(1);
    expect(prepared.rejected.map((row) => [row.line, row.value])).toEqual([
      [5, "12345"],
      [6, "hello"],
      [7, ""],
    ]);
    for (const row of prepared.rejected) expect(row.reason.length).toBeGreaterThan(5);
    const ana = prepared.contacts.find((contact) => contact.phone === "+12015550111");
    expect(ana?.lines).toEqual([2, 4]);
    expect(prepared.contacts.map((contact) => contact.phone)).toContain("+6281234567811");
    // Markup and placeholder look-alikes are kept as plain text, not interpreted.
    const names = prepared.contacts.map((contact) => contact.firstName);
    expect(names).toContain("<script>alert(1)</script>");
    expect(names).toContain("{{first_name}}");
    expect(names).toContain("Quoted, Name");
  });

  it("without a default country, a local number is rejected with advice", () => {
    const { columns, rows } = parseContactsCsv("phone_number,first_name\n(201) 555-0111,Ana\n");
    const prepared = prepareImport(columns, rows);
    expect(prepared.contacts).toHaveLength(0);
    expect(prepared.rejected[0]?.reason).toMatch(/country code|default country|valid/i);
  });

  it("refuses a file without a phone column, naming the columns it found", () => {
    const { columns, rows } = parseContactsCsv("name,city\nAna,Lyon\n");
    expect(() => prepareImport(columns, rows)).toThrow(/No phone column found.*name, city/);
  });

  it("an empty first-name mapping keeps a name-like column as an attribute", () => {
    const { columns, rows } = parseContactsCsv("phone,name\n+4915123456711,Lena\n");
    const prepared = prepareImport(columns, rows, { mapping: { firstName: "" } });
    expect(prepared.contacts[0]).toMatchObject({ firstName: null, attributes: { name: "Lena" } });
  });

  it("honours a column mapping", () => {
    const { columns, rows } = parseContactsCsv("Mobile Number,Given\n+4915123456711,Lena\n");
    const prepared = prepareImport(columns, rows, { mapping: { phone: "Mobile Number", firstName: "Given" } });
    expect(prepared.contacts).toEqual([{ phone: "+4915123456711", firstName: "Lena", attributes: {}, tags: [], lines: [2] }]);
  });

  it("reads a tags column into tags (not an attribute), adds the import's tag, and merges a repeated phone's tags (issue 15)", () => {
    const { columns, rows } = parseContactsCsv('phone,tags,city\n+4915123456711,"VIP; Berlin | vip",Köln\n+4915123456712,,Bonn\n+4915123456711,new,\n');
    const prepared = prepareImport(columns, rows, { tag: " Spring " });
    expect(prepared.contacts).toEqual([
      { phone: "+4915123456711", firstName: null, attributes: { city: "Köln" }, tags: ["berlin", "new", "spring", "vip"], lines: [2, 4] },
      { phone: "+4915123456712", firstName: null, attributes: { city: "Bonn" }, tags: ["spring"], lines: [3] },
    ]);
  });

  it("says a +999 number has an unknown country code, and reads 0049 as +49 (issue 16)", () => {
    const { columns, rows } = parseContactsCsv("phone_number\n+999 123456789\n0049 151 23456799\n");
    const prepared = prepareImport(columns, rows);
    expect(prepared.rejected).toEqual([
      { line: 2, value: "+999 123456789", reason: expect.stringMatching(/^Unknown country code \+999:/) as unknown },
    ]);
    expect(prepared.contacts.map((contact) => contact.phone)).toEqual(["+4915123456799"]);
  });

  it("refuses a PNG, a PDF or an .xlsx picked as the CSV, saying what the file is (issue 16)", () => {
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");
    expect(() => parseContactsCsv(png.toString("utf8"))).toThrow(/This file is a PNG image, not a CSV text file: export the sheet as CSV/);
    expect(() => parseContactsCsv("%PDF-1.7\nphone\n")).toThrow(/a PDF document/);
    expect(() => parseContactsCsv("PK\u0003\u0004phone_number\n")).toThrow(/Excel workbook/);
    expect(() => parseContactsCsv("phone_number\n+4915123456799\u0000\n")).toThrow(/a binary file/);
    // A stray undecodable byte in a name is still text.
    expect(parseContactsCsv("phone_number,first_name\n+4915123456799,M\uFFFDller\n").rows).toHaveLength(1);
  });
});
