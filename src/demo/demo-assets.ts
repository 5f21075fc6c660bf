import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The demo page's own files: `src/demo/public`, copied beside the build by the Nest CLI. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * The packages the page imports, each served as built (`/sdk/<name>/…`, the folder of the package's
 * entry module): the client and the protocol it imports, and the inbox component (its one-file
 * bundle). The page's import map names them.
 */
const require = createRequire(import.meta.url);
export const SDK_DIRS: Readonly<Record<string, string>> = {
  client: `${dirname(require.resolve('@rtnotify/client'))}/`,
  protocol: `${dirname(require.resolve('@rtnotify/protocol'))}/`,
  inbox: `${dirname(require.resolve('@rtnotify/inbox'))}/`,
};

/** Names the SDK route serves: the built modules and bundles, nothing else (no types, no maps). */
export const SDK_FILE_NAME = /^[a-z][a-z0-9-]*(\.bundle)?\.js$/;

/**
 * The content security policy's hash of the page's inline import map (the only inline script), so
 * that the policy allows it and nothing else inline.
 */
export function importMapHash(html: string): string {
  const match = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('demo page: no import map in index.html');
  return `'sha256-${createHash('sha256').update(match[1]).digest('base64')}'`;
}

export const INDEX_HTML_HASH = importMapHash(readFileSync(`${PUBLIC_DIR}index.html`, 'utf8'));
