/**
 * The seed plan's unit tests: node-cron, the database queries, WahaApiClient and CampaignRunnerService
 * are mocked; time is fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Db } from "~/server/db/client";
import { cronExpressionFor } from "~/server/services/scheduling/cronExpression";
import { CampaignRunnerService } from "~/server/services/runner/campaignRunner";
import { SchedulerError, SchedulerService } from "~/server/services/scheduler";
import { findCampaignSchedule, findScheduledCampaigns, findStaleRunningCampaigns } from "~/server/services/scheduling/sweep";
import { WahaApiClient } from "~/server/services/waha/client";
import { captureLogger, LEVEL } from "./fixtures/logCapture";

type Listener = (context: { date: Date }) => unknown;
interface FakeTask {
  expression: string;
  fn: (context: { date: Date }) => Promise<void>;
  options: Record<string, unknown>;
  listeners: Record<string, Listener>;
  stop: ReturnType<typeof vi.fn>;
  destroy: ReturnType<typeof vi.fn>;
  on: ReturnType<typeof vi.fn>;
}

const cron = vi.hoisted(() => {
  const tasks: FakeTask[] = [];
  const schedule = vi.fn((expression: string, fn: FakeTask["fn"], options: Record<string, unknown>) => {
    const task: FakeTask = {
      expression,
      fn,
      options,
      listeners: {},
      stop: vi.fn(),
      destroy: vi.fn(),
      on: vi.fn((event: string, listener: Listener) => {
        task.listeners[event] = listener;
      }),
    };
    tasks.push(task);
    return task;
  });
  return { tasks, schedule };
});
vi.mock("node-cron", () => ({ default: { schedule: cron.schedule }, schedule: cron.schedule }));

const runner = vi.hoisted(() => ({ runCampaign: vi.fn() }));
vi.mock("~/server/services/runner/campaignRunner", () => ({
  CampaignRunnerService: vi.fn(function () {
    return { runCampaign: runner.runCampaign };
  }),
}));

vi.mock("~/server/services/waha/client", () => ({ WahaApiClient: vi.fn(function () {}) }));

vi.mock("~/server/services/scheduling/sweep", async (importOriginal) => ({
  ...(await importOriginal<typeof import("~/server/services/scheduling/sweep")>()),
  findScheduledCampaigns: vi.fn(async () => []),
  findStaleRunningCampaigns: vi.fn(async () => []),
  findCampaignSchedule: vi.fn(async () => null),
}));
// Recurring campaigns' database steps (issue 15): every campaign here is a one-off one.
vi.mock("~/server/services/recurrence/campaignSeries", async (importOriginal) => ({
  ...(await importOriginal<typeof import("~/server/services/recurrence/campaignSeries")>()),
  onRunDue: vi.fn(async () => ({ action: "start", next: null })),
  repairSeries: vi.fn(async () => []),
}));

const NOW = new Date("2026-03-01T12:00:00.000Z");
const at = (ms: number) => new Date(NOW.getTime() + ms);
const db = { fake: "db" } as unknown as Db;
const waha = new WahaApiClient({ baseUrl: "http://waha.test" });
const runnerOptions = { leaseMs: 5_000 };

const campaignTasks = () => cron.tasks.filter((task) => String(task.options.name).startsWith("campaign:"));
const sweepTask = () => cron.tasks.find((task) => task.options.name === "campaign-scheduler-sweep");
/** Lets promises started in the background settle (fake timers do not move on their own). */
const settle = () => vi.advanceTimersByTimeAsync(0);

let log: ReturnType<typeof captureLogger>;
let scheduler: SchedulerService;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  cron.tasks.length = 0;
  vi.clearAllMocks();
  runner.runCampaign.mockResolvedValue({ claimed: true, status: "Completed" });
  log = captureLogger();
  scheduler = new SchedulerService(db, waha, { logger: log.logger, runnerOptions });
});

afterEach(async () => {
  await scheduler.stop();
  vi.useRealTimers();
});

