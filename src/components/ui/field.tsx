import type { ComponentPropsWithRef, ReactNode } from "react";

const control =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:border-emerald-600 focus:outline-none focus:ring-2 focus:ring-emerald-600/20 disabled:bg-slate-100";

/** A label wrapping its control (so the label names it for screen readers and tests); hint and error below it. */
export function Field({ label, hint, error, children, className = "" }: { label: ReactNode; hint?: ReactNode; error?: string | null; children: ReactNode; className?: string }) {
  return (
    <div className={className}>
      <label className="block text-sm font-medium text-slate-700">
        {label}
        {children}
      </label>
      {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      {error ? (
        <p className="mt-1 text-xs text-red-700">{error}</p>
      ) : null}
    </div>
  );
}

export function Input({ className = "", ...rest }: ComponentPropsWithRef<"input">) {
  return <input className={`${control} ${className}`} {...rest} />;
}

export function Textarea({ className = "", ...rest }: ComponentPropsWithRef<"textarea">) {
  return <textarea className={`${control} ${className}`} {...rest} />;
}

export function Select({ className = "", children, ...rest }: ComponentPropsWithRef<"select">) {
  return (
    <select className={`${control} ${className}`} {...rest}>
      {children}
    </select>
  );
}
