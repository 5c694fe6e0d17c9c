// Every Ledgerline process, as `npm start` (scripts/run-all.ts) and the benchmarks run them.

// The command API streams uploads: a small young generation keeps its RSS flat under that
// allocation rate (V8's default lets new space grow to 16 MiB per semi-space).
export const COMMAND_API_NODE_FLAGS = ['--max-semi-space-size=4'];

export const PROCESSES: { name: string; entry: string; flags?: string[]; projector?: boolean }[] = [
  { name: 'command-api', entry: 'command-api/server.ts', flags: COMMAND_API_NODE_FLAGS },
  { name: 'query-api', entry: 'query-api/server.ts' },
  { name: 'projector-main', entry: 'projectors/main/server.ts', projector: true },
  { name: 'provisioner', entry: 'projectors/provisioner/server.ts', projector: true },
  { name: 'projector-tenant', entry: 'projectors/tenant/server.ts', projector: true },
  { name: 'projector-webhooks', entry: 'projectors/webhooks/server.ts', projector: true },
  { name: 'projector-notifications', entry: 'projectors/notifications/server.ts', projector: true },
];
