/**
 * Named crash points for fault-injection tests: when LEDGERLINE_FAILPOINTS lists a name, the
 * process kills itself with SIGKILL right there, as a power cut would. Unset in production.
 */
const armed = new Set((process.env.LEDGERLINE_FAILPOINTS ?? '').split(',').filter(Boolean));

export function failpoint(name: string): void {
  if (armed.has(name)) process.kill(process.pid, 'SIGKILL');
}
