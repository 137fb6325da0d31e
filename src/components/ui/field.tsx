import { cloneElement, type ComponentPropsWithRef, isValidElement, type ReactElement, type ReactNode, useId } from "react";

const control =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:border-emerald-600 focus:outline-none focus:ring-2 focus:ring-emerald-600/20 disabled:bg-slate-100";

/** Controls a label can name by id; anything else (a picker, several inputs) stays wrapped by its label. */
function isPlainControl(node: ReactNode): node is ReactElement<{ id?: string; "aria-describedby"?: string }> {
  return isValidElement(node) && (["input", "select", "textarea"].includes(node.type as string) || node.type === Input || node.type === Select || node.type === Textarea);
}

/**
 * A label and its control; hint and error below it. The label names a plain control by `htmlFor`
 * rather than wrapping it: a label wrapping a select makes screen readers read every option as the label.
 */
export function Field({ label, hint, error, children, className = "" }: { label: ReactNode; hint?: ReactNode; error?: string | null; children: ReactNode; className?: string }) {
  const generatedId = useId();
  if (!isPlainControl(children)) {
    return (
      <div className={className}>
        <label className="block text-sm font-medium text-slate-700">
          {label}
          {children}
        </label>
        {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
        {error ? <p className="mt-1 text-xs text-red-700">{error}</p> : null}
      </div>
    );
  }
  const id = children.props.id ?? generatedId;
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {cloneElement(children, { id, "aria-describedby": children.props["aria-describedby"] ?? hintId })}
      {hint ? (
        <p id={hintId} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      {error ? <p className="mt-1 text-xs text-red-700">{error}</p> : null}
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
