/**
 * Template placeholders (shared/DESIGN.md §1.4):
 * - `{{first_name}}`, `{{phone}}`, `{{name}}` and any imported contact column, e.g. `{{city}}`;
 * - a fallback after a bar, used when the value is missing or empty: `{{first_name|there}}`.
 * That is the one syntax (issue 16): the seed's `{Name}` and the campaign's "default name" it fell back
 * to are gone (migration 0011 rewrote saved texts to `{{first_name|<default>}}`); a new text writing
 * `{Name}` is refused, saying what to write instead. Other single-brace text (`{like this}`) is
 * ordinary text: WhatsApp messages contain braces.
 * A template is checked when it is saved (`findUnknownPlaceholders`, `findMessageTextProblem`), so a
 * campaign never discovers a bad placeholder halfway through a list.
 * Spintax (`{Hi|Hello}`, spintax.ts) is chosen first, per recipient, then the placeholders are filled:
 * a contact's own data is never read as spintax.
 */
import { type SpintaxPart, type SpintaxProblem, canBeBlank, countVariants, hasGroups, parseSpintax, renderSpintax, sampleVariants, seedFrom, seededRandom } from "./spintax";

export type MessageTextProblem = SpintaxProblem;

export interface Placeholder {
  /** As written, trimmed: `first_name`, `City`, `Name`. */
  name: string;
  /** Text after the bar, trimmed; null when there is no bar. */
  fallback: string | null;
  /** The exact text matched, braces included. */
  raw: string;
}

export interface PersonalizationContact {
  phone: string;
  firstName: string | null;
  attributes: Record<string, string>;
}

/** `{{ name }}` or `{{ name | fallback }}`. */
const PLACEHOLDER = /\{\{\s*([^{}|]+?)\s*(?:\|([^{}]*))?\}\}/g;
/** The seed's `{Name}` (not part of a `{{ }}`): no longer a placeholder, and refused in a new text. */
const OLD_NAME_PLACEHOLDER = /(?<!\{)\{\s*name\s*\}(?!\})/i;

/** Placeholders that every contact has, whatever was imported. Compared case-insensitively. */
const BUILT_INS = new Set(["first_name", "firstname", "name", "phone"]);

export function extractPlaceholders(body: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const raw = match[0];
    const name = (match[1] ?? "").trim();
    if (name.length === 0) continue;
    found.push({ name, fallback: match[2] === undefined ? null : match[2].trim(), raw });
  }
  return found;
}

/**
 * Placeholder names the template uses that no contact can fill: not a built-in, not a known attribute,
 * and without a fallback. Each name once, in order of first use. Attribute names match case-insensitively.
 */
export function findUnknownPlaceholders(body: string, knownAttributes: Iterable<string>): string[] {
  const known = new Set<string>();
  for (const attribute of knownAttributes) known.add(attribute.trim().toLowerCase());
  const unknown: string[] = [];
  const reported = new Set<string>();
  for (const placeholder of extractPlaceholders(body)) {
    if (placeholder.fallback !== null) continue;
    const key = placeholder.name.toLowerCase();
    if (BUILT_INS.has(key) || known.has(key) || reported.has(key)) continue;
    reported.add(key);
    unknown.push(placeholder.name);
  }
  return unknown;
}

/**
 * The text one contact receives. A missing or empty value takes the placeholder's fallback; without
 * one, it becomes empty.
 */
