// Runs every Ledgerline process as a child, with readable, prefixed logs; Ctrl-C stops them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { PROCESSES } from './processes.ts';

const pretty = prettyFactory({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name' });
const width = Math.max(...PROCESSES.map((p) => p.name.length));
const children = new Map<string, ChildProcess>();
let stopping = false;

function pipe(name: string, stream: NodeJS.ReadableStream): void {
  const label = name.padEnd(width);
  createInterface({ input: stream }).on('line', (line) => {
    let text = line;
    if (line.startsWith('{')) {
      try {
        text = pretty(JSON.parse(line)).trimEnd();
      } catch {
        /* not JSON: print as is */
      }
    }
    for (const part of text.split('\n')) process.stdout.write(`${label} | ${part}\n`);
  });
}

for (const { name, entry, flags = [] } of PROCESSES) {
  // NODE_ENV=development unless set: the processes accept the local services' development defaults only then.
  const child = spawn(process.execPath, [...flags, entry], { stdio: ['ignore', 'pipe', 'pipe'], env: { NODE_ENV: 'development', ...process.env } });
  children.set(name, child);
  pipe(name, child.stdout);
  pipe(name, child.stderr);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stdout.write(`${name} exited (${signal ?? code}); stopping the others\n`);
      stop(1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
}

function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code);
  }, 20_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.stdout.write(`command API http://127.0.0.1:4999/api  query API http://127.0.0.1:4998/api  docs /api/docs  (Ctrl-C stops)\n`);
