#!/usr/bin/env node
// Builds the three packages in dependency order, each from a clean dist/ (no stale modules packed):
// libs/X/src -> libs/X/dist (ES modules and .d.ts) with plain `tsc -p libs/X/tsconfig.build.json`.
//   node scripts/build-packages.mjs            every package
//   node scripts/build-packages.mjs protocol   only the named ones (folder names under libs/)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Folders under libs/, dependencies first. */
const ORDER = ['protocol', 'client', 'notifications'];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!ORDER.includes(name))
    throw new Error(`unknown package folder "${name}": ${ORDER.join(', ')}`);
}
for (const name of ORDER.filter((n) => wanted.length === 0 || wanted.includes(n))) {
  rmSync(`libs/${name}/dist`, { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', `libs/${name}/tsconfig.build.json`], {
    stdio: 'inherit',
  });
}
