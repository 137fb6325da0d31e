import { describe, expect, it } from "vitest";
import { DEFAULT_OPT_OUT_KEYWORDS, matchOptOutKeyword, normaliseForOptOut } from "~/server/services/optOut/keywords";
import { phoneOfChat } from "~/server/services/replies/inboundMessages";

describe("opt-out keywords", () => {
  it("match the whole message, whatever the case, accents, spaces and trailing punctuation", () => {
    for (const text of ["stop", "Stop!", " STOP. ", "stop!!!", "Stop 🛑", "ARRÊT", "arret", "Arrêt !", "baja", "BERHENTI", "Parar", "sair", "Stopp", "unsubscribe", "¡Baja!", "désabonner"]) {
      expect(matchOptOutKeyword(text, null), text).not.toBeNull();
    }
  });

  it("a message that only contains a keyword is a reply, not an opt-out", () => {
    for (const text of ["please stop", "don't stop", "stop by tomorrow?", "STOP STOP", "stopped", "", "   ", "!!!", "Thanks!"]) {
      expect(matchOptOutKeyword(text, null), text).toBeNull();
    }
  });

  it("a workspace's own keywords replace the defaults, and say which one matched", () => {
    expect(matchOptOutKeyword("não quero!", ["Pare", "Não quero"])).toBe("Não quero");
    expect(matchOptOutKeyword("STOP", ["Pare"])).toBeNull();
    expect(DEFAULT_OPT_OUT_KEYWORDS).toEqual(expect.arrayContaining(["STOP", "UNSUBSCRIBE", "BERHENTI", "PARAR", "SAIR", "BAJA", "ALTO", "STOPP", "ARRÊT"]));
    expect(normaliseForOptOut("  Ça   suffit ! ")).toBe("CA SUFFIT");
  });

  it("only one-to-one chats with a phone have a phone", () => {
    expect(phoneOfChat("491511234567@c.us")).toBe("+491511234567");
    expect(phoneOfChat("491511234567@s.whatsapp.net")).toBe("+491511234567");
    expect(phoneOfChat("120363000000000001@g.us")).toBeNull();
    expect(phoneOfChat("status@broadcast")).toBeNull();
    expect(phoneOfChat("123456789012345@lid")).toBeNull();
    expect(phoneOfChat("120363000000000001@newsletter")).toBeNull();
  });
});
