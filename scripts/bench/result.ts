import type { StatementTime } from './pg-statements.ts';
/** One line of the benchmark table: a measured value beside its baseline from the same run. */
export type BenchResult = {
  name: string;
  what: string;
  value: number;
  unit: string;
  baseline?: { what: string; value: number; unit: string };
  ratio?: number;
  goal?: string;
  details?: Record<string, unknown>;
  /** Share of the machine's CPU time per process group during the measurement (scripts/bench/cpu.ts). */
  cpu?: Record<string, number>;
  /** The same during the baseline, where both ran apart. */
  baselineCpu?: Record<string, number>;
  /** pg_stat_statements during the scenario: the statements with the most execution time. */
  statements?: StatementTime[];
};
