// Tests for the ISO 3166-1 alpha-2 list: what counts as a country code in named locations and geo answers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countryCodes, countryName, countryNames, isCountryCode, normalizeCountryCode } from './iso3166.ts';

describe('the ISO 3166-1 alpha-2 list', () => {
  test('holds all 249 officially assigned codes, each two uppercase letters with a name', () => {
    assert.equal(countryCodes.size, 249);
    for (const code of countryCodes) {
      assert.match(code, /^[A-Z]{2}$/);
      assert.ok(countryNames[code].length > 0, code);
    }
    assert.deepEqual([...countryCodes], Object.keys(countryNames));
  });

  test('cannot be changed at run time', () => {
    assert.throws(() => (countryCodes as Set<string>).add('UK'), TypeError);
    assert.throws(() => (countryCodes as Set<string>).delete('US'), TypeError);
    assert.throws(() => (countryCodes as Set<string>).clear(), TypeError);
    assert.throws(() => {
      (countryNames as Record<string, string>).UK = 'United Kingdom';
    }, TypeError);
    assert.equal(countryCodes.has('US'), true);
    assert.equal(countryCodes.has('UK'), false);
  });

  // Node's ICU knows every assigned code; a typo in the table (a code ICU has never heard of) would show here.
  test('agrees with the region names in Node’s ICU data', () => {
    const icu = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    for (const code of countryCodes) assert.ok(icu.of(code), code);
  });
});

describe('isCountryCode', () => {
  const cases: ReadonlyArray<[name: string, input: string, expected: boolean]> = [
    ['United States', 'US', true],
    ['United Kingdom by its ISO code', 'GB', true],
    ['Germany', 'DE', true],
    ['Netherlands', 'NL', true],
    ['Åland Islands, a late addition', 'AX', true],
    ['South Sudan, assigned 2011', 'SS', true],
    ['Bonaire, Sint Eustatius and Saba, assigned 2010', 'BQ', true],
    ['Antarctica', 'AQ', true],
    ['lowercase is not the stored form', 'us', false],
    ['mixed case', 'Us', false],
    ['UK, exceptionally reserved for the United Kingdom', 'UK', false],
    ['EU, exceptionally reserved for the European Union', 'EU', false],
    ['XK, user-assigned and used for Kosovo by some databases', 'XK', false],
    ['ZZ, user-assigned "unknown"', 'ZZ', false],
    ['AN, Netherlands Antilles, withdrawn 2010', 'AN', false],
    ['YU, Yugoslavia, withdrawn', 'YU', false],
    ['alpha-3 code', 'USA', false],
    ['one letter', 'U', false],
    ['empty', '', false],
    ['surrounding whitespace', ' US', false],
    ['an inherited object property', 'constructor', false],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(isCountryCode(input), expected));
  }
});

describe('normalizeCountryCode', () => {
  const cases: ReadonlyArray<[name: string, input: string, expected: string | undefined]> = [
    ['uppercase stays', 'FR', 'FR'],
    ['lowercase is raised', 'fr', 'FR'],
    ['mixed case is raised', 'Fr', 'FR'],
    ['surrounding whitespace is trimmed', '  jp\n', 'JP'],
    ['reserved UK stays unknown', 'uk', undefined],
    ['reserved EU stays unknown', 'EU', undefined],
    ['alpha-3 is not accepted', 'fra', undefined],
    ['empty', '', undefined],
    ['inner space', 'f r', undefined],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(normalizeCountryCode(input), expected));
  }
});

describe('countryName', () => {
  const cases: ReadonlyArray<[name: string, input: string, expected: string | undefined]> = [
    ['an everyday name', 'DE', 'Germany'],
    ['an ISO-style long name', 'GB', 'United Kingdom of Great Britain and Northern Ireland'],
    ['a name with diacritics', 'CI', "Côte d'Ivoire"],
    ['a reserved code has none', 'UK', undefined],
    ['an inherited object property is not a code', 'toString', undefined],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(countryName(input), expected));
  }
});