export function renderTemplate(body: string, contact: PersonalizationContact): string {
  const lowerAttributes = new Map<string, string>();
  for (const [key, value] of Object.entries(contact.attributes)) {
    const lower = key.trim().toLowerCase();
    if (!lowerAttributes.has(lower)) lowerAttributes.set(lower, value);
  }
  // Own keys only: `{{constructor}}` must not find Object's constructor on a contact without one.
  const attribute = (name: string): string | undefined =>
    (Object.hasOwn(contact.attributes, name) ? contact.attributes[name] : undefined) ?? lowerAttributes.get(name.toLowerCase());

  const renderOne = (placeholder: Placeholder): string => {
    const key = placeholder.name.toLowerCase();
    let value: string | undefined | null;
    if (key === "first_name" || key === "firstname" || key === "name") {
      // An imported column called "name" is the contact's name too, when first_name is empty.
      value = nonEmpty(contact.firstName) ?? nonEmpty(attribute(placeholder.name));
    } else if (key === "phone") {
      value = contact.phone;
    } else {
      value = attribute(placeholder.name);
    }
    const present = nonEmpty(value);
    if (present !== undefined) return present;
    if (placeholder.fallback !== null) return placeholder.fallback;
    return "";
  };

  return body.replace(PLACEHOLDER, (raw: string, double: string | undefined, fallback: string | undefined) => {
    const name = (double ?? "").trim();
    if (name.length === 0) return raw;
    return renderOne({ name, fallback: fallback === undefined ? null : fallback.trim(), raw });
  });
}

function nonEmpty(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  return value.trim().length > 0 ? value : undefined;
}

/**
 * Why a message text cannot be saved, or null: blank (only spaces), an unclosed `{{`, unbalanced
 * spintax, or spintax of which a variant is blank. The message names the position to fix.
 */
export function findMessageTextProblem(body: string): MessageTextProblem | null {
  if (body.trim().length === 0) return { position: 1, message: "The message is empty: write some text (spaces alone are not a message)" };
  const oldName = OLD_NAME_PLACEHOLDER.exec(body);
  if (oldName) {
    return {
      position: oldName.index + 1,
      message: `Write {{first_name|friend}} instead of ${oldName[0]} (the text after the bar is what a contact without a first name gets)`,
    };
  }
  const parsed = parseSpintax(body);
  if (!parsed.ok) return parsed.problem;
  if (canBeBlank(parsed.parts)) {
    const group = parsed.parts.find((part) => part.kind === "group");
    return {
      position: group?.kind === "group" ? group.position : 1,
      message: `A variant of this message is empty: give every choice of the {…|…} group at position ${group?.kind === "group" ? group.position : 1} some text`,
    };
  }
  return null;
}

/** The variant seed of one recipient: the same contact and text always give the same variant (a resend or a preview too). */
export function variantSeed(body: string, recipientKey: string): number {
  return variantSeedFrom(seedFrom(body), recipientKey);
}

function variantSeedFrom(bodyHash: number, recipientKey: string): number {
  return seedFrom(`\n${recipientKey}`, bodyHash);
}

/**
 * A message text made ready to personalise many times (parsed once). A text saved before the
 * spintax rules that does not parse is sent as written, braces and all, as it was then.
 */
export class CompiledMessage {
  private readonly parts: SpintaxPart[] | null;
  /** The text with its escapes resolved when it has no groups (then no recipient needs a seed). */
  private readonly fixedText: string | null;
  /** The body hashed once: a recipient's seed continues from it (a million recipients, one pass over the body). */
  private readonly bodyHash: number;

  constructor(readonly body: string) {
    const parsed = parseSpintax(body);
    this.parts = parsed.ok ? parsed.parts : null;
    this.fixedText = this.parts === null ? body : hasGroups(this.parts) ? null : renderSpintax(this.parts, () => 0);
    this.bodyHash = seedFrom(body);
  }

  /** The text one recipient gets: its spintax variant (from `recipientKey`), then its placeholders. */
  render(contact: PersonalizationContact, options: { recipientKey: string }): string {
    const chosen = this.fixedText ?? renderSpintax(this.parts!, seededRandom(variantSeedFrom(this.bodyHash, options.recipientKey)));
    return renderTemplate(chosen, contact);
  }

  /** How many texts the spintax alone can make (1 without groups), up to `cap`. */
  variantCount(cap = 1_000_000): number {
    return this.parts ? countVariants(this.parts, cap) : 1;
  }

  hasSpintax(): boolean {
    return this.parts !== null && hasGroups(this.parts);
  }

  /** Up to `limit` different variants for one contact, placeholders filled. */
  samples(contact: PersonalizationContact, limit: number): string[] {
    if (!this.parts) return [renderTemplate(this.body, contact)];
    return sampleVariants(this.parts, limit).map((variant) => renderTemplate(variant, contact));
  }
}
