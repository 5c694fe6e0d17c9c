import t from 'tap';
import { contentDisposition, parseRange } from './download-headers.ts';

t.test('byte ranges', async (t) => {
  t.equal(parseRange(undefined, 100), undefined, 'no header: the whole file');
  t.same(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  t.same(parseRange('bytes=90-', 100), { start: 90, end: 99 }, 'open end');
  t.same(parseRange('bytes=-10', 100), { start: 90, end: 99 }, 'suffix');
  t.same(parseRange('bytes=50-500', 100), { start: 50, end: 99 }, 'end clamped to the size');
  for (const bad of ['bytes=-', 'bytes=10-5', 'bytes=100-', 'items=0-1', 'bytes=0-1,5-6']) {
    t.throws(() => parseRange(bad, 100), { statusCode: 416, code: 'RANGE_NOT_SATISFIABLE' }, bad);
  }
});

t.test('content disposition cannot be split and keeps the real name', async (t) => {
  const header = contentDisposition('a"b\r\nSet-Cookie: x=1; ü.pdf');
  t.notMatch(header, /[\r\n]/, 'no line breaks');
  t.match(header, /^attachment; filename="a_b__Set-Cookie: x=1; _.pdf"; filename\*=UTF-8''/, 'an ASCII fallback');
  t.match(header, /%C3%BC\.pdf$/, 'the UTF-8 name, percent-encoded');
});
