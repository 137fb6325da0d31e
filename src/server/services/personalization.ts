/**
 * Template placeholders (shared/DESIGN.md §1.4):
 * - `{{first_name}}`, `{{phone}}`, `{{name}}` and any imported contact column, e.g. `{{city}}`;
 * - a fallback after a bar, used when the value is missing or empty: `{{first_name|there}}`;
 * - the seed project's `{Name}` (single braces, the word "name" in any case), which falls back to the
 *   campaign's default name.
 * Other single-brace text (`{like this}`) is ordinary text: WhatsApp messages contain braces.
 * A template is checked when it is saved (`findUnknownPlaceholders`), so a campaign never discovers a
 * bad placeholder halfway through a list.
 */

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

/** `{{ name }}` or `{{ name | fallback }}`; or the seed's `{Name}` (not part of a `{{ }}`). */
const PLACEHOLDER = /\{\{\s*([^{}|]+?)\s*(?:\|([^{}]*))?\}\}|(?<!\{)\{\s*(name)\s*\}(?!\})/gi;

/** Placeholders that every contact has, whatever was imported. Compared case-insensitively. */
const BUILT_INS = new Set(["first_name", "firstname", "name", "phone"]);

export function extractPlaceholders(body: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const raw = match[0];
    if (match[3] !== undefined) {
      found.push({ name: match[3], fallback: null, raw });
    } else {
      const name = (match[1] ?? "").trim();
      if (name.length === 0) continue;
      found.push({ name, fallback: match[2] === undefined ? null : match[2].trim(), raw });
    }
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
 * one, a name takes the campaign's `defaultName`, anything else becomes empty.
 */
export function renderTemplate(
  body: string,
  contact: PersonalizationContact,
  options: { defaultName?: string | null } = {},
): string {
  const lowerAttributes = new Map<string, string>();
  for (const [key, value] of Object.entries(contact.attributes)) {
    const lower = key.trim().toLowerCase();
    if (!lowerAttributes.has(lower)) lowerAttributes.set(lower, value);
  }
  const attribute = (name: string): string | undefined => contact.attributes[name] ?? lowerAttributes.get(name.toLowerCase());

  const renderOne = (placeholder: Placeholder): string => {
    const key = placeholder.name.toLowerCase();
    let value: string | undefined | null;
    let isName = false;
    if (key === "first_name" || key === "firstname" || key === "name") {
      isName = true;
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
    if (isName) return options.defaultName ?? "";
    return "";
  };

  return body.replace(PLACEHOLDER, (raw: string, double: string | undefined, fallback: string | undefined, single: string | undefined) => {
    if (single !== undefined) return renderOne({ name: single, fallback: null, raw });
    const name = (double ?? "").trim();
    if (name.length === 0) return raw;
    return renderOne({ name, fallback: fallback === undefined ? null : fallback.trim(), raw });
  });
}

function nonEmpty(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  return value.trim().length > 0 ? value : undefined;
}
