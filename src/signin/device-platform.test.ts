// User-Agent → device platform and browser, for Conditional Access and the sign-in log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserOf, devicePlatformOf } from './device-platform.ts';

const cases = [
  {
    name: 'alice on Windows 11 with Edge',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    platform: 'windows',
    browser: 'Edge 131',
  },
  {
    name: 'bob on a Mac with Safari',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    platform: 'macOS',
    browser: 'Safari 17',
  },
  {
    name: 'bob on his iPhone',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    platform: 'iOS',
    browser: 'Safari 17',
  },
  {
    name: 'guest carol on Android (which also says Linux)',
    ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    platform: 'android',
    browser: 'Chrome 124',
  },
  {
    name: 'dave on Ubuntu with Firefox',
    ua: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0',
    platform: 'linux',
    browser: 'Firefox 126',
  },
  {
    name: 'headless Chromium in the tests',
    ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
    platform: 'linux',
    browser: 'Chrome 156',
  },
  {
    name: 'an old Windows Phone',
    ua: 'Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977',
    platform: 'windowsPhone',
    browser: 'Chrome 52',
  },
  { name: 'curl', ua: 'curl/8.5.0', platform: 'unknown', browser: 'Other' },
  { name: 'no User-Agent at all', ua: undefined, platform: 'unknown', browser: 'Other' },
  { name: 'an empty User-Agent', ua: '', platform: 'unknown', browser: 'Other' },
] as const;

for (const c of cases) {
  test(`device platform: ${c.name}`, () => {
    assert.equal(devicePlatformOf(c.ua), c.platform);
    assert.equal(browserOf(c.ua), c.browser);
  });
}

test('device platform: a very long User-Agent is read only in part and does not throw', () => {
  assert.equal(devicePlatformOf(`${'x'.repeat(5000)} Windows`), 'unknown');
});
