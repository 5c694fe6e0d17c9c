// Writes the published event contract into docs/events/ (npm run contract): a JSON Schema per
// event type and version, the envelope and headers, and the AsyncAPI 3 document. Generated from
// the TypeBox definitions; test/contract.unit.test.ts fails when the files are stale.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { contractFiles, CONTRACT_DIR } from './contract-files.ts';

const files = contractFiles();
await mkdir(new URL('schemas/', CONTRACT_DIR), { recursive: true });
// Schemas no longer generated (a renamed event) are removed, so the folder is exactly the contract.
for (const name of await readdir(new URL('schemas/', CONTRACT_DIR))) {
  if (!(`schemas/${name}` in files)) await rm(new URL(`schemas/${name}`, CONTRACT_DIR));
}
for (const [name, text] of Object.entries(files)) await writeFile(new URL(name, CONTRACT_DIR), text);
process.stdout.write(`wrote ${Object.keys(files).length} files to docs/events/\n`);
