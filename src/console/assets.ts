// The built console (web/dist, written by `vite build` from npm's `prepare` script), read into memory once at start-up.
// Vite names every asset after its content hash, so assets may be cached for a year; index.html is revalidated on
// every load so a new build shows at once. When the build is missing the server still starts and the console URL
// says how to build it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** Where `npm install` (the `prepare` script) writes the build. */
export const DEFAULT_DIST_DIR = join(import.meta.dirname, '..', '..', 'web', 'dist');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly type: string;
  readonly cacheControl: string;
}

export interface ConsoleBuild {
  readonly index: ConsoleAsset;
  /** By path below the console's URL, e.g. `assets/index-3f2a1b.js`. */
  readonly files: ReadonlyMap<string, ConsoleAsset>;
}

/** The build in `dir`, or undefined when it has not been built (no index.html). */
export function loadConsoleBuild(dir: string = DEFAULT_DIST_DIR): ConsoleBuild | undefined {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return undefined;
  const files = new Map<string, ConsoleAsset>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const key = relative(dir, path).split(sep).join('/');
      if (key === 'index.html') continue;
      files.set(key, {
        body: readFileSync(path),
        type: TYPES[extname(name)] ?? 'application/octet-stream',
        // Hashed names under assets/ never change content; anything else is revalidated.
        cacheControl: key.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
  };
  walk(dir);
  return {
    index: { body: readFileSync(indexPath), type: TYPES['.html'], cacheControl: 'no-cache' },
    files,
  };
}
