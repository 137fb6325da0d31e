"use client";

import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { Button } from "./button";

interface ConfirmOptions {
  title: string;
  body?: ReactNode;
  confirmLabel?: string;
  /** The button that leaves things as they are: say what staying means ("Keep sending"), not "Cancel". */
  cancelLabel?: string;
  danger?: boolean;
}

type Confirm = (options: ConfirmOptions) => Promise<boolean>;
const ConfirmContext = createContext<Confirm | null>(null);

/** `await confirm({...})` resolves true when the user confirms; Escape or Cancel resolves false. */
export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [request, setRequest] = useState<(ConfirmOptions & { resolve: (ok: boolean) => void }) | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const confirm = useCallback<Confirm>((options) => new Promise((resolve) => setRequest({ ...options, resolve })), []);
  const close = useCallback(
    (ok: boolean) => {
      request?.resolve(ok);
      setRequest(null);
    },
    [request],
  );
  useEffect(() => {
    if (!request) return;
    confirmButton.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [request, close]);

  return (
    <ConfirmContext.Provider value={confirm}>
      {children}
      {request ? (
        <div className="fixed inset-0 z-40 flex items-end justify-center bg-slate-900/40 p-3 sm:items-center" onClick={() => close(false)}>
          <div
            role="dialog"
            aria-modal="true"
            aria-labelledby="confirm-title"
            data-testid="confirm-dialog"
            className="w-full max-w-md rounded-lg bg-white p-5 shadow-xl"
            onClick={(event) => event.stopPropagation()}
          >
            <h2 id="confirm-title" className="text-base font-semibold text-slate-900">
              {request.title}
            </h2>
            {request.body ? <div className="mt-2 text-sm text-slate-600">{request.body}</div> : null}
            <div className="mt-5 flex justify-end gap-2">
              <Button variant="secondary" data-testid="confirm-dismiss" onClick={() => close(false)}>
                {request.cancelLabel ?? "Cancel"}
              </Button>
              <Button
                ref={confirmButton}
                variant={request.danger ? "danger" : "primary"}
                data-testid="confirm-ok"
                onClick={() => close(true)}
              >
                {request.confirmLabel ?? "Confirm"}
              </Button>
            </div>
          </div>
        </div>
      ) : null}
    </ConfirmContext.Provider>
  );
}

export function useConfirm(): Confirm {
  const confirm = useContext(ConfirmContext);
  if (!confirm) throw new Error("useConfirm outside ConfirmProvider");
  return confirm;
}
