import t from 'tap';
import type { FastifyRequest } from 'fastify';
import { ifMatchVersion } from './answer-command.ts';

const request = (ifMatch?: string) => ({ headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } }) as FastifyRequest;

t.test('If-Match takes the version from an ETag, strong or weak', async (t) => {
  t.equal(ifMatchVersion(request()), undefined);
  t.equal(ifMatchVersion(request('"3"')), 3);
  t.equal(ifMatchVersion(request('W/"12"')), 12);
  t.equal(ifMatchVersion(request('7')), 7);
  for (const bad of ['"abc"', '*', '"1", "2"', '-1', '']) {
    t.throws(() => ifMatchVersion(request(bad)), { statusCode: 400, code: 'INVALID_IF_MATCH' }, bad);
  }
});
