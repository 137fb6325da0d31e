/** The machine a run measured, printed with the table (figures mean little without it). */
import os from "node:os";
import { postgresVersion } from "./pg";

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  os: string;
  postgres: string;
  /** 1-minute load average when the run began: other work on the machine skews every figure. */
  loadAverage: number;
  loadAverageAtEnd?: number;
}

export async function describeMachine(): Promise<Machine> {
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres: await postgresVersion(),
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

export function machineLine(machine: Machine): string {
  return `${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGb} GB RAM, Node ${machine.node}, PostgreSQL ${machine.postgres}, ${machine.os}; ${machine.date}; load average ${machine.loadAverage} at start${machine.loadAverageAtEnd === undefined ? "" : `, ${machine.loadAverageAtEnd} at end`}`;
}