describe("initialize()", () => {
  it("schedules future campaigns, runs missed ones with a warning, and starts the sweep", async () => {
    vi.mocked(findScheduledCampaigns).mockResolvedValueOnce([
      { id: "missed-1", scheduledAt: at(-60_000) },
      { id: "future-1", scheduledAt: at(90_000) },
    ]);

    await scheduler.initialize();
    await settle();

    expect(findScheduledCampaigns).toHaveBeenCalledWith(db, at(24 * 60 * 60 * 1000));
    expect(campaignTasks().map((task) => task.expression)).toEqual([cronExpressionFor(at(90_000))]);
    expect(scheduler.scheduledJobs.has("future-1")).toBe(true);
    expect(runner.runCampaign).toHaveBeenCalledTimes(1);
    expect(runner.runCampaign).toHaveBeenCalledWith("missed-1");
    expect(log.find({ level: LEVEL.warn, campaignId: "missed-1", msgIncludes: "missed" })).toHaveLength(1);
    expect(sweepTask()?.expression).toBe("*/30 * * * * *");
    expect(sweepTask()?.options).toMatchObject({ noOverlap: true, timezone: "UTC" });
    expect(log.find({ msg: "scheduler initialized" })[0]).toMatchObject({ armed: 1, missed: 1 });
    expect(scheduler.status()).toMatchObject({ driver: "node-cron", initialized: true, armedJobs: 1, lastSweepAt: NOW });
  });

  it("takes over Running campaigns whose lease expired", async () => {
    vi.mocked(findStaleRunningCampaigns).mockResolvedValueOnce(["stale-1"]);

    await scheduler.initialize();
    await settle();

    expect(findStaleRunningCampaigns).toHaveBeenCalledWith(db, NOW);
    expect(runner.runCampaign).toHaveBeenCalledWith("stale-1");
    expect(log.find({ level: LEVEL.warn, campaignId: "stale-1", msgIncludes: "lease expired" })).toHaveLength(1);
  });

  it("runs once per process: a second call does nothing but say so", async () => {
    await scheduler.initialize();
    await scheduler.initialize();

    expect(findScheduledCampaigns).toHaveBeenCalledTimes(1);
    expect(cron.tasks.filter((task) => task === sweepTask())).toHaveLength(1);
    expect(log.find({ level: LEVEL.warn, msgIncludes: "initialize() called again" })).toHaveLength(1);
  });
});

