import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ValidationError } from '../shared/errors.ts';
import { slugClaimDecider, slugClaimStreamId, type ClaimSlug, type SlugClaimed } from './slug-claim.ts';

const mine = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const theirs = '9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c';
const claimBy = (tenantId: string, slug = 'acme-corp'): ClaimSlug => ({ type: 'ClaimSlug', data: { slug, tenantId } });
const claimed: SlugClaimed = { type: 'SlugClaimed', data: { slug: 'acme-corp', tenantId: mine } };

t.test('stream id', async (t) => {
  t.equal(slugClaimStreamId('acme-corp'), 'tenant-slug-acme-corp');
});

t.test('the first claim wins', async (t) => {
  given(slugClaimDecider, []).when(claimBy(mine)).then(t, [claimed]);
});

t.test('another tenant claiming the slug is refused', async (t) => {
  given(slugClaimDecider, [claimed]).when(claimBy(theirs)).thenThrows(t, 'SLUG_TAKEN', ConflictError);
});

t.test('the same tenant claiming again is a no-op', async (t) => {
  given(slugClaimDecider, [claimed]).when(claimBy(mine)).then(t, []);
});

t.test('an invalid or reserved slug is refused', async (t) => {
  given(slugClaimDecider, []).when(claimBy(mine, 'Acme')).thenThrows(t, 'INVALID_SLUG', ValidationError);
  given(slugClaimDecider, []).when(claimBy(mine, 'api')).thenThrows(t, 'INVALID_SLUG', ValidationError);
});

t.test('evolve keeps the first claim', async (t) => {
  given(slugClaimDecider, [claimed, { type: 'SlugClaimed', data: { slug: 'acme-corp', tenantId: theirs } }]).thenState(t, {
    status: 'claimed',
    slug: 'acme-corp',
    tenantId: mine,
  });
});
