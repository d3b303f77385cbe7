// Time-ordered UUIDs (version 7, RFC 9562) as the tests check them: the shape, and the creation time they carry.
import assert from 'node:assert/strict';

/** A version 7 UUID in lower case, as `crypto.randomUUIDv7()` writes it. */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Asserts that `id` is a version 7 UUID whose first 48 bits, its creation time in milliseconds, lie in [before, after]. */
export function assertUuidV7Between(id: string, before: number, after: number): void {
  assert.match(id, UUID_V7);
  const millis = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
  assert.ok(millis >= before && millis <= after, `${id} carries ${millis}, not a time in [${before}, ${after}]`);
}
