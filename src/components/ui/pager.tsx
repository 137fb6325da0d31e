"use client";

import { useCallback, useState } from "react";
import { formatNumber, plural } from "../format";
import { Button } from "./button";

/**
 * Keyset pagination as the API offers it (a `nextCursor` per page): remembers the cursors of the
 * pages seen so "Previous" works too. `reset()` returns to page 1 (e.g. when a filter changes).
 */
export function useCursorPager() {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const page = cursors.length;
  const cursor = cursors[cursors.length - 1];
  const next = useCallback((nextCursor: string) => setCursors((list) => [...list, nextCursor]), []);
  const previous = useCallback(() => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)), []);
  const reset = useCallback(() => setCursors([undefined]), []);
  return { page, cursor, next, previous, reset };
}

export function Pager({
  pager,
  nextCursor,
  label = "Pages",
  total,
  pageSize,
  noun = "item",
}: {
  pager: ReturnType<typeof useCursorPager>;
  nextCursor: string | null | undefined;
  label?: string;
  /** When the API counts the rows: "Page 2 of 4 · 90 contacts". */
  total?: number;
  pageSize?: number;
  noun?: string;
}) {
  const pages = total !== undefined && pageSize ? Math.max(1, Math.ceil(total / pageSize)) : null;
  if (pager.page === 1 && !nextCursor) return null;
  return (
    <nav aria-label={label} className="mt-3 flex items-center justify-between gap-2 text-sm">
      <Button variant="secondary" size="sm" disabled={pager.page === 1} onClick={pager.previous}>
        ← Previous
      </Button>
      <span className="text-slate-500" data-testid="pager-position">
        Page {formatNumber(pager.page)}
        {pages !== null ? ` of ${formatNumber(pages)} · ${plural(total ?? 0, noun)}` : ""}
      </span>
      <Button variant="secondary" size="sm" disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)}>
        Next →
      </Button>
    </nav>
  );
}
