// npm run bench [-- <scenario> ...]: each scenario runs the real processes (scripts/bench/stack.ts)
// beside the baseline it is compared with, measured in the same run, since absolute times drift
// on shared machines. Prints one table and writes the numbers as JSON (.local/bench/latest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { startStack, type Stack } from './bench/stack.ts';
import { benchCommands } from './bench/commands.ts';
import { benchReads } from './bench/reads.ts';
import { benchUpload } from './bench/upload.ts';
import { benchProvisioning } from './bench/provisioning.ts';
import { benchAggregate } from './bench/aggregate.ts';
import { benchRebuild } from './bench/rebuild.ts';
import { benchPlacement } from './bench/placement.ts';
import type { BenchResult } from './bench/result.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 15);
// Each scenario runs against a stack of the real processes of its own, except rebuild, which
// seeds the event store and runs the rebuild itself (scripts/bench/rebuild.ts).
const scenarios: Record<string, (stack: Stack) => Promise<BenchResult[]>> = {
  commands: (stack) => benchCommands(stack, seconds),
  reads: (stack) => benchReads(stack, seconds),
  upload: benchUpload,
  provisioning: benchProvisioning,
  aggregate: benchAggregate,
};
// Minutes long and machine-wide: only when asked for by name (`npm run bench -- placement`).
const onRequest: Record<string, (stack: Stack) => Promise<BenchResult[]>> = { placement: benchPlacement };
const standalone: Record<string, () => Promise<BenchResult[]>> = { rebuild: () => benchRebuild() };

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((name) => !(name in scenarios) && !(name in standalone) && !(name in onRequest));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; choose from ${[...Object.keys(scenarios), ...Object.keys(standalone)].join(', ')}`);
  process.exit(2);
}
const results: BenchResult[] = [];
for (const name of wanted.length > 0 ? wanted : [...Object.keys(scenarios), ...Object.keys(standalone)]) {
  process.stderr.write(`bench: ${name}...\n`);
  if (name in standalone) {
    results.push(...(await standalone[name]!()));
    continue;
  }
  let stack: Stack | undefined;
  try {
    stack = await startStack();
    const measured = await (scenarios[name] ?? onRequest[name]!)(stack);
    for (const r of measured) process.stderr.write(`bench: ${r.name} ${JSON.stringify(r)}\n`);
    results.push(...measured);
  } catch (err) {
    // One scenario failing must not lose the others' numbers: it is reported in the table.
    process.stderr.write(`bench: ${name} failed: ${(err as Error).stack ?? String(err)}\n`);
    results.push({ name, what: `failed: ${(err as Error).message}`, value: Number.NaN, unit: '' });
  } finally {
    await stack?.stop().catch(() => {});
  }
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`\nLedgerline benchmarks, ${new Date().toISOString()} on ${machine}\n`);
console.log('| scenario | measured | baseline (same run) | ratio | goal | details |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  const baseline = r.baseline ? `${fmt(r.baseline.value)} ${r.baseline.unit}: ${r.baseline.what}` : '–';
  const details = Object.entries(r.details ?? {})
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : String(v)}`)
    .join(', ');
  console.log(
    `| ${r.name}: ${r.what} | ${fmt(r.value)} ${r.unit} | ${baseline} | ${r.ratio === undefined ? '–' : r.ratio.toFixed(2)} | ${r.goal ?? ''} | ${details} |`,
  );
}
for (const r of results.filter((x) => x.cpu)) {
  console.log(
    `\nCPU during ${r.name} (share of the CPU time used; cores busy on average): ${Object.entries(r.cpu!)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (r.baselineCpu)
    console.log(
      `CPU during ${r.name}'s baseline: ${Object.entries(r.baselineCpu)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
}
for (const r of results.filter((x) => x.statements?.length)) {
  console.log(`\nPostgreSQL during ${r.name}, by execution time (pg_stat_statements, all databases):`);
  for (const s of r.statements!) console.log(`  ${String(s.totalMs).padStart(7)} ms  ${String(s.calls).padStart(7)} calls  ${s.meanMs} ms each  ${s.query}`);
}
mkdirSync('.local/bench', { recursive: true });
writeFileSync('.local/bench/latest.json', `${JSON.stringify({ at: new Date().toISOString(), machine, seconds, results }, null, 2)}\n`);
console.log('\nJSON: .local/bench/latest.json');
process.exit(0);
