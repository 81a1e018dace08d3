/**
 * Writes the files generated from the configuration schema: config/schema.json (the JSON Schema
 * editors check config files against) and docs/configuration-reference.md.
 *
 *   npm run docs:config
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles } from '../lib/config/reference';

const ROOT = join(__dirname, '..');

for (const [path, text] of Object.entries(generatedFiles())) {
  mkdirSync(dirname(join(ROOT, path)), { recursive: true });
  writeFileSync(join(ROOT, path), text);
  console.log(`wrote ${path}`);
}
