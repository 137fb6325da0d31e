/**
 * Nesting depth of JSON text, counted before it is parsed: JSON.parse copes with 5,000 levels, but
 * whatever walks the value afterwards (superjson, zod, the NUL check) recurses and overflows the stack.
 * One pass over the characters, brackets inside strings not counted; the text need not be valid JSON.
 */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

export function tooDeepMessage(maxDepth: number): string {
  return `The JSON input is nested more than ${maxDepth} levels deep: send a flatter value`;
}
