#!/usr/bin/env node
// Packs the four packages (as built in libs/X/dist; `npm run pack` builds them first) with `npm pack`
// into one folder, emptied of older tarballs first:
//   node scripts/pack-packages.mjs [folder]      default: packs/
// Prints one line per tarball: its path, size and file count.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const WORKSPACES = ['libs/protocol', 'libs/client', 'libs/notifications', 'libs/inbox'];
const folder = resolve(process.argv[2] ?? 'packs');

mkdirSync(folder, { recursive: true });
for (const file of readdirSync(folder)) {
  if (file.endsWith('.tgz')) rmSync(resolve(folder, file));
}
// Run by `npm run pack`, npm_execpath is the npm that runs us; by hand, the one on PATH.
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
const output = execFileSync(
  npm[0],
  [
    ...npm[1],
    'pack',
    '--json',
    '--pack-destination',
    folder,
    ...WORKSPACES.flatMap((w) => ['-w', w]),
  ],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
for (const tarball of JSON.parse(output)) {
  const kib = (tarball.size / 1024).toFixed(1);
  console.log(`${resolve(folder, tarball.filename)}  ${kib} KiB, ${tarball.entryCount} files`);
}
