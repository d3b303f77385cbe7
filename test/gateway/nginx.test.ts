// Forward auth through a real nginx (Debian's package) with deploy/nginx's snippets: auth_request, keep-alive
// connections to Portcullis, identity headers set from the answer, client copies and Portcullis's cookies removed.
import { forwardAuthCases } from './cases.ts';
import { missing, startNginx } from './proxies.ts';

forwardAuthCases('nginx', missing('nginx'), startNginx);
