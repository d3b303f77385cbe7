#!/usr/bin/env node
// Entry point for `npx portcullis`. Portcullis runs on Node 24 (type stripping); when this file is started by an
// older system Node, it re-runs itself with the Node 24 runtime pinned in the project's devDependencies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(
      `portcullis: needs Node.js 24 or later (this is ${process.version}); run 'npm install' first\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(pinned, [join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
