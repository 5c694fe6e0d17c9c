import type { Decider } from '../shared/decider.ts';
import type { TenantCommand } from './commands.ts';
import { decideTenant } from './decide.ts';
import type { TenantEvent } from './events.ts';
import { evolveTenant, initialTenantState, type TenantState } from './evolve.ts';

export const tenantStreamId = (tenantId: string): string => `tenant-${tenantId}`;

export const tenantDecider: Decider<TenantCommand, TenantEvent, TenantState> = {
  initialState: initialTenantState,
  decide: decideTenant,
  evolve: evolveTenant,
};

/** The status other aggregates need (membership commands' tenantStatus); null while it does not exist. */
export function tenantStatusOf(state: TenantState): Exclude<TenantState['status'], 'initial'> | null {
  return state.status === 'initial' ? null : state.status;
}

export * from './commands.ts';
export * from './events.ts';
export * from './slug.ts';
export * from './slug-claim.ts';
export * from './database-name.ts';
export { decideTenant } from './decide.ts';
export { evolveTenant, initialTenantState, TenantStatusSchema, type TenantState, type TenantStatus } from './evolve.ts';
