// Forward auth through a real Caddy (Debian's package) with deploy/caddy's snippet: forward_auth with copy_headers,
// client copies of the identity headers and Portcullis's cookies removed.
import { forwardAuthCases } from './cases.ts';
import { missing, startCaddy } from './proxies.ts';

forwardAuthCases('Caddy', missing('caddy'), startCaddy);
