import { describe, expect, it } from "vitest";
import { WahaError, fromChatId, isSerializedMessageId, toChatId, toSerializedMessageId } from "~/server/services/waha/client";

describe("toChatId", () => {
  it("turns an E.164 number into WAHA's <digits>@c.us", () => {
    expect(toChatId("+14155550123")).toBe("14155550123@c.us");
    expect(toChatId("+49 151 1234-5678")).toBe("4915112345678@c.us");
    expect(toChatId("14155550123")).toBe("14155550123@c.us");
  });

  it("leaves a chat id unchanged", () => {
    expect(toChatId("14155550123@c.us")).toBe("14155550123@c.us");
  });

  it.each(["", "hello", "+0123456789", "+1234", "+1234567890123456", "1415@g.us"])("refuses %j with an invalid_request WahaError", (input) => {
    let caught: unknown;
    try {
      toChatId(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WahaError);
    expect((caught as WahaError).kind).toBe("invalid_request");
  });
});

describe("fromChatId", () => {
  it("reads the phone back from phone chats only", () => {
    expect(fromChatId("14155550123@c.us")).toBe("+14155550123");
    expect(fromChatId("14155550123@s.whatsapp.net")).toBe("+14155550123");
    expect(fromChatId("120363000000000000@g.us")).toBeNull();
    expect(fromChatId("123123@lid")).toBeNull();
  });
});

describe("serialized message ids", () => {
  it("builds true_<chat>_<id> from a raw id and keeps a serialized one", () => {
    expect(toSerializedMessageId("14155550123@c.us", "3EB0ABC")).toBe("true_14155550123@c.us_3EB0ABC");
    expect(toSerializedMessageId("14155550123@c.us", "false_14155550123@c.us_XYZ")).toBe("false_14155550123@c.us_XYZ");
    expect(isSerializedMessageId("true_14155550123@c.us_3EB0ABC")).toBe(true);
    expect(isSerializedMessageId("3EB0ABC")).toBe(false);
  });
});
