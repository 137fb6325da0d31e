/**
 * Opt-out keywords (issue 14): a reply that is exactly one of them, ignoring case, accents, surrounding
 * spaces and trailing punctuation ("Stop!", "arret", " BAJA. "), opts its sender out of the workspace.
 * The whole message must match: "don't stop" or "stop by tomorrow?" is a reply, not an opt-out.
 */

/**
 * Used when a workspace sets none. STOP-style words of the languages campaigns here go out in:
 * English (STOP, UNSUBSCRIBE, STOPALL, CANCEL, END, QUIT, as US carrier rules for SMS treat them),
 * Indonesian/Malay (BERHENTI), Portuguese (PARAR, SAIR, CANCELAR), Spanish (BAJA, ALTO, CANCELAR),
 * German (STOPP, ABMELDEN), French (ARRÊT, DÉSABONNER), Italian (BASTA, DISISCRIVI), Dutch (AFMELDEN).
 */
export const DEFAULT_OPT_OUT_KEYWORDS: readonly string[] = Object.freeze([
  "STOP",
  "STOPALL",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "BERHENTI",
  "PARAR",
  "SAIR",
  "CANCELAR",
  "BAJA",
  "ALTO",
  "STOPP",
  "ABMELDEN",
  "ARRÊT",
  "DÉSABONNER",
  "BASTA",
  "DISISCRIVI",
  "AFMELDEN",
]);

/** At most this many keywords per workspace, each at most this long: they are words, not messages. */
export const MAX_OPT_OUT_KEYWORDS = 50;
export const MAX_OPT_OUT_KEYWORD_LENGTH = 40;

/** Upper case, accents removed (NFD, marks dropped), spaces collapsed, trailing punctuation and spaces cut. */
export function normaliseForOptOut(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toUpperCase()
    .replace(/\s+/gu, " ")
    .trim()
    .replace(/[\p{P}\p{S}\s]+$/u, "")
    .replace(/^[\p{P}\p{S}\s]+/u, "");
}

/** The keyword `text` is (as the workspace wrote it), or null when the message is not an opt-out. */
export function matchOptOutKeyword(text: string, keywords: readonly string[] | null | undefined): string | null {
  const message = normaliseForOptOut(text);
  if (!message) return null;
  for (const keyword of keywords ?? DEFAULT_OPT_OUT_KEYWORDS) {
    if (normaliseForOptOut(keyword) === message) return keyword;
  }
  return null;
}
