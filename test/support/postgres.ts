// A throwaway PostgreSQL cluster for one test process: initdb into a temp dir, listen on a Unix socket there and on
// 127.0.0.1 at a free port, fsync off; stopped and removed when the process ends. PORTCULLIS_TEST_PG_URL (a URL
// whose user may CREATE DATABASE) replaces it with a server you run yourself.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresServer {
  /** URL of the `postgres` maintenance database; connect here to CREATE DATABASE. */
  readonly adminUrl: string;
  /** URL of database `name` on the same server. */
  urlFor(name: string): string;
  stop(): void;
}

const PG_ROOT = '/usr/lib/postgresql';

function findBinaries(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL server binaries not found under ${PG_ROOT}/*/bin: install the Debian package 'postgresql' ` +
        `(apt-get install -y postgresql; CI does this), or set PORTCULLIS_TEST_PG_URL to a server you run.`,
    );
  }
  return join(PG_ROOT, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** PostgreSQL refuses to run as root; as root (CI, containers) the binaries run as the `postgres` user. */
function runner(): (bin: string, args: string[]) => string {
  const asRoot = process.getuid?.() === 0;
  return (bin, args) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

let started: Promise<PostgresServer> | undefined;

/** The server for this process: started on first call, shared afterwards. */
export function testPostgres(): Promise<PostgresServer> {
  started ??= start();
  return started;
}

async function start(): Promise<PostgresServer> {
  const external = process.env.PORTCULLIS_TEST_PG_URL;
  if (external) return { adminUrl: external, urlFor: (name) => withDatabase(external, name), stop() {} };

  const bin = findBinaries();
  const run = runner();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pg-'));
  const data = join(dir, 'data');
  let running = false;
  const stop = () => {
    if (running) {
      running = false;
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone; nothing to stop.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
    run(join(bin, 'initdb'), ['-D', data, '--no-sync', '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
      '-c shared_buffers=32MB',
    ].join(' ');
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', 'start']);
    running = true;
    process.once('exit', stop);
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return { adminUrl, urlFor: (name) => withDatabase(adminUrl, name), stop };
  } catch (error) {
    const log = join(dir, 'server.log');
    const detail = existsSync(log) && statSync(log).size > 0 ? ` (see ${log})` : '';
    const stderr = (error as { stderr?: string }).stderr ?? '';
    stop();
    throw new Error(`could not start a test PostgreSQL with ${bin}: ${(error as Error).message}${stderr}${detail}`);
  }
}
