"use client";

import { useCallback, useState } from "react";
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
}: {
  pager: ReturnType<typeof useCursorPager>;
  nextCursor: string | null | undefined;
  label?: string;
}) {
  if (pager.page === 1 && !nextCursor) return null;
  return (
    <nav aria-label={label} className="mt-3 flex items-center justify-between gap-2 text-sm">
      <Button variant="secondary" size="sm" disabled={pager.page === 1} onClick={pager.previous}>
        ← Previous
      </Button>
      <span className="text-slate-500">Page {pager.page}</span>
      <Button variant="secondary" size="sm" disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)}>
        Next →
      </Button>
    </nav>
  );
}
