import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The demo page's own files: `src/demo/public`, copied beside the build by the Nest CLI. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Names the SDK route serves: the built modules and their source maps, nothing else. */
export const SDK_FILE_NAME = /^[a-z][a-z0-9-]*\.js(\.map)?$/;

/**
 * The built browser SDK (`dist/libs/client/src`): beside this file when the service runs from
 * `dist/`, or in `dist/` when it runs from source (the tests).
 */
export function findSdkDir(): string | undefined {
  const candidates = ['../../libs/client/src/', '../../dist/libs/client/src/'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(`${dir}index.js`));
}
