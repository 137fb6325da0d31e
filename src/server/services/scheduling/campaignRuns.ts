import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { CampaignRunnerService, type CampaignRunnerOptions, type RunOutcome } from "../runner/campaignRunner";
import type { WahaApiClient } from "../waha/client";
import type { CampaignJobReason } from "./pgBossDriver";

export type { RunOutcome } from "../runner/campaignRunner";

/**
 * The campaign runs this process started, whatever started them (a timer, a job, the sweep, a
 * click): all through one CampaignRunnerService, logged, and tracked so that stop() can wait. One
 * service, so that it renews all their leases in one statement and re-reads all their numbers' rules
 * in another (runner/leaseRenewal.ts, runner/numberStates.ts); a service per run made each of those a
 * statement per running campaign every 10 s (the fleet bench: 0.34 statements per message).
 */
export class CampaignRuns {
  /** The latest run of each campaign, and every run. */
  private readonly latest = new Map<string, Promise<RunOutcome | null>>();
  private readonly all = new Set<Promise<RunOutcome | null>>();
  private closed = false;
  private readonly runner: CampaignRunnerService;

  constructor(
    db: Db,
    wahaApiClient: WahaApiClient,
    runnerOptions: CampaignRunnerOptions | undefined,
    private readonly logger: Logger,
  ) {
    this.runner = new CampaignRunnerService(db, wahaApiClient, runnerOptions);
  }

  /**
   * Runs the campaign in the background; resolves with the runner's outcome (null when it threw, or
   * when closed). A campaign already running here is not started twice (except to resume); across
   * processes the runner's claim decides.
   */
  start(campaignId: string, reason: CampaignJobReason, options: { resume?: boolean } = {}): Promise<RunOutcome | null> {
    if (this.closed) {
      this.logger.warn({ campaignId, reason }, "scheduler is stopping; campaign not started here");
      return Promise.resolve(null);
    }
    const running = this.latest.get(campaignId);
    if (running && !options.resume) return running;
    const run = this.run(campaignId, reason, options);
    this.latest.set(campaignId, run);
    this.all.add(run);
    void run.finally(() => {
      this.all.delete(run);
      if (this.latest.get(campaignId) === run) this.latest.delete(campaignId);
    });
    return run;
  }

  isRunning(campaignId: string): boolean {
    return this.latest.has(campaignId);
  }

  /** From now on start() starts nothing. */
  stopStarting(): void {
    this.closed = true;
  }

  /** Starts nothing more; waits up to `timeoutMs` for the runs in progress. False if some are still going. */
  async close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    if (this.all.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.allSettled([...this.all]).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      this.logger.warn(
        { campaignIds: [...this.latest.keys()] },
        "stopped with campaigns still running; their leases expire and another process takes them over",
      );
    }
    return finished;
  }

  /** One run through the runner; never throws (the error is logged). */
  private async run(campaignId: string, reason: CampaignJobReason, options: { resume?: boolean }): Promise<RunOutcome | null> {
    const log = this.logger.child({ campaignId, reason });
    const startedAt = Date.now();
    log.info("campaign run starting");
    try {
      const outcome = options.resume ? await this.runner.runCampaign(campaignId, { resume: true }) : await this.runner.runCampaign(campaignId);
      const durationMs = Date.now() - startedAt;
      if (outcome.claimed) log.info({ status: outcome.status, durationMs }, "campaign run ended");
      else log.info({ status: outcome.status, durationMs }, "campaign not claimed: it runs elsewhere, or is not due");
      return outcome;
    } catch (error) {
      log.error({ err: error, durationMs: Date.now() - startedAt }, "campaign run failed");
      return null;
    }
  }
}
