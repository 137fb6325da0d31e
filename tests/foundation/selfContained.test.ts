/**
 * A user's clone has nothing beside it: no file of the project may reach outside the repository
 * for the design folder that sits beside the developers' checkout (issue 10). Test data lives in
 * tests/fixtures/.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "../..");
// Spelled in two pieces so that this file does not match itself.
const outsidePath = [".." , "shared"].join("/");
const guardedFolders = ["src", "tests", "bench", "scripts", "tools"];

function trackedFiles(): string[] {
  const output = execFileSync("git", ["ls-files", "-z", "--", ...guardedFolders], { cwd: repoRoot, encoding: "utf8" });
  return output.split("\0").filter(Boolean);
}

describe("the repository is self-contained", () => {
  it(`no tracked file under ${guardedFolders.join(", ")} refers to ${outsidePath}`, () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((file) => readFileSync(path.join(repoRoot, file), "utf8").includes(outsidePath));
    expect(offenders).toEqual([]);
  });

  it("keeps the fixtures the tests read", () => {
    const files = trackedFiles();
    for (const name of ["contacts-clean.csv", "contacts-messy.csv", "waha-openapi.json", "README.md"]) {
      expect(files).toContain(`tests/fixtures/${name}`);
    }
  });
});
