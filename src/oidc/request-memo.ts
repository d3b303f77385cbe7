// Rows read earlier in the same token or authorization request, kept until the request ends: the storage adapter
// reads a grant's sign-in context in the statement that reads the grant, and the refresh check takes it from here
// instead of reading it again. Scoped with AsyncLocalStorage around oidc-provider's handling of one request (the
// Fastify mount in plugin.ts); outside a request there is no memo and every read goes to the store.
import { AsyncLocalStorage } from 'node:async_hooks';

const memos = new AsyncLocalStorage<Map<string, unknown>>();

/** Runs `fn` (one request's handling) with an empty memo. */
export function withRequestMemo<T>(fn: () => T): T {
  return memos.run(new Map(), fn);
}

/** The current request's memo, or undefined outside a request. */
export function requestMemo(): Map<string, unknown> | undefined {
  return memos.getStore();
}
