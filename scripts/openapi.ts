/**
 * `npm run openapi`: writes docs/openapi.json (the document GET /api/openapi.json serves, built from the
 * routes and their zod schemas) and docs/api-reference.md (a readable list of it). A test fails when
 * either is out of date.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../src/config/settings.js';
import { buildApp, VERSION } from '../src/server/app.js';
import { renderApiReference } from '../src/server/openapi-reference.js';

const dataDir = mkdtempSync(join(tmpdir(), 'callwright-openapi-'));
const app = await buildApp({ settings: parseSettings({ DATA_DIR: dataDir, CLIENTS_DIR: join(dataDir, 'clients'), KNOWLEDGE_WATCH: 'false' }), apiToken: 'openapi-build-token-0123456789', logger: false });
try {
  const doc = app.openapi.document(VERSION);
  writeFileSync('docs/openapi.json', JSON.stringify(doc, null, 2) + '\n');
  writeFileSync('docs/api-reference.md', renderApiReference(doc));
  console.log(`docs/openapi.json and docs/api-reference.md: ${Object.keys(doc.paths as object).length} paths`);
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
