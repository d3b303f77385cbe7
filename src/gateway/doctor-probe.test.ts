// Doctor mode on Portcullis's side: the diagnosis of a request, carried on the sign-in URL without disturbing it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../net/ip.ts';
import {
  asDiagnosis,
  DOCTOR_PARAM,
  type DoctorDiagnosis,
  diagnose,
  diagnosisFromLocation,
  doctorRequested,
  withDiagnosis,
} from './doctor-probe.ts';

const alice = { ip: parseIp('203.0.113.7'), text: '203.0.113.7', via: 'x-forwarded-for' as const };
const proxy = { ip: parseIp('10.0.0.5'), text: '10.0.0.5', via: 'socket' as const };

test('only `Portcullis-Doctor: 1` asks for a diagnosis', () => {
  assert.equal(doctorRequested({ 'portcullis-doctor': '1' }), true);
  assert.equal(doctorRequested({ 'portcullis-doctor': 'yes' }), false);
  assert.equal(doctorRequested({}), false);
});

test('a diagnosis says how the client address was found and whether X-Forwarded-For arrived', () => {
  const cases: [string, Parameters<typeof diagnose>, DoctorDiagnosis][] = [
    [
      'alice through a trusted nginx',
      ['auth-request', alice, { 'x-forwarded-for': '203.0.113.7' }],
      { endpoint: 'auth-request', clientIp: '203.0.113.7', via: 'x-forwarded-for', forwardedFor: true },
    ],
    [
      'an untrusted proxy that sends X-Forwarded-For',
      ['forward-auth', proxy, { 'x-forwarded-for': '203.0.113.7' }],
      { endpoint: 'forward-auth', clientIp: '10.0.0.5', via: 'socket', forwardedFor: true },
    ],
    [
      'a proxy that sends none',
      ['portcullis', proxy, { 'x-forwarded-for': ' ' }],
      { endpoint: 'portcullis', clientIp: '10.0.0.5', via: 'socket', forwardedFor: false },
    ],
  ];
  for (const [name, args, want] of cases) assert.deepEqual(diagnose(...args), want, name);
});

test('the diagnosis rides on the sign-in URL, which otherwise stays exactly as it was', () => {
  const rd = 'https://wiki.example.com/page?x=1&y=a b';
  const location = `https://auth.example.com/t/0b5c6a2e-1111-4111-8111-111111111111/gateway/login?rd=${encodeURIComponent(rd)}`;
  const diagnosis = diagnose('auth-request', alice, { 'x-forwarded-for': '203.0.113.7' });
  const carried = withDiagnosis(location, diagnosis);
  assert.ok(carried.startsWith(`${location}&${DOCTOR_PARAM}=`));
  const url = new URL(carried);
  assert.equal(url.searchParams.get('rd'), rd);
  assert.deepEqual(diagnosisFromLocation(url), diagnosis);
  assert.equal(withDiagnosis('https://auth.example.com/x', diagnosis).split('?').length, 2, 'starts a query');
});

test('anything that is not a diagnosis is refused, not half-read', () => {
  const encode = (value: unknown) =>
    new URL(`https://a.example/?${DOCTOR_PARAM}=${Buffer.from(JSON.stringify(value)).toString('base64url')}`);
  const good = { endpoint: 'forward-auth', clientIp: '203.0.113.7', via: 'socket', forwardedFor: false };
  assert.deepEqual(diagnosisFromLocation(encode(good)), good);
  const bad: [string, unknown][] = [
    ['another endpoint', { ...good, endpoint: 'verify' }],
    ['no address', { ...good, clientIp: undefined }],
    ['an over-long address', { ...good, clientIp: 'x'.repeat(65) }],
    ['another source', { ...good, via: 'forwarded' }],
    ['forwardedFor as text', { ...good, forwardedFor: 'true' }],
    ['not an object', 'hello'],
    ['null', null],
  ];
  for (const [name, value] of bad) assert.equal(diagnosisFromLocation(encode(value)), undefined, name);
  assert.equal(diagnosisFromLocation(new URL(`https://a.example/?${DOCTOR_PARAM}=%%%`)), undefined, 'not base64url');
  assert.equal(diagnosisFromLocation(new URL('https://a.example/?rd=x')), undefined, 'absent');
  assert.equal(asDiagnosis([good]), undefined, 'an array');
});
