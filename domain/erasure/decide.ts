import type { Decider } from '../shared/decider.ts';
import type { EraseInTenant } from './commands.ts';
import type { ErasureEvent } from './events.ts';

/** How many times a user's data was erased in a tenant; erasing again is allowed (they may have written since). */
export type TenantErasureState = { status: 'never' } | { status: 'erased'; times: number };

export const tenantErasureStreamId = (tenantId: string, userId: string): string => `erasure-${tenantId}-${userId}`;

export function decideEraseInTenant({ data }: EraseInTenant): ErasureEvent[] {
  const content: ErasureEvent = {
    type: 'TenantContentErased',
    data: { tenantId: data.tenantId, userId: data.userId, erasedBy: data.erasedBy, erasedAt: data.now },
  };
  if (data.scope === 'content') return [content];
  return [content, { type: 'SubjectErased', data: { userId: data.userId, tenantId: data.tenantId, erasedBy: data.erasedBy, erasedAt: data.now } }];
}

export function evolveTenantErasure(state: TenantErasureState, event: ErasureEvent): TenantErasureState {
  if (event.type !== 'TenantContentErased') return state;
  return { status: 'erased', times: state.status === 'erased' ? state.times + 1 : 1 };
}

export const tenantErasureDecider: Decider<EraseInTenant, ErasureEvent, TenantErasureState> = {
  initialState: () => ({ status: 'never' }),
  decide: (command) => decideEraseInTenant(command),
  evolve: evolveTenantErasure,
};
