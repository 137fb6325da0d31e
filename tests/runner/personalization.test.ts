import { describe, expect, it } from "vitest";
import { extractPlaceholders, findMessageTextProblem, findUnknownPlaceholders, renderTemplate } from "~/server/services/personalization";

const ana = { phone: "+4915112345678", firstName: "Ana", attributes: { city: "Lisbon", Plan: "Pro" } };
const nameless = { phone: "+4915112345679", firstName: null, attributes: {} };

describe("personalization", () => {
  it("extracts double-brace placeholders with and without fallbacks; the seed's {Name} is none (issue 16: one syntax)", () => {
    expect(extractPlaceholders("Hi {{ first_name | there }}, {{city}}! {Name} {{code|}}")).toEqual([
      { name: "first_name", fallback: "there", raw: "{{ first_name | there }}" },
      { name: "city", fallback: null, raw: "{{city}}" },
      { name: "code", fallback: "", raw: "{{code|}}" },
    ]);
  });

  it("refuses the old {Name} in a new text, saying what to write instead and where", () => {
    expect(findMessageTextProblem("Hello { name }!")).toEqual({
      position: 7,
      message: "Write {{first_name|friend}} instead of { name } (the text after the bar is what a contact without a first name gets)",
    });
    expect(findMessageTextProblem("Hello {{name|friend}}, {Hi|Hey}")).toBeNull();
  });

  it("treats other single-brace text as plain text", () => {
    expect(extractPlaceholders("Use {braces} or {} freely")).toEqual([]);
    expect(renderTemplate("Use {braces} freely", ana)).toBe("Use {braces} freely");
  });

  it("renders first name, phone and attributes (any case)", () => {
    expect(renderTemplate("Hi {{first_name}} from {{city}} on {{plan}} ({{phone}}); {{name}}", ana)).toBe(
      "Hi Ana from Lisbon on Pro (+4915112345678); Ana",
    );
  });

  it("uses the fallback when the value is missing or blank, else nothing", () => {
    expect(renderTemplate("Hi {{first_name|there}} in {{city|your city}}", nameless)).toBe("Hi there in your city");
    expect(renderTemplate("Hi {{name|friend}}, {{name}}!", nameless)).toBe("Hi friend, !");
    expect(renderTemplate("Hi {{first_name}}.{{city}}.", nameless)).toBe("Hi ..");
    expect(renderTemplate("Hi {{first_name|x}}", { ...nameless, firstName: "  " })).toBe("Hi x");
  });

  it("finds unknown placeholders: built-ins, known attributes and fallbacks are never unknown", () => {
    const body = "{{first_name}} {{Phone}} {Name} {{city}} {{zip}} {{zip}} {{age|?}} {{Country}}";
    expect(findUnknownPlaceholders(body, ["City", "country"])).toEqual(["zip"]);
    expect(findUnknownPlaceholders(body, [])).toEqual(["city", "zip", "Country"]);
  });

  it("leaves an empty {{ }} alone", () => {
    expect(renderTemplate("a {{ }} b", ana)).toBe("a {{ }} b");
    expect(findUnknownPlaceholders("a {{ }} b", [])).toEqual([]);
  });
});
