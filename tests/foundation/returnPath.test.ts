/** The log-in page's `?next=`: back to the page whose session ended, never to another site (issue 16). */
import { describe, expect, it } from "vitest";
import { logInPathReturningTo, safeReturnPath } from "~/components/returnPath";

describe("the return path after log-in", () => {
  it("keeps a path on this site, with its query and hash", () => {
    expect(safeReturnPath("/campaigns/5b0c?tab=recipients#r2", "https://wc.example")).toBe("/campaigns/5b0c?tab=recipients#r2");
    expect(safeReturnPath(decodeURIComponent(logInPathReturningTo({ pathname: "/contacts/1", search: "?page=2" }).slice("/?next=".length)))).toBe(
      "/contacts/1?page=2",
    );
  });

  it("falls back to the overview for anything that leaves the site or loops", () => {
    for (const next of [null, "", "overview", "//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/"]) {
      expect(safeReturnPath(next, "https://wc.example")).toBe("/overview");
    }
  });

  it("the log-in page itself needs no return path", () => {
    expect(logInPathReturningTo({ pathname: "/", search: "" })).toBe("/");
    expect(logInPathReturningTo({ pathname: "/campaigns/abc", search: "" })).toBe("/?next=%2Fcampaigns%2Fabc");
  });
});
