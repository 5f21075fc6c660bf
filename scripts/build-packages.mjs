#!/usr/bin/env node
// Builds the four packages in dependency order, each from a clean dist/ (no stale modules packed):
// libs/X/src -> libs/X/dist (ES modules and .d.ts) with plain `tsc -p libs/X/tsconfig.build.json`.
// The inbox also gets dist/rtnotify-inbox.bundle.js: the component with the client, the protocol,
// Lit and idb-keyval in one minified module (what a page loads), whose gzipped size is printed and
// held to a budget.
//   node scripts/build-packages.mjs            every package
//   node scripts/build-packages.mjs protocol   only the named ones (folder names under libs/)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';

/** Folders under libs/, dependencies first. */
const ORDER = ['protocol', 'client', 'notifications', 'inbox'];
/** The inbox bundle's budget, minified and gzipped. */
const INBOX_BUDGET_BYTES = 20 * 1024;

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
  if (name === 'inbox') await bundleInbox();
}

async function bundleInbox() {
  const { build } = await import('esbuild');
  const outfile = 'libs/inbox/dist/rtnotify-inbox.bundle.js';
  const result = await build({
    entryPoints: ['libs/inbox/dist/index.js'],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    legalComments: 'none',
    write: false,
    outfile,
  });
  const code = result.outputFiles[0].contents;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(outfile, code);
  const gzipped = gzipSync(code, { level: 9 }).length;
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
  console.log(
    `@rtnotify/inbox bundle (component + client + protocol + Lit + idb-keyval): ` +
      `${kb(code.length)} minified, ${kb(gzipped)} gzipped (budget ${kb(INBOX_BUDGET_BYTES)})`,
  );
  if (gzipped > INBOX_BUDGET_BYTES) {
    throw new Error(`@rtnotify/inbox bundle is over its budget: ${kb(gzipped)}`);
  }
}