describe("scheduleCampaignJob()", () => {
  it("arms one node-cron task at the campaign's second, in UTC, and keeps it in scheduledJobs", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });

    expect(cron.schedule).toHaveBeenCalledTimes(1);
    const [expression, , options] = cron.schedule.mock.calls[0]!;
    expect(expression).toBe("45 0 12 1 3 *");
    expect(options).toMatchObject({ timezone: "UTC", maxExecutions: 1 });
    expect(scheduler.scheduledJobs.get("c1")).toBe(cron.tasks[0]);
    expect(log.find({ campaignId: "c1", msg: "campaign job scheduled" })).toHaveLength(1);
  });

  it("re-scheduling cancels the old task first", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    const [oldTask] = cron.tasks;

    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(120_000) });

    expect(oldTask!.stop).toHaveBeenCalled();
    expect(oldTask!.destroy).toHaveBeenCalled();
    expect(scheduler.scheduledJobs.size).toBe(1);
    expect(scheduler.scheduledJobs.get("c1")).toBe(cron.tasks[1]);
    expect(cron.tasks[1]!.expression).toBe(cronExpressionFor(at(120_000)));
  });

  it("the callback runs the campaign through a new runner, logs, and removes the job", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    const [task] = cron.tasks;
    vi.setSystemTime(at(45_030));

    await task!.fn({ date: at(45_000) });

    expect(CampaignRunnerService).toHaveBeenCalledWith(db, waha, runnerOptions);
    expect(runner.runCampaign).toHaveBeenCalledWith("c1");
    expect(scheduler.scheduledJobs.has("c1")).toBe(false);
    expect(task!.destroy).toHaveBeenCalled();
    expect(log.find({ campaignId: "c1", msg: "scheduled campaign job started" })).toHaveLength(1);
    expect(log.find({ campaignId: "c1", msg: "scheduled campaign job finished" })[0]).toMatchObject({ claimed: true });
  });

  it("a sub-second scheduledAt is not started before its time", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(5_700) });
    const [task] = cron.tasks;
    expect(task!.expression).toBe(cronExpressionFor(at(5_000)));
    vi.setSystemTime(at(5_030));

    const fired = task!.fn({ date: at(5_000) });
    await vi.advanceTimersByTimeAsync(669);
    expect(runner.runCampaign).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await fired;

    expect(runner.runCampaign).toHaveBeenCalledWith("c1");
  });

  it("a runner error is logged and the job is still removed", async () => {
    runner.runCampaign.mockRejectedValueOnce(new Error("database went away"));
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    vi.setSystemTime(at(45_000));

    await cron.tasks[0]!.fn({ date: at(45_000) });

    expect(log.find({ level: LEVEL.error, campaignId: "c1" })[0]?.err).toMatchObject({ message: "database went away" });
    expect(scheduler.scheduledJobs.has("c1")).toBe(false);
  });

  it("a due campaign the runner did not claim is tried again while it is still Scheduled at that time", async () => {
    runner.runCampaign
      .mockRejectedValueOnce(new Error("connection reset"))
      .mockResolvedValueOnce({ claimed: false, status: "Scheduled" })
      .mockResolvedValueOnce({ claimed: true, status: "Completed" });
    const stillScheduled = { status: "Scheduled", scheduledAt: at(45_000) };
    vi.mocked(findCampaignSchedule).mockResolvedValueOnce(stillScheduled).mockResolvedValueOnce(stillScheduled);
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    vi.setSystemTime(at(45_000));

    const fired = cron.tasks[0]!.fn({ date: at(45_000) });
    await vi.advanceTimersByTimeAsync(400);
    await fired;

    expect(runner.runCampaign).toHaveBeenCalledTimes(3);
    expect(log.find({ campaignId: "c1", msg: "scheduled campaign job finished" })[0]).toMatchObject({ claimed: true });
  });

  it("the same date in a later year does not run the campaign", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    const nextYear = new Date("2027-03-01T12:00:45.000Z");
    vi.setSystemTime(nextYear);

    await cron.tasks[0]!.fn({ date: nextYear });

    expect(runner.runCampaign).not.toHaveBeenCalled();
    expect(cron.tasks[0]!.destroy).toHaveBeenCalled();
    expect(scheduler.scheduledJobs.has("c1")).toBe(false);
  });

  it("a time not in the future is refused with a SchedulerError", async () => {
    await expect(scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(-1) })).rejects.toThrow(SchedulerError);
    await expect(scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: NOW })).rejects.toThrow(/not in the future/);
    expect(cron.schedule).not.toHaveBeenCalled();
  });

  it("a campaign beyond the horizon gets no timer yet", async () => {
    await scheduler.scheduleCampaignJob({ id: "far", scheduledAt: at(3 * 24 * 60 * 60 * 1000) });

    expect(cron.schedule).not.toHaveBeenCalled();
    expect(scheduler.scheduledJobs.has("far")).toBe(false);
  });

  it("a firing node-cron reports as missed starts the campaign at once, with a warning", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    vi.setSystemTime(at(120_000));

    cron.tasks[0]!.listeners["execution:missed"]!({ date: at(45_000) });
    await settle();

    expect(runner.runCampaign).toHaveBeenCalledWith("c1");
    expect(log.find({ level: LEVEL.warn, campaignId: "c1", msgIncludes: "missed" })).toHaveLength(1);
    expect(scheduler.scheduledJobs.has("c1")).toBe(false);
  });
});

describe("cancelCampaignJob()", () => {
  it("stops the task and removes it", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    const [task] = cron.tasks;

    await scheduler.cancelCampaignJob("c1");

    expect(task!.stop).toHaveBeenCalled();
    expect(task!.destroy).toHaveBeenCalled();
    expect(scheduler.scheduledJobs.has("c1")).toBe(false);
    expect(log.find({ campaignId: "c1", msg: "campaign job cancelled" })).toHaveLength(1);
  });

  it("warns when the campaign has no job", async () => {
    await scheduler.cancelCampaignJob("unknown");

    expect(log.find({ level: LEVEL.warn, campaignId: "unknown" })).toHaveLength(1);
  });

  it("a job cancelled while waiting out its sub-second never runs", async () => {
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(5_700) });
    vi.setSystemTime(at(5_000));
    const fired = cron.tasks[0]!.fn({ date: at(5_000) });

    await scheduler.cancelCampaignJob("c1");
    await vi.advanceTimersByTimeAsync(1_000);
    await fired;

    expect(runner.runCampaign).not.toHaveBeenCalled();
  });
});

