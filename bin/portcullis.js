#!/usr/bin/env node
// Entry point for `npx portcullis`. Portcullis runs on Node 24.16 or later (type stripping, crypto.randomUUIDv7);
// when this file is started by an older system Node, it re-runs itself with the Node 24 runtime pinned in the
// project's devDependencies.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
// A 24.x before 24.16 lacks crypto.randomUUIDv7, which the code uses: test for it rather than parse the minor version.
if (major < 24 || typeof crypto.randomUUIDv7 !== 'function') {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(
      `portcullis: needs Node.js 24.16 or later (this is ${process.version}); run 'npm install' first\n`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  // `serve` shuts down gracefully on SIGTERM: pass it on rather than dying and orphaning the child. Ctrl-C already
  // reaches the child (same process group), so SIGINT is only kept from killing this process first.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const { main } = await import('../src/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
}
