// Tests for TOTP: the RFC 6238 Appendix B vectors, secrets, the enrolment URI and QR code, the ±1 step window and
// replay protection, all on an injected clock.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { generateTotpSecret, totpCodeAt, totpQrDataUrl, totpQrSvg, totpStepAt, totpUri, verifyTotp } from './totp.ts';

describe('RFC 6238 Appendix B test vectors (8 digits, 30-second steps)', () => {
  // The seeds are the ASCII digits repeated to the hash's length: 20 bytes for SHA-1, 32 for SHA-256, 64 for SHA-512.
  const seed = (length: number) => new TextEncoder().encode('1234567890'.repeat(7).slice(0, length));
  const seeds = { sha1: seed(20), sha256: seed(32), sha512: seed(64) } as const;
  const vectors: { time: number; sha1: string; sha256: string; sha512: string }[] = [
    { time: 59, sha1: '94287082', sha256: '46119246', sha512: '90693936' },
    { time: 1111111109, sha1: '07081804', sha256: '68084774', sha512: '25091201' },
    { time: 1111111111, sha1: '14050471', sha256: '67062674', sha512: '99943326' },
    { time: 1234567890, sha1: '89005924', sha256: '91819424', sha512: '93441116' },
    { time: 2000000000, sha1: '69279037', sha256: '90698825', sha512: '38618901' },
    { time: 20000000000, sha1: '65353130', sha256: '77737706', sha512: '47863826' },
  ];
  for (const v of vectors) {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      test(`${algorithm} at ${v.time}`, async () => {
        const clock = new ManualClock(v.time * 1000);
        const options = { algorithm, digits: 8 } as const;
        assert.equal(await totpCodeAt(seeds[algorithm], clock.now(), options), v[algorithm]);
        const result = await verifyTotp({
          secret: seeds[algorithm],
          code: v[algorithm],
          nowMs: clock.now(),
          lastUsedStep: null,
          options,
        });
        assert.deepEqual(result, { ok: true, step: Math.floor(v.time / 30), driftSteps: 0 });
      });
    }
  }
});

describe('secrets and enrolment', () => {
  test('a secret is 160 bits of Base32 and differs each time', () => {
    const a = generateTotpSecret();
    const b = generateTotpSecret();
    assert.match(a, /^[A-Z2-7]{32}$/);
    assert.notEqual(a, b);
  });

  test("alice's otpauth URI names the issuer and her account", () => {
    const uri = totpUri({
      secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      issuer: 'Contoso Portcullis',
      accountName: 'alice@contoso.com',
    });
    const url = new URL(uri);
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.host, 'totp');
    assert.equal(decodeURIComponent(url.pathname), '/Contoso Portcullis:alice@contoso.com');
    assert.equal(url.searchParams.get('secret'), 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    assert.equal(url.searchParams.get('issuer'), 'Contoso Portcullis');
  });

  test('an issuer or account with a colon is refused, naming it', () => {
    assert.throws(() => totpUri({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'a:b', accountName: 'x' }), /issuer .* 'a:b'/);
    assert.throws(() => totpUri({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'Contoso', accountName: '' }), /account name/);
  });

  test('the QR code comes as an SVG document and as a PNG data URL', async () => {
    const uri = totpUri({ secret: generateTotpSecret(), issuer: 'Contoso', accountName: 'alice@contoso.com' });
    const svg = await totpQrSvg(uri);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<path/);
    assert.match(await totpQrDataUrl(uri), /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  });
});

describe('verifyTotp for users (6 digits, ±1 step)', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // '12345678901234567890' in Base32
  const start = Date.UTC(2026, 0, 1, 9, 0, 10); // 10 s into a step
  const cases: {
    name: string;
    codeAtMs: number;
    nowMs: number;
    lastUsedStep?: (now: number) => number | null;
    input?: (code: string) => string;
    expected: 'ok' | 'invalid' | 'replayed' | 'malformed';
    drift?: number;
  }[] = [
    { name: "alice's code from her phone, same step", codeAtMs: start, nowMs: start, expected: 'ok', drift: 0 },
    {
      name: 'typed with a space in the middle',
      codeAtMs: start,
      nowMs: start,
      input: (c) => `${c.slice(0, 3)} ${c.slice(3)}`,
      expected: 'ok',
    },
    {
      name: "bob's phone runs 30 s slow: previous step accepted",
      codeAtMs: start - 30_000,
      nowMs: start,
      expected: 'ok',
      drift: -1,
    },
    {
      name: "carol's phone runs 30 s fast: next step accepted",
      codeAtMs: start + 30_000,
      nowMs: start,
      expected: 'ok',
      drift: 1,
    },
    { name: 'two steps old is refused', codeAtMs: start - 60_000, nowMs: start, expected: 'invalid' },
    { name: 'two steps ahead is refused', codeAtMs: start + 60_000, nowMs: start, expected: 'invalid' },
    {
      name: 'the same code again after it was accepted',
      codeAtMs: start,
      nowMs: start + 5_000,
      lastUsedStep: (now) => totpStepAt(now),
      expected: 'replayed',
    },
    {
      name: 'an older code after a newer one was accepted',
      codeAtMs: start - 30_000,
      nowMs: start,
      lastUsedStep: (now) => totpStepAt(now),
      expected: 'replayed',
    },
    {
      name: 'the next code after the last accepted one',
      codeAtMs: start + 30_000,
      nowMs: start + 30_000,
      lastUsedStep: (now) => totpStepAt(now) - 1,
      expected: 'ok',
    },
    { name: 'five digits', codeAtMs: start, nowMs: start, input: (c) => c.slice(1), expected: 'malformed' },
    { name: 'letters', codeAtMs: start, nowMs: start, input: () => '12a456', expected: 'malformed' },
    { name: 'empty', codeAtMs: start, nowMs: start, input: () => '', expected: 'malformed' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const clock = new ManualClock(c.nowMs);
      const code = await totpCodeAt(secret, c.codeAtMs);
      const result = await verifyTotp({
        secret,
        code: c.input ? c.input(code) : code,
        nowMs: clock.now(),
        lastUsedStep: c.lastUsedStep ? c.lastUsedStep(clock.now()) : null,
      });
      if (c.expected === 'ok') {
        assert.equal(result.ok, true, JSON.stringify(result));
        if (result.ok) {
          assert.equal(result.step, totpStepAt(c.codeAtMs), 'the step is the one the code was made for');
          if (c.drift !== undefined) assert.equal(result.driftSteps, c.drift);
        }
      } else {
        assert.deepEqual(result, { ok: false, reason: c.expected });
      }
    });
  }

  test('a code accepted once is refused for the rest of its window as time moves on', async () => {
    const clock = new ManualClock(start);
    const code = await totpCodeAt(secret, clock.now());
    const first = await verifyTotp({ secret, code, nowMs: clock.now(), lastUsedStep: null });
    assert.equal(first.ok, true);
    const lastUsedStep = first.ok ? first.step : null;
    for (let i = 0; i < 6; i++) {
      clock.advance(10_000);
      const again = await verifyTotp({ secret, code, nowMs: clock.now(), lastUsedStep });
      assert.equal(again.ok, false, `at +${(i + 1) * 10} s`);
    }
  });
});
