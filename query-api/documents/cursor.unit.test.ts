import t from 'tap';
import { decodeCursor, encodeCursor } from './cursor.ts';

const id = '0b6f1f9e-3c1a-4a55-9d8e-2f5d0c7b1a11';
const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

t.test('a cursor this API issued decodes to its parts', async (t) => {
  t.same(decodeCursor(encodeCursor('2026-11-29T10:00:00.123+00:00', id), 'timestamp'), { value: '2026-11-29T10:00:00.123+00:00', id });
  t.same(decodeCursor(encodeCursor('annual report', id), 'text'), { value: 'annual report', id });
});

t.test('a crafted cursor is a 400 INVALID_CURSOR, never reaching the query', async (t) => {
  const crafted = [
    'not base64 at all!',
    raw('x'),
    raw([1, 2]),
    raw(['a', 'b', 'c']),
    raw(['2026-01-01T00:00:00Z', 'not-a-uuid']),
    raw(['yesterday', id]),
    raw(['2026-13-45T99:99:99Z', id]),
    raw([{}, id]),
    raw(['a\u0000b', id]),
  ];
  for (const cursor of crafted) {
    t.throws(() => decodeCursor(cursor, 'timestamp'), { statusCode: 400, code: 'INVALID_CURSOR' }, cursor);
  }
  t.throws(() => decodeCursor(raw(['x'.repeat(2000), id]), 'text'), { code: 'INVALID_CURSOR' }, 'an overlong value');
  for (const date of ['2025-02-30T00:00:00+00:00', '2025-04-31T00:00:00Z', '0000-01-01T00:00:00Z', '2025-01-01T24:00:00Z']) {
    t.throws(() => decodeCursor(raw([date, id]), 'timestamp'), { code: 'INVALID_CURSOR' }, `a date that does not exist: ${date}`);
  }
  t.throws(() => decodeCursor(raw(['\ud800', id]), 'text'), { code: 'INVALID_CURSOR' }, 'an unpaired surrogate');
});
