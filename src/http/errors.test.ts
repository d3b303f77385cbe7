// JSON request bodies: what is accepted, and the 400 message for what is not (naming the problem, never the body).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonBody } from './errors.ts';
import { graphErrorBody, graphErrorCodeForStatus, HttpError } from './graph-error.ts';

describe('parseJsonBody', () => {
  const accepted: { name: string; body: string; expected: unknown }[] = [
    { name: "carol's named location", body: '{"displayName":"Carol home"}', expected: { displayName: 'Carol home' } },
    { name: 'a list', body: ' [1, 2] ', expected: [1, 2] },
    { name: 'a bare scalar', body: 'true', expected: true },
  ];
  for (const c of accepted) {
    test(`accepts ${c.name}`, () => assert.deepEqual(parseJsonBody(c.body), c.expected));
  }

  const refused: { name: string; body: string; message: string }[] = [
    { name: 'an empty body', body: '', message: 'The request body is empty but its Content-Type is application/json.' },
    {
      name: 'whitespace only',
      body: ' \n',
      message: 'The request body is empty but its Content-Type is application/json.',
    },
    {
      name: 'a trailing comma',
      body: '{"a":1,}',
      message:
        'The request body is not valid JSON: Expected double-quoted property name in JSON at position 7 (line 1 column 8).',
    },
    {
      name: 'a cut-off body',
      body: '{"a":',
      message: 'The request body is not valid JSON: Unexpected end of JSON input.',
    },
    {
      name: 'a form post',
      body: 'password=hunter2',
      message: "The request body is not valid JSON: Unexpected token 'p'.",
    },
    {
      name: 'constructor.prototype poisoning',
      body: '{"constructor":{"prototype":{"admin":true}}}',
      message:
        "The request body is not valid JSON: it contains a '__proto__' or 'constructor.prototype' key, which is not allowed.",
    },
  ];
  for (const c of refused) {
    test(`refuses ${c.name}`, () => {
      assert.throws(
        () => parseJsonBody(c.body),
        (error: unknown) => error instanceof HttpError && error.statusCode === 400 && error.message === c.message,
      );
    });
  }
});

describe('Graph error bodies', () => {
  test('the date is UTC to the second without a zone, as Graph writes it', () => {
    const body = graphErrorBody({
      code: 'itemNotFound',
      message: 'x',
      requestId: 'id-12345678',
      now: Date.UTC(2026, 2, 4, 5, 6, 7, 890),
    });
    assert.deepEqual(body.error.innerError, {
      date: '2026-03-04T05:06:07',
      'request-id': 'id-12345678',
      'client-request-id': 'id-12345678',
    });
  });

  const codes: [number, string][] = [
    [400, 'invalidRequest'],
    [401, 'unauthenticated'],
    [403, 'accessDenied'],
    [404, 'itemNotFound'],
    [409, 'nameAlreadyExists'],
    [418, 'invalidRequest'],
    [429, 'activityLimitReached'],
    [500, 'generalException'],
    [502, 'generalException'],
    [503, 'serviceNotAvailable'],
  ];
  for (const [status, code] of codes) {
    test(`status ${status} is Graph's '${code}'`, () => assert.equal(graphErrorCodeForStatus(status), code));
  }
});
