// Insecure settings that are allowed but must be logged loudly at start-up: they are fine on a laptop and dangerous
// on a network, and Portcullis cannot tell which one it is running on.

import { formatCidr } from '../net/cidr.ts';
import { type Ip, tryParseIp } from '../net/ip.ts';
import type { Config } from './load.ts';

export function insecureSettings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.masterKey === undefined) {
    warnings.push(
      `no master key is configured (masterKey, or PORTCULLIS_MASTER_KEY): secrets at rest are encrypted under a key ` +
        `generated into the data directory '${config.dataDir}', so anyone with a copy of that directory can decrypt ` +
        `them. Set a master key kept outside it (openssl rand -base64 32).`,
    );
  }
  const url = new URL(config.publicUrl);
  if (url.protocol === 'http:' && !isLoopbackName(url.hostname)) {
    warnings.push(
      `publicUrl '${config.publicUrl}' is plain HTTP on a host other than this machine: passwords, codes and session ` +
        `cookies would cross the network unencrypted. Use an https:// URL.`,
    );
  }
  if (!isLoopbackName(config.host) && config.tls === undefined && config.trustedProxies.length === 0) {
    const where = config.host === '0.0.0.0' || config.host === '::' ? ' (every interface)' : '';
    warnings.push(
      `listening on '${config.host}'${where} over plain HTTP with no trusted proxies: clients reach Portcullis ` +
        `directly and unencrypted. Set tls, or listen on loopback behind a reverse proxy that terminates TLS.`,
    );
  }
  for (const cidr of config.trustedProxies) {
    if (cidr.prefixLength === 0) {
      warnings.push(
        `trustedProxies entry '${formatCidr(cidr)}' trusts every IPv${cidr.family} peer: any client can choose the ` +
          `address Conditional Access sees by sending X-Forwarded-For. List only your own proxies.`,
      );
    }
  }
  return warnings;
}

/** `localhost`, a `.localhost` name (RFC 6761 §6.3 keeps them on loopback), 127.0.0.0/8 or ::1. */
export function isLoopbackName(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const ip = tryParseIp(name);
  return ip !== undefined && isLoopbackIp(ip);
}

export function isLoopbackIp(ip: Ip): boolean {
  return ip.family === 4 ? ip.value >>> 24 === 127 : ip.value === 1n;
}
