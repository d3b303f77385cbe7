// Real nginx and Caddy from Debian's packages, started for one test file: unprivileged (as `nobody` when the tests
// run as root), on loopback, with a configuration generated into a temporary directory around the snippets shipped in
// deploy/ (copied there, so `nobody` can read them). Stopped by their own process id.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const NOBODY = 65534;

export interface ProxyPorts {
  readonly listen: number;
  readonly portcullis: number;
  readonly upstream: number;
}

export interface RunningProxy {
  readonly name: string;
  /** What the proxy wrote to its logs so far (for assertion messages). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Why a proxy cannot run here (the tests are then skipped, saying so), or undefined when it can. Under CI it is never
 * skipped: .ci/run installs both, and a missing one must fail rather than pass unnoticed.
 */
export function missing(binary: 'nginx' | 'caddy'): string | undefined {
  const path = binary === 'nginx' ? '/usr/sbin/nginx' : '/usr/bin/caddy';
  if (existsSync(path) || process.env.CI) return undefined;
  return `${binary} is not installed (apt-get install -y nginx caddy; .ci/run does)`;
}

function workDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

function own(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) chownSync(join(dir, name), NOBODY, NOBODY);
}

async function waitForPort(port: number, child: ChildProcess, logs: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) assert.fail(`the proxy exited with ${child.exitCode}:\n${logs()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`the proxy did not listen on ${port}:\n${logs()}`);
}

function start(name: string, command: string, args: string[], dir: string, env: NodeJS.ProcessEnv, port: number) {
  const root = process.getuid?.() === 0;
  const child = spawn(command, args, {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const logs = () => {
    const errorLog = join(dir, 'error.log');
    return output + (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  };
  const proxy: RunningProxy = {
    name,
    logs,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return { proxy, ready: waitForPort(port, child, logs).then(() => proxy) };
}

/**
 * Changes a configuration file before the proxy starts (tests of broken configurations): called with each file's
 * name (`portcullis-protect.conf`, `nginx.conf`, `Caddyfile`, …) and text; returns the text to use.
 */
export type EditConfig = (file: string, text: string) => string;

const asShipped: EditConfig = (_file, text) => text;

/** nginx in front of Portcullis (`localhost`) and the applications (`*.localhost`), with deploy/nginx's snippets. */
export async function startNginx(ports: ProxyPorts, edit: EditConfig = asShipped): Promise<RunningProxy> {
  const dir = workDir('portcullis-nginx-');
  for (const file of ['portcullis-authz.conf', 'portcullis-protect.conf']) {
    writeFileSync(join(dir, file), edit(file, readFileSync(join(DEPLOY, 'nginx', file), 'utf8')));
  }
  for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
  const forwarded = `proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;`;
  const nginxConf = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream portcullis { server 127.0.0.1:${ports.portcullis}; keepalive 8; }
  upstream app { server 127.0.0.1:${ports.upstream}; keepalive 8; }
  server {
    listen 127.0.0.1:${ports.listen};
    server_name localhost;
    location / {
      proxy_pass http://portcullis;
      ${forwarded}
    }
  }
  server {
    listen 127.0.0.1:${ports.listen};
    server_name *.localhost;
    include ${dir}/portcullis-authz.conf;
    location / {
      include ${dir}/portcullis-protect.conf;
      proxy_pass http://app;
      ${forwarded}
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), edit('nginx.conf', nginxConf));
  own(dir);
  const { ready } = start(
    'nginx',
    '/usr/sbin/nginx',
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    dir,
    { PATH: process.env.PATH },
    ports.listen,
  );
  return ready;
}

/** Caddy in front of Portcullis (`localhost`) and the applications (`*.localhost`), with deploy/caddy's snippet. */
export async function startCaddy(ports: ProxyPorts, edit: EditConfig = asShipped): Promise<RunningProxy> {
  const dir = workDir('portcullis-caddy-');
  const snippet = readFileSync(join(DEPLOY, 'caddy', 'portcullis.caddy'), 'utf8');
  writeFileSync(join(dir, 'portcullis.caddy'), edit('portcullis.caddy', snippet));
  const caddyfile = `{
	admin off
	auto_https off
}
import ${dir}/portcullis.caddy

http://localhost:${ports.listen} {
	reverse_proxy 127.0.0.1:${ports.portcullis}
}

http://*.localhost:${ports.listen} {
	import portcullis 127.0.0.1:${ports.portcullis}
	reverse_proxy 127.0.0.1:${ports.upstream}
}
`;
  writeFileSync(join(dir, 'Caddyfile'), edit('Caddyfile', caddyfile));
  own(dir);
  const { ready } = start(
    'caddy',
    '/usr/bin/caddy',
    ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    dir,
    { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    ports.listen,
  );
  return ready;
}
