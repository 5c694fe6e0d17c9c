import t from 'tap';
import { decideInSequence, foldEvents, type Decider } from './decider.ts';
import { ConflictError, DomainError, ForbiddenError, isDomainError, NotFoundError, ValidationError } from './errors.ts';
import { canManageMembers, canManageTenant, canModifyDocument, canWriteDocuments, isRole, ROLES } from './roles.ts';

t.test('domain errors carry a stable code and their HTTP status', async (t) => {
  const cases: Array<[DomainError, number]> = [
    [new ValidationError('INVALID_SLUG', 'bad slug'), 400],
    [new ForbiddenError('FORBIDDEN', 'no'), 403],
    [new NotFoundError('DOCUMENT_NOT_FOUND', 'gone'), 404],
    [new ConflictError('LAST_ADMIN', 'keep one'), 409],
  ];
  for (const [error, statusCode] of cases) {
    t.equal(error.statusCode, statusCode, error.name);
    t.ok(error instanceof DomainError && error instanceof Error);
    t.ok(isDomainError(error));
    t.match(error.message, /\w/);
  }
  t.equal(new ConflictError('EMAIL_TAKEN', 'taken').name, 'ConflictError');
  t.notOk(isDomainError(new Error('plain')));
});

t.test('roles', async (t) => {
  t.same(ROLES, ['admin', 'user', 'viewer']);
  t.ok(isRole('viewer'));
  t.notOk(isRole('owner'));
  t.notOk(isRole(undefined));
  t.same(ROLES.filter(canManageTenant), ['admin']);
  t.same(ROLES.filter(canManageMembers), ['admin']);
  t.same(ROLES.filter(canWriteDocuments), ['admin', 'user']);
  t.ok(canModifyDocument('admin', 'a', 'b'), 'an admin modifies anything');
  t.ok(canModifyDocument('user', 'a', 'a'), 'a user modifies their own');
  t.notOk(canModifyDocument('user', 'a', 'b'), 'but not the others');
  t.notOk(canModifyDocument('viewer', 'a', 'a'), 'a viewer modifies nothing');
});

t.test('decideInSequence lets each command see the state left by the previous one', async (t) => {
  type Counter = { status: 'counting'; count: number };
  const counter: Decider<{ type: 'Add'; data: { upTo: number } }, { type: 'Added'; data: { value: number } }, Counter> = {
    initialState: () => ({ status: 'counting', count: 0 }),
    decide: ({ data }, state) => (state.count < data.upTo ? [{ type: 'Added', data: { value: state.count + 1 } }] : []),
    evolve: (state, event) => ({ ...state, count: event.data.value }),
  };
  const add = (upTo: number) => ({ type: 'Add' as const, data: { upTo } });
  const events = decideInSequence(counter, [add(2), add(2), add(2)], counter.initialState());
  t.same(events, [
    { type: 'Added', data: { value: 1 } },
    { type: 'Added', data: { value: 2 } },
  ]);
  t.same(foldEvents(counter, events), { status: 'counting', count: 2 });
});
