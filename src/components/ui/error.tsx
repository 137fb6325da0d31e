/** The server's own message (it says what to fix); never a stack or raw HTML. */
export function ErrorMessage({ error, testId = "error" }: { error: { message: string } | null | undefined; testId?: string }) {
  if (!error) return null;
  return (
    <p role="alert" data-testid={testId} className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
      {error.message}
    </p>
  );
}
