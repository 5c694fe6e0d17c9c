import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import t from 'tap';

// This file is the one place in domain/ allowed to touch node:*, because it reads the others.
const domainRoot = import.meta.dirname;
const thisFile = basename(import.meta.filename);

const ALLOWED_PACKAGES = ['typebox'];
const ALLOWED_TEST_PACKAGES = ['tap'];
const INFRASTRUCTURE = ['fastify', '@fastify/', 'pg', 'slonik', 'kafkajs', '@aws-sdk/', 'node-vault', 'bcrypt'];
const IMPURE_CALLS: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\.now\b/, 'Date.now (time arrives in the command)'],
  [/\bnew Date\(/, 'new Date( (time arrives in the command)'],
  [/\bMath\.random\b/, 'Math.random (ids arrive in the command)'],
  [/\bcrypto\./, 'crypto. (ids arrive in the command)'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/\bprocess\./, 'process. (configuration belongs to the processes, not the domain)'],
];
const IMPORT_SPECIFIER = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]|\brequire\s*\(\s*['"]([^'"]+)['"]/g;

const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? '');
const isPackage = (specifier: string, name: string) =>
  name.endsWith('/') ? specifier.startsWith(name) : specifier === name || specifier.startsWith(`${name}/`);

/** Returns one message per broken purity rule in a domain source file. */
export function findImpurities(source: string, file: string): string[] {
  const problems: string[] = [];
  const isTest = file.endsWith('.test.ts');
  for (const match of source.matchAll(IMPORT_SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? '';
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(resolve(domainRoot, file)), specifier);
      const insideDomain = !relative(domainRoot, target).startsWith('..');
      if (!insideDomain && !isTest) problems.push(`${file}: imports ${specifier}, outside domain/`);
    } else if (isBuiltin(specifier)) {
      problems.push(`${file}: imports the Node built-in ${specifier}`);
    } else if (INFRASTRUCTURE.some((name) => isPackage(specifier, name))) {
      problems.push(`${file}: imports the infrastructure package ${specifier}`);
    } else {
      const allowed = isTest ? [...ALLOWED_PACKAGES, ...ALLOWED_TEST_PACKAGES] : ALLOWED_PACKAGES;
      if (!allowed.some((name) => isPackage(specifier, name))) problems.push(`${file}: imports ${specifier}; domain/ may use only ${allowed.join(', ')}`);
    }
  }
  for (const [pattern, label] of IMPURE_CALLS) {
    if (pattern.test(source)) problems.push(`${file}: uses ${label}`);
  }
  return problems;
}

const domainFiles = readdirSync(domainRoot, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && file !== thisFile)
  .map((file) => file.split(sep).join('/'))
  .sort();

t.test('every domain file is pure', async (t) => {
  t.ok(domainFiles.length >= 30, `scanned ${domainFiles.length} files`);
  const problems = domainFiles.flatMap((file) => findImpurities(readFileSync(resolve(domainRoot, file), 'utf8'), file));
  t.same(problems, [], 'no I/O, clock, randomness or infrastructure in domain/');
});

t.test('the guard catches what it should', async (t) => {
  const bad = [
    "import { readFile } from 'node:fs';",
    "import fs from 'fs';",
    "import Fastify from 'fastify';",
    "import cors from '@fastify/cors';",
    "import pg from 'pg';",
    "import { sql } from 'slonik';",
    "import { Kafka } from 'kafkajs';",
    "import { S3Client } from '@aws-sdk/client-s3';",
    "import vault from 'node-vault';",
    "import bcrypt from 'bcrypt';",
    "const m = await import('pg');",
    "import lodash from 'lodash';",
    "import { app } from '../../command-api/app.ts';",
    'const at = Date.now();',
    'const at = new Date();',
    'const id = Math.random();',
    'const id = crypto.randomUUID();',
    'const url = process.env.S3_URL;',
  ];
  for (const line of bad) t.equal(findImpurities(line, 'user/decide.ts').length, 1, line);
  const good = [
    "import { Type } from 'typebox';",
    "import { Value } from 'typebox/value';",
    "import { x } from './decide.ts';",
    "import type { Role } from '../shared/roles.ts';",
    "import { pgSomething } from './pg-like-name.ts';",
  ];
  for (const line of good) t.same(findImpurities(line, 'user/decide.ts'), [], line);
  t.same(findImpurities("import t from 'tap';\nimport { given } from '../../test/support/given-when-then.ts';", 'user/user.unit.test.ts'), []);
  t.equal(findImpurities("import t from 'tap';", 'user/decide.ts').length, 1, 'tap only in tests');
});
