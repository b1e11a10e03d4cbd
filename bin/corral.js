#!/usr/bin/env node
// The `corral` command. Runs the compiled CLI from dist/ (built by `npm install` via the
// `prepare` script); from a source checkout without dist/ it falls back to tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'framework', 'cli', 'main.js');
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'framework', 'cli', 'main.ts')).href);
}
