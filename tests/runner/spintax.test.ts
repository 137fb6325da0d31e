import { describe, expect, it } from "vitest";
import { CompiledMessage, findMessageTextProblem } from "~/server/services/personalization";
import { countVariants, parseSpintax, renderSpintax, sampleVariants, seededRandom } from "~/server/services/spintax";

const ana = { phone: "+4915112345678", firstName: "Ana", attributes: { city: "Lisbon" } };
const nameless = { phone: "+4915112345679", firstName: null, attributes: {} };

function parts(body: string) {
  const parsed = parseSpintax(body);
  if (!parsed.ok) throw new Error(parsed.problem.message);
  return parsed.parts;
}

/** Every text the spintax makes, by walking each choice (test-sized inputs only). */
function allVariants(body: string): string[] {
  const variants = new Set<string>();
  const compiled = parts(body);
  for (let seed = 0; seed < 2000; seed++) variants.add(renderSpintax(compiled, seededRandom(seed)));
  return [...variants].sort();
}

describe("spintax: parsing and variants", () => {
  it("a group gives one of its choices; nested groups too", () => {
    expect(allVariants("{Hi|Hello|Hey} there")).toEqual(["Hello there", "Hey there", "Hi there"]);
    expect(allVariants("{Hi|Hello {there|friend}}!")).toEqual(["Hello friend!", "Hello there!", "Hi!"]);
    expect(allVariants("{a|}b")).toEqual(["ab", "b"]);
  });

  it("{{placeholders}} are not spintax, inside or outside a group; their bar is the fallback's", () => {
    expect(allVariants("{Hi|Hello} {{first_name|there}}")).toEqual(["Hello {{first_name|there}}", "Hi {{first_name|there}}"]);
    expect(allVariants("{Hi {{first_name}}|Hello {{city|friend}}}")).toEqual(["Hello {{city|friend}}", "Hi {{first_name}}"]);
    expect(allVariants("{{a|b}|c}")).toEqual(["a", "b", "c"]); // a group nested at the start of a group
  });

  it("braces without a bar stay ordinary text; escapes write the character", () => {
    expect(allVariants("Use {braces} and {Name} and {}")).toEqual(["Use {braces} and {Name} and {}"]);
    expect(allVariants("{Hi {you}|Yo}")).toEqual(["Hi {you}", "Yo"]);
    expect(allVariants("a \\| b \\{c\\} \\\\ d")).toEqual(["a | b {c} \\ d"]);
    expect(allVariants("{x\\|y|z}")).toEqual(["x|y", "z"]);
  });

  it("refuses unbalanced {, stray } and | outside a group, naming the 1-based position", () => {
    const problem = (body: string) => {
      const parsed = parseSpintax(body);
      return parsed.ok ? null : parsed.problem;
    };
    expect(problem("Hi {there|you")).toMatchObject({ position: 4, message: expect.stringContaining("position 4 is never closed") });
    expect(problem("{a|{b|c}")).toMatchObject({ position: 1 });
    expect(problem("Hi} you")).toMatchObject({ position: 3, message: expect.stringContaining("} at position 3 closes nothing") });
    expect(problem("yes | no")).toMatchObject({ position: 5, message: expect.stringMatching(/\| at position 5 is outside.*\{Hi\|Hello\}/) });
    expect(problem("Hi {{first_name")).toMatchObject({ position: 4, message: expect.stringContaining("placeholder {{ at position 4 is not closed") });
    expect(problem("Hi {{first_name}, welcome")).toMatchObject({ position: 4, message: expect.stringContaining("placeholder {{") });
    expect(problem("{Hi|Hello} {{first_name|there}}")).toBeNull();
  });

  it("counts the texts the choices make, capped; samples are distinct variants", () => {
    expect(countVariants(parts("plain text"))).toBe(1);
    expect(countVariants(parts("{a|b} {c|d|e}"))).toBe(6);
    expect(countVariants(parts("{a|b {c|d}}"))).toBe(3);
    expect(countVariants(parts("{a|b}".repeat(30)), 1000)).toBe(1000);
    const samples = sampleVariants(parts("{a|b} {c|d|e}"), 4);
    expect(samples).toHaveLength(4);
    expect(new Set(samples).size).toBe(4);
    expect(sampleVariants(parts("{a|b}"), 5).sort()).toEqual(["a", "b"]);
  });
});

describe("message text rules (templates and campaign texts)", () => {
  it("a blank text, or one with a blank variant, is refused", () => {
    expect(findMessageTextProblem("   \n\t ")).toMatchObject({ message: expect.stringContaining("The message is empty") });
    expect(findMessageTextProblem("{ | }")).toMatchObject({ position: 1, message: expect.stringContaining("A variant of this message is empty") });
    expect(findMessageTextProblem(" {Hi|} ")).toMatchObject({ position: 2 });
    expect(findMessageTextProblem("{Hi|} there")).toBeNull();
    expect(findMessageTextProblem("{{first_name}}")).toBeNull();
  });

  it("an unclosed placeholder is refused with its position", () => {
    expect(findMessageTextProblem("Hi {{first_name")).toEqual({ position: 4, message: expect.stringContaining("position 4") });
  });
});

describe("CompiledMessage: the text one recipient gets", () => {
  it("chooses the variant from the recipient, then fills the placeholders: the same recipient always gets the same text", () => {
    const message = new CompiledMessage("{Hi|Hello|Hey} {{first_name|there}}, {see you|bye} in {{city|town}}");
    const first = message.render(ana, { recipientKey: "contact-1" });
    for (let i = 0; i < 5; i++) expect(new CompiledMessage(message.body).render(ana, { recipientKey: "contact-1" })).toBe(first);
    expect(first).toMatch(/^(Hi|Hello|Hey) Ana, (see you|bye) in Lisbon$/);
    const texts = new Set(Array.from({ length: 200 }, (_, i) => message.render(nameless, { recipientKey: `contact-${i}` })));
    expect(texts.size).toBe(6);
    for (const text of texts) expect(text).toMatch(/^(Hi|Hello|Hey) there, (see you|bye) in town$/);
  });

  it("a contact's own data is never read as spintax", () => {
    const odd = { phone: "+4915112345678", firstName: "{A|B}", attributes: {} };
    expect(new CompiledMessage("{Hi|Hi} {{first_name}}").render(odd, { recipientKey: "x" })).toBe("Hi {A|B}");
  });

  it("a text saved before the rules that does not parse is sent as written", () => {
    expect(new CompiledMessage("Prices: 10 | 20 {{first_name}}").render(ana, { recipientKey: "x" })).toBe("Prices: 10 | 20 Ana");
  });

  it("samples and counts for the preview", () => {
    const message = new CompiledMessage("{Hi|Hello} {{first_name}}");
    expect(message.hasSpintax()).toBe(true);
    expect(message.variantCount()).toBe(2);
    expect(message.samples(ana, 5).sort()).toEqual(["Hello Ana", "Hi Ana"]);
    expect(new CompiledMessage("Hi {Name}").hasSpintax()).toBe(false);
  });
});
