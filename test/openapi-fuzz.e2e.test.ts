// Property-based: requests generated from the OpenAPI documents of both APIs, with every string
// field filled with all kinds of Unicode (control characters, bidirectional controls, unpaired
// surrogates, NUL, huge lengths), sent through app.inject. Every answer must be 2xx or 4xx with
// an error code: never a 5xx (issue 11, finding 14). Time-boxed so that it stays under a minute.
import t from 'tap';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import type { App } from '../core/adapters/http.ts';
import { encodeMultipart, PDF, startDocumentSystem, tenantWith, uploadOk } from './support/document-helpers.ts';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  format?: string;
  minimum?: number;
  maximum?: number;
};
type Operation = {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content?: Record<string, { schema: Schema }> };
};
type Case = {
  app: 'command' | 'query';
  method: string;
  url: string;
  body?: unknown;
  multipart?: { name: string; value: string }[];
  headers: Record<string, string>;
  token: 'admin' | 'viewer' | 'none';
};

const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 40_000);
const s = await startDocumentSystem(t, { TENANTS_PER_USER: '2' });
const { admin, tenantId, members } = await tenantWith(s, 'fuzzed', ['viewer']);
const document = await uploadOk(s, admin.token, tenantId, { data: PDF('fuzz target'), filename: 'target.pdf', fields: { title: 'Target' } });
const tokens = { admin: admin.token, viewer: members[0]!.token, none: '' };

// ---- strings of every kind ----
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const specials = fc.constantFrom(
  '\u0000',
  '\u0007',
  '\r\n',
  '\t',
  '\u007f',
  '\u0085',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u200f',
  '\u061c',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '😀',
  '👩‍👩‍👧‍👦',
  'e\u0301',
  '../../etc/passwd',
  '%00',
  '%ZZ',
  '"',
  "'",
  '\\',
  '`',
  '${x}',
  '<script>',
  'Robert"); drop table x;--',
  ' ',
);
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: specials },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 20 }) },
);
const nastyString = fc.oneof(
  { weight: 6, arbitrary: fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 250, max: 300 }), fc.constantFrom('a', '😀', 'é', '\u202e')).map(([n, c]) => c.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 1_200_000 }).map((n) => 'x'.repeat(n)) },
);
const formatted = (format: string | undefined): fc.Arbitrary<string> => {
  switch (format) {
    case 'uuid':
      return fc.oneof(fc.constant(randomUUID()), fc.uuid(), nastyString);
    case 'email':
      return fc.oneof(
        nastyString.map((local) => `${local}@example.com`),
        fc.emailAddress(),
        nastyString,
      );
    case 'date-time':
      return fc.oneof(
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'nope' : d.toISOString())),
        nastyString,
      );
    default:
      return nastyString;
  }
};

/** Values for a JSON schema: mostly shaped like it, with nasty strings and now and then the wrong type. */
function valueFor(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  const wrong = fc.oneof(fc.constant(null), fc.integer(), nastyString, fc.constant({}), fc.constant([]));
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof({ weight: 5, arbitrary: fc.oneof(...options.map((o) => valueFor(o, depth + 1))) }, { weight: 1, arbitrary: wrong });
  if (schema.const !== undefined) return fc.oneof({ weight: 5, arbitrary: fc.constant(schema.const) }, { weight: 1, arbitrary: nastyString });
  if (schema.enum) return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: nastyString });
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  let shaped: fc.Arbitrary<unknown>;
  switch (type) {
    case 'string':
      shaped = formatted(schema.format);
      break;
    case 'integer':
      shaped = fc.oneof(fc.integer({ min: -5, max: 100 }), fc.integer(), fc.constantFrom(0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER));
      break;
    case 'number':
      shaped = fc.oneof(fc.double({ noNaN: true }), fc.integer());
      break;
    case 'boolean':
      shaped = fc.boolean();
      break;
    case 'array':
      shaped = fc.array(valueFor(schema.items, depth + 1), { maxLength: 25 });
      break;
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      shaped = fc
        .tuple(
          ...properties.map(([name, property]) =>
            fc.option(valueFor(property, depth + 1), { freq: required.has(name) ? 10 : 2, nil: undefined }).map((value) => [name, value] as const),
          ),
          fc.option(fc.tuple(nastyString, nastyString), { freq: 5, nil: undefined }),
        )
        .map((entries) => {
          const object: Record<string, unknown> = {};
          for (const entry of entries) {
            if (!entry) continue;
            const [name, value] = entry;
            if (value !== undefined) object[name] = value;
          }
          return object;
        });
      break;
    }
    default:
      shaped = fc.jsonValue({ maxDepth: 2 });
  }
  return fc.oneof({ weight: 8, arbitrary: shaped }, { weight: 1, arbitrary: wrong });
}

/** Percent-encodes a string as UTF-8 (an unpaired surrogate becomes U+FFFD, as a browser would send it). */
const encodePart = (text: string) => encodeURIComponent(text.toWellFormed());
const rawPercent = fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));

function pathValue(name: string): fc.Arbitrary<string> {
  const real = name === 'tenantId' ? tenantId : name === 'documentId' ? document.id : name === 'userId' ? admin.userId : randomUUID();
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(real) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: nastyString.map(encodePart) },
    { weight: 1, arbitrary: rawPercent },
  );
}

/** Operations that would end the fuzzing session or its tenant are sent elsewhere. */
const SKIPPED = new Set(['POST /api/auth/logout']);

