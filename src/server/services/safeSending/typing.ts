/**
 * How long the number "types" before a send when its policy has `typing` on. A person types a few
 * characters a second; the time grows with the text but stays bounded so a long text does not hold
 * the number for a minute, and a one-word text still shows the indicator long enough to be seen.
 */
export const TYPING_MS_PER_CHARACTER = 50;
export const TYPING_MIN_MS = 1_000;
export const TYPING_MAX_MS = 8_000;

export function typingDurationMs(text: string): number {
  const characters = [...text].length;
  return Math.min(TYPING_MAX_MS, Math.max(TYPING_MIN_MS, characters * TYPING_MS_PER_CHARACTER));
}

/**
 * The typing counts inside the delay between two sends (it is not added to it): of a `delayMs` gap,
 * `idleMs` passes first, then `typingMs` of typing, then the send. A delay shorter than the typing
 * time types for the whole delay.
 */
export function splitDelayForTyping(delayMs: number, text: string): { idleMs: number; typingMs: number } {
  const typingMs = Math.min(typingDurationMs(text), Math.max(0, delayMs));
  return { idleMs: Math.max(0, delayMs - typingMs), typingMs };
}
