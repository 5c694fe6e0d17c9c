// Progress and results of the operator commands (migrate:tenants, rebuild): a bar when a person
// watches a terminal, JSON lines (pino) when a machine reads the output.
import cliProgress from 'cli-progress';
import type { Logger } from './logger.ts';

export type Progress = {
  /** Sets how far the work is (units of `total`), with a short note of what is going on. */
  update: (done: number, note?: Record<string, unknown>) => void;
  setTotal: (total: number) => void;
  stop: () => void;
};

const interactive = () => Boolean(process.stderr.isTTY) && process.env.LEDGERLINE_PROGRESS !== 'json';

export function createProgress(logger: Logger, label: string, total: number, unit: string): Progress {
  if (interactive()) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted} | {note}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { note: '' });
    return {
      update: (done, note) =>
        bar.update(done, {
          note: note
            ? Object.entries(note)
                .map(([k, v]) => `${k} ${String(v)}`)
                .join(', ')
            : '',
        }),
      setTotal: (value) => bar.setTotal(value),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let all = total;
  return {
    update(done, note) {
      // At most one line a second, and always the last one.
      if (Date.now() - last < 1000 && done < all) return;
      last = Date.now();
      logger.info({ done, total: all, unit, percent: all === 0 ? 100 : Math.round((done / all) * 100), ...note }, `${label} progress`);
    },
    setTotal: (value) => {
      all = value;
    },
    stop: () => {},
  };
}

/** Runs `work` over `items` with at most `limit` at a time; every item gets its own outcome. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index] as T, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** A summary a person reads on a terminal (one line per row), or one JSON line per row for a machine. */
export function printSummary(logger: Logger, title: string, rows: Record<string, unknown>[]): void {
  if (interactive()) {
    process.stdout.write(`${title}\n`);
    for (const row of rows)
      process.stdout.write(
        `  ${Object.entries(row)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('  ')}\n`,
      );
    return;
  }
  for (const row of rows) logger.info(row, title);
}