function casesOf(app: 'command' | 'query', spec: { paths: Record<string, Record<string, Operation>> }): fc.Arbitrary<Case>[] {
  const arbitraries: fc.Arbitrary<Case>[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    if (!path.startsWith('/api/') || path.startsWith('/api/docs')) continue;
    for (const [method, operation] of Object.entries(methods)) {
      const verb = method.toUpperCase();
      if (SKIPPED.has(`${verb} ${path}`)) continue;
      const params = operation.parameters ?? [];
      const pathNames = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const queryParams = params.filter((p) => p.in === 'query');
      const jsonSchema = operation.requestBody?.content?.['application/json']?.schema;
      const multipart = operation.requestBody?.content?.['multipart/form-data'] !== undefined || (path.endsWith('/documents') && verb === 'POST');
      arbitraries.push(
        fc
          .record({
            path: fc.tuple(...pathNames.map((name) => (verb === 'DELETE' && name === 'tenantId' ? fc.constant(randomUUID()) : pathValue(name)))),
            query: fc.tuple(
              ...queryParams.map((p) =>
                fc
                  .option(
                    fc.oneof(
                      valueFor(p.schema).map((v) => encodePart(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
                      rawPercent,
                    ),
                    { freq: 2, nil: undefined },
                  )
                  .map((v) => [p.name, v] as const),
              ),
            ),
            body: jsonSchema ? valueFor(jsonSchema) : fc.constant(undefined),
            fields: multipart
              ? fc.array(fc.tuple(fc.constantFrom('title', 'description', 'tags', 'filename', 'other'), nastyString), { maxLength: 5 })
              : fc.constant<[string, string][]>([]),
            filename: nastyString,
            token: fc.constantFrom<Case['token']>('admin', 'admin', 'admin', 'viewer', 'none'),
            headers: fc.record({
              'if-match': fc.option(
                fc.oneof(
                  fc.nat().map((n) => `"${n}"`),
                  fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
                ),
                { freq: 4, nil: undefined },
              ),
              'idempotency-key': fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), { freq: 4, nil: undefined }),
            }),
          })
          .map(({ path: values, query, body, fields, filename, token, headers }): Case => {
            let url = path;
            pathNames.forEach((name, i) => {
              url = url.replace(`{${name}}`, values[i] ?? '');
            });
            const search = query
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => `${k}=${v}`)
              .join('&');
            const cleanHeaders = Object.fromEntries(
              Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined && /^[\x20-\x7e]*$/.test(entry[1])),
            );
            return {
              app,
              method: verb,
              url: search ? `${url}?${search}` : url,
              token,
              headers: cleanHeaders,
              ...(multipart
                ? { multipart: [...fields.map(([name, value]) => ({ name, value })), { name: 'file', value: filename }] }
                : body === undefined
                  ? {}
                  : { body }),
            };
          }),
      );
    }
  }
  return arbitraries;
}

async function send(apps: Record<'command' | 'query', App>, c: Case) {
  const headers: Record<string, string> = { ...c.headers, ...(c.token === 'none' ? {} : { authorization: `Bearer ${tokens[c.token]}` }) };
  if (c.multipart) {
    const file = c.multipart.at(-1)!;
    const parts = [...c.multipart.slice(0, -1), { name: 'file', filename: file.value, data: PDF(`fuzz ${Math.random()}`) }];
    const mp = encodeMultipart(parts);
    return apps[c.app].inject({ method: c.method as 'POST', url: c.url, headers: { ...headers, 'content-type': mp.contentType }, payload: mp.body });
  }
  return apps[c.app].inject({
    method: c.method as 'POST',
    url: c.url,
    headers,
    ...(c.body === undefined ? {} : { payload: JSON.stringify(c.body), headers: { ...headers, 'content-type': 'application/json' } }),
  });
}

t.test('every generated request answers 2xx, or 4xx with an error code; never 5xx', async (t) => {
  const apps = { command: s.system.command, query: s.system.query };
  const specs = { command: s.system.command.swagger() as never, query: s.system.query.swagger() as never };
  const arbitraries = [...casesOf('command', specs.command), ...casesOf('query', specs.query)];
  t.ok(arbitraries.length >= 20, `${arbitraries.length} operations from the two OpenAPI documents`);
  const seen: Record<string, number> = {};
  let runs = 0;
  const result = await fc.check(
    fc.asyncProperty(fc.oneof(...arbitraries), async (c) => {
      runs++;
      const answer = await send(apps, c);
      const status = answer.statusCode;
      seen[Math.floor(status / 100) + 'xx'] = (seen[Math.floor(status / 100) + 'xx'] ?? 0) + 1;
      if (status >= 500) throw new Error(`${c.method} ${c.url.slice(0, 200)} answered ${status}: ${answer.body.slice(0, 300)}`);
      if (status >= 400) {
        const code = (() => {
          try {
            return (JSON.parse(answer.body) as { error?: { code?: unknown } }).error?.code;
          } catch {
            return undefined;
          }
        })();
        if (typeof code !== 'string')
          throw new Error(`${c.method} ${c.url.slice(0, 200)} answered ${status} without an error code: ${answer.body.slice(0, 300)}`);
      }
    }),
    {
      numRuns: 5000,
      interruptAfterTimeLimit: BUDGET_MS,
      markInterruptAsFailure: false,
      endOnFailure: true,
      seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
    },
  );
  t.comment(`${runs} requests in ${BUDGET_MS / 1000} s at most (seed ${result.seed}): ${JSON.stringify(seen)}`);
  if (result.failed) t.fail(`counterexample (seed ${result.seed}): ${String(result.errorInstance)}`);
  else t.pass('no 5xx and no 4xx without a code');
  t.ok(runs >= 500, `thousands of cases on an idle machine, at least 500 on a loaded one (${runs})`);
});
