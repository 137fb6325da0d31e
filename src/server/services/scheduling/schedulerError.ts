export type SchedulerErrorCode = "NOT_IN_FUTURE" | "INVALID_DATE" | "MISCONFIGURED" | "NOT_INITIALIZED" | "STOPPED";

/** A refusal the caller can act on; `NOT_IN_FUTURE` and `INVALID_DATE` concern the `scheduledAt` field. */
export class SchedulerError extends Error {
  constructor(
    message: string,
    public readonly code: SchedulerErrorCode,
  ) {
    super(message);
    this.name = "SchedulerError";
  }
}
