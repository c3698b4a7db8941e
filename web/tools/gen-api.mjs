// Writes web/gen/api.d.ts, the schema types of api.yml, with
// openapi-typescript. test/generated.test.js regenerates it and fails on
// drift. Usage: node tools/gen-api.mjs
import openapiTS, { astToString } from 'openapi-typescript';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The api.d.ts text for the repository's api.yml. */
export async function apiDts() {
  const spec = pathToFileURL(path.join(root, '../api.yml'));
  const ast = await openapiTS(spec);
  return (
    '// @generated from api.yml by openapi-typescript: do not edit.\n' +
    '// Refresh with `node tools/gen-api.mjs` in web/.\n\n' +
    astToString(ast)
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.join(root, 'gen/api.d.ts');
  await writeFile(out, await apiDts());
  console.log(`wrote ${out}`);
}
