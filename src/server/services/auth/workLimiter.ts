/**
 * At most `concurrency` jobs at once, at most `maxQueued` waiting; beyond that a job is refused at
 * once (503 with Retry-After) instead of queueing without bound. Password hashing goes through one of
 * these: scrypt runs on libuv's small thread pool and on the machine's few cores, so a burst of log-ins
 * must wait its turn rather than starve every other request.
 */
import { AppError } from "../errors";

export class WorkLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** The most jobs seen running at once, and jobs started (tests and measurements read them). */
  maxObservedRunning = 0;
  jobsStarted = 0;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {
    if (concurrency < 1) throw new Error("WorkLimiter: concurrency must be at least 1");
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) {
        throw new AppError("UNAVAILABLE", "Too many log-ins at once: try again in a few seconds", undefined, {
          retryAfterSeconds: 2,
        });
      }
      // The job that finishes hands its place over (running is not decremented in between).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    this.maxObservedRunning = Math.max(this.maxObservedRunning, this.running);
    this.jobsStarted++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
