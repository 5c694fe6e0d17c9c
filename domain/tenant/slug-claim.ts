import { Type, type Static } from 'typebox';
import type { Decider } from '../shared/decider.ts';
import { ConflictError } from '../shared/errors.ts';
import { defineCommand, defineEvent, Uuid } from '../shared/message.ts';
import { requireValidSlug } from './slug.ts';

/** One stream per slug: the first SlugClaimed wins. A deleted tenant keeps its slug (no release yet). */
export const slugClaimStreamId = (slug: string): string => `tenant-slug-${slug}`;

export const ClaimSlugCommand = defineCommand('ClaimSlug', { slug: Type.String(), tenantId: Uuid() });
export type ClaimSlug = Static<typeof ClaimSlugCommand>;

export const SlugClaimedEvent = defineEvent('SlugClaimed', { slug: Type.String({ minLength: 3, maxLength: 40 }), tenantId: Uuid() });
export type SlugClaimed = Static<typeof SlugClaimedEvent>;

export type SlugClaimState = { status: 'initial' } | { status: 'claimed'; slug: string; tenantId: string };

export function decideSlugClaim(command: ClaimSlug, state: SlugClaimState): SlugClaimed[] {
  const slug = requireValidSlug(command.data.slug);
  switch (state.status) {
    case 'initial':
      return [{ type: 'SlugClaimed', data: { slug, tenantId: command.data.tenantId } }];
    case 'claimed':
      if (state.tenantId === command.data.tenantId) return [];
      throw new ConflictError('SLUG_TAKEN', 'this slug is already used by another tenant');
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}

export function evolveSlugClaim(state: SlugClaimState, event: SlugClaimed): SlugClaimState {
  return state.status === 'initial' ? { status: 'claimed', ...event.data } : state;
}

export const slugClaimDecider: Decider<ClaimSlug, SlugClaimed, SlugClaimState> = {
  initialState: () => ({ status: 'initial' }),
  decide: decideSlugClaim,
  evolve: evolveSlugClaim,
};
