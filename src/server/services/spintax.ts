/**
 * Spintax: `{Hi|Hello|Hey} {{first_name}}` sends one of the choices to each recipient, nested groups
 * allowed (`{Hi|Hello {there|friend}}`). The rules:
 * - a group is `{…|…}` with at least one bar; a brace pair without a bar is ordinary text and keeps its
 *   braces (`{like this}` stays text; the old `{Name}` is refused before, by personalization.ts);
 * - `{{…}}` is a placeholder, never spintax; its bar is the fallback's (`{{first_name|there}}`);
 * - `\{`, `\}`, `\|` and `\\` write the character itself;
 * - an unclosed `{` or `{{`, a `}` that closes nothing and a `|` outside any group are refused with
 *   their position (1-based, in characters of the text).
 * The variant is chosen from a seed (the recipient), so the same recipient always gets the same text.
 * Pure functions only: the pages' preview and the runner's materialisation share them.
 */

export type SpintaxPart = { kind: "text"; text: string } | { kind: "group"; position: number; options: SpintaxPart[][] };

export interface SpintaxProblem {
  /** 1-based position of the offending character. */
  position: number;
  message: string;
}

export type SpintaxParse = { ok: true; parts: SpintaxPart[] } | { ok: false; problem: SpintaxProblem };

interface OpenGroup {
  position: number;
  options: SpintaxPart[][];
}

const ESCAPABLE = new Set(["{", "}", "|", "\\"]);

export function parseSpintax(body: string): SpintaxParse {
  const root: SpintaxPart[] = [];
  const stack: OpenGroup[] = [];
  const current = (): SpintaxPart[] => {
    const top = stack[stack.length - 1];
    return top ? top.options[top.options.length - 1]! : root;
  };
  const pushText = (text: string) => {
    const into = current();
    const last = into[into.length - 1];
    if (last?.kind === "text") last.text += text;
    else into.push({ kind: "text", text });
  };
  const problem = (index: number, message: string): SpintaxParse => ({ ok: false, problem: { position: index + 1, message } });

  let i = 0;
  while (i < body.length) {
    const char = body[i]!;
    if (char === "\\" && i + 1 < body.length && ESCAPABLE.has(body[i + 1]!)) {
      pushText(body[i + 1]!);
      i += 2;
      continue;
    }
    if (char === "{" && body[i + 1] === "{") {
      const placeholder = readPlaceholder(body, i);
      if (placeholder.kind === "placeholder") {
        pushText(placeholder.text);
        i += placeholder.text.length;
        continue;
      }
      if (placeholder.kind === "unclosed") {
        return problem(i, `The placeholder {{ at position ${i + 1} is not closed: end it with }}, like {{first_name}}`);
      }
      // `{{a|b}|c}`: a group nested at the start of a group, not a placeholder.
    }
    if (char === "{") {
      stack.push({ position: i + 1, options: [[]] });
    } else if (char === "|") {
      const top = stack[stack.length - 1];
      if (!top) {
        return problem(i, `The | at position ${i + 1} is outside any {…|…} group: put the choices in braces, like {Hi|Hello}, or write \\| for a bar`);
      }
      top.options.push([]);
    } else if (char === "}") {
      const group = stack.pop();
      if (!group) return problem(i, `The } at position ${i + 1} closes nothing: remove it, or write \\} for a brace`);
      if (group.options.length === 1) {
        // No bar: ordinary text in braces.
        pushText("{");
        for (const part of group.options[0]!) appendPart(current(), part);
        pushText("}");
      } else {
        current().push({ kind: "group", position: group.position, options: group.options });
      }
    } else {
      pushText(char);
    }
    i++;
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed) {
    return {
      ok: false,
      problem: { position: unclosed.position, message: `The { at position ${unclosed.position} is never closed: end the group with }, or write \\{ for a brace` },
    };
  }
  return { ok: true, parts: root };
}

function appendPart(into: SpintaxPart[], part: SpintaxPart): void {
  const last = into[into.length - 1];
  if (part.kind === "text" && last?.kind === "text") last.text += part.text;
  else into.push(part.kind === "text" ? { ...part } : part);
}

/**
 * At a `{{`: a placeholder up to the first `}}` with no brace inside; `unclosed` when no `}` follows
 * or it reads as a placeholder missing its end (`{{first_name}`, `{{first_name`); `group` when the
 * first brace opens a spintax group (`{{a|b}|c}`).
 */
function readPlaceholder(body: string, start: number): { kind: "placeholder"; text: string } | { kind: "unclosed" } | { kind: "group" } {
  const close = body.indexOf("}", start + 2);
  const nextOpen = body.indexOf("{", start + 2);
  if (close === -1) return { kind: "unclosed" };
  if ((nextOpen === -1 || nextOpen > close) && body[close + 1] === "}") return { kind: "placeholder", text: body.slice(start, close + 2) };
  const inside = body.slice(start + 2, close);
  if (!inside.includes("|") && !inside.includes("{")) return { kind: "unclosed" };
  return { kind: "group" };
}

/**
 * A 32-bit seed from any text (FNV-1a): the same recipient and text give the same seed everywhere.
 * `start` continues a hash (hash a long text once, then each recipient's key from there).
 */
export function seedFrom(text: string, start = 0x811c9dc5): number {
  let hash = start;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One variant: each group takes one of its options, drawn from `random`. */
export function renderSpintax(parts: SpintaxPart[], random: () => number): string {
  let out = "";
  for (const part of parts) {
    if (part.kind === "text") out += part.text;
    else out += renderSpintax(part.options[Math.min(part.options.length - 1, Math.floor(random() * part.options.length))]!, random);
  }
  return out;
}

/** How many texts the choices can make (before placeholders), up to `cap`: `{a|b} {c|d}` makes 4. */
export function countVariants(parts: SpintaxPart[], cap = 1_000_000): number {
  let total = 1;
  for (const part of parts) {
    if (part.kind === "text") continue;
    let sum = 0;
    for (const option of part.options) {
      sum += countVariants(option, cap);
      if (sum >= cap) break;
    }
    total = Math.min(cap, total * sum);
  }
  return total;
}

/** Up to `limit` different variants, drawn from a fixed seed (stable between previews). */
export function sampleVariants(parts: SpintaxPart[], limit: number, seed = 1): string[] {
  const samples = new Set<string>();
  const wanted = Math.min(limit, countVariants(parts, limit));
  const random = seededRandom(seed);
  for (let tries = 0; samples.size < wanted && tries < limit * 20; tries++) samples.add(renderSpintax(parts, random));
  return [...samples];
}

/** Whether some variant is only whitespace (placeholders count as text): such a message may go out empty. */
export function canBeBlank(parts: SpintaxPart[]): boolean {
  return parts.every((part) => (part.kind === "text" ? part.text.trim().length === 0 : part.options.some(canBeBlank)));
}

/** True when the text has spintax groups (a preview then shows variants). */
export function hasGroups(parts: SpintaxPart[]): boolean {
  return parts.some((part) => part.kind === "group");
}
