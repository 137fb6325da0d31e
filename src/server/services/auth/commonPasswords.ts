/**
 * Passwords attackers try first are refused at sign-up: the 10,000 most common ones from leaked
 * password lists (data/common-passwords.txt; data/README.md says where it comes from). Compared
 * lower-cased, so `Password1` is as refused as `password1`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const LIST_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "data", "common-passwords.txt");

let commonPasswords: Set<string> | null = null;

/** Read once, on first use (nothing reads files at import time). */
function loadList(): Set<string> {
  commonPasswords ??= new Set(
    readFileSync(LIST_FILE, "utf8")
      .split("\n")
      .map((line) => line.trim().toLowerCase())
      .filter(Boolean),
  );
  return commonPasswords;
}

export function isCommonPassword(password: string): boolean {
  return loadList().has(password.trim().toLowerCase());
}

export function commonPasswordCount(): number {
  return loadList().size;
}