describe("runMissedCampaign()", () => {
  it("runs the campaign through a new runner", async () => {
    await scheduler["runMissedCampaign"]("m1");
    // A missed start first asks the campaign's series (mocked: a one-off campaign) whether to start.
    await vi.advanceTimersByTimeAsync(0);

    expect(CampaignRunnerService).toHaveBeenCalledWith(db, waha, runnerOptions);
    expect(runner.runCampaign).toHaveBeenCalledWith("m1");
    expect(log.find({ campaignId: "m1", msg: "starting missed campaign" })).toHaveLength(1);
  });

  it("logs a runner error instead of throwing", async () => {
    runner.runCampaign.mockRejectedValueOnce(new Error("boom"));

    await expect(scheduler["runMissedCampaign"]("m1")).resolves.toBeUndefined();

    expect(log.find({ level: LEVEL.error, campaignId: "m1" })).toHaveLength(1);
  });
});

describe("the sweep", () => {
  it("arms campaigns that came within the horizon, starts due ones nobody started, and drops stale timers", async () => {
    await scheduler.initialize();
    await scheduler.scheduleCampaignJob({ id: "moved-elsewhere", scheduledAt: at(60_000) });
    vi.setSystemTime(at(30_000));
    vi.mocked(findScheduledCampaigns).mockResolvedValueOnce([
      { id: "due-unarmed", scheduledAt: at(29_000) },
      { id: "newcomer", scheduledAt: at(600_000) },
    ]);

    await sweepTask()!.fn({ date: at(30_000) });
    await settle();

    expect(runner.runCampaign).toHaveBeenCalledWith("due-unarmed");
    expect(runner.runCampaign).not.toHaveBeenCalledWith("newcomer");
    expect([...scheduler.scheduledJobs.keys()]).toEqual(["newcomer"]);
    expect(scheduler.status().lastSweepAt).toEqual(at(30_000));
  });

  it("leaves a due campaign to its own timer while it is firing", async () => {
    await scheduler.initialize();
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(30_000) });
    vi.setSystemTime(at(30_500));
    vi.mocked(findScheduledCampaigns).mockResolvedValueOnce([{ id: "c1", scheduledAt: at(30_000) }]);

    await sweepTask()!.fn({ date: at(30_000) });
    await settle();

    expect(runner.runCampaign).not.toHaveBeenCalled();
    expect(scheduler.scheduledJobs.has("c1")).toBe(true);
  });
});

describe("startCampaignNow() and stop()", () => {
  it("resumes a paused campaign in the background", async () => {
    await scheduler.startCampaignNow("p1", { resume: true });
    await settle();

    expect(runner.runCampaign).toHaveBeenCalledWith("p1", { resume: true });
  });

  it("stop() destroys every timer and the sweep and waits for runs in progress", async () => {
    let finish!: (value: unknown) => void;
    runner.runCampaign.mockReturnValueOnce(new Promise((resolve) => (finish = resolve)));
    await scheduler.initialize();
    await scheduler.scheduleCampaignJob({ id: "c1", scheduledAt: at(45_000) });
    await scheduler.startCampaignNow("busy");
    await settle();

    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    finish({ claimed: true, status: "Completed" });
    await stopping;

    expect(cron.tasks.every((task) => task.destroy.mock.calls.length > 0)).toBe(true);
    expect(scheduler.scheduledJobs.size).toBe(0);
    expect(scheduler.status().initialized).toBe(false);
    await expect(scheduler.scheduleCampaignJob({ id: "c2", scheduledAt: at(90_000) })).rejects.toThrow(SchedulerError);
  });
});
