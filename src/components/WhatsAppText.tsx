/**
 * Shows message text as WhatsApp does: *bold*, _italic_, ~strike~, ```monospace``` and `inline code`.
 * Builds React elements from plain strings: user text is never interpreted as HTML.
 */
import type { ReactNode } from "react";

type Marker = "*" | "_" | "~";
const MARKERS: Record<Marker, (children: ReactNode, key: string) => ReactNode> = {
  "*": (children, key) => <strong key={key}>{children}</strong>,
  _: (children, key) => <em key={key}>{children}</em>,
  "~": (children, key) => <s key={key}>{children}</s>,
};

const wordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char);
const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);

/** Index of the marker that closes the one opened at `open`, or -1. Formatting does not cross lines. */
function findClose(text: string, open: number, marker: string): number {
  for (let j = open + 2; j < text.length; j++) {
    const char = text[j];
    if (char === "\n") return -1;
    if (char === marker && !isSpace(text[j - 1]) && !wordChar(text[j + 1])) return j;
  }
  return -1;
}

function formatInline(text: string, keyPrefix: string): ReactNode[] {
  const out: ReactNode[] = [];
  let plain = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === "`" && text[i + 1] !== "`") {
      const close = text.indexOf("`", i + 1);
      if (close > i + 1 && !text.slice(i + 1, close).includes("\n")) {
        if (plain) out.push(plain);
        plain = "";
        out.push(
          <code key={`${keyPrefix}c${i}`} className="rounded bg-black/5 px-1 font-mono text-[0.9em]">
            {text.slice(i + 1, close)}
          </code>,
        );
        i = close + 1;
        continue;
      }
    }
    if (char in MARKERS && !wordChar(text[i - 1]) && text[i + 1] !== undefined && !isSpace(text[i + 1]) && text[i + 1] !== char) {
      const close = findClose(text, i, char);
      if (close > 0) {
        if (plain) out.push(plain);
        plain = "";
        const key = `${keyPrefix}${char}${i}`;
        out.push(MARKERS[char as Marker](formatInline(text.slice(i + 1, close), `${key}-`), key));
        i = close + 1;
        continue;
      }
    }
    plain += char;
    i++;
  }
  if (plain) out.push(plain);
  return out;
}

export function formatWhatsApp(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  const mono = /```([\s\S]+?)```/g;
  let last = 0;
  for (const match of text.matchAll(mono)) {
    const start = match.index ?? 0;
    out.push(...formatInline(text.slice(last, start), `t${last}-`));
    out.push(
      <code key={`m${start}`} className="font-mono text-[0.9em]">
        {match[1]}
      </code>,
    );
    last = start + match[0].length;
  }
  out.push(...formatInline(text.slice(last), `t${last}-`));
  return out;
}

/** A chat bubble with the formatted text. */
export function WhatsAppBubble({ text, imageUrl, testId }: { text: string; imageUrl?: string | null; testId?: string }) {
  return (
    <div className="rounded-lg bg-[#e5ddd5] p-3">
      <div
        data-testid={testId}
        className="ml-auto max-w-[85%] rounded-lg rounded-tr-none bg-[#dcf8c6] px-3 py-2 text-[15px] leading-snug text-slate-900 shadow-sm"
      >
        {imageUrl ? (
          <img src={imageUrl} alt="Attached image" className="mb-2 max-h-48 w-full rounded object-cover" />
        ) : null}
        <p className="whitespace-pre-wrap break-words">{text ? formatWhatsApp(text) : <span className="text-slate-500">(empty message)</span>}</p>
      </div>
    </div>
  );
}
