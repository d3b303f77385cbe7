// Names in the directory are shown in lists, audit records and logs: text that hides what it says (control
// characters, bidirectional overrides, unpaired surrogates) is refused with the field named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortcullisError } from '../errors.ts';
import { optionalText, requiredText } from './validate.ts';

test('requiredText refuses control characters, bidi overrides and unpaired surrogates, naming the field', () => {
  for (const bad of [
    'a\u0000b',
    'tab\there',
    'new\nline',
    'x\u0085y',
    'admin\u202Eexe.txt',
    '\u2066x\u2069',
    'a\uD800b',
  ]) {
    assert.throws(
      () => requiredText('displayName', bad, 256),
      (error: Error) =>
        error instanceof PortcullisError && /displayName: must not contain control characters/.test(error.message),
      JSON.stringify(bad),
    );
  }
  assert.equal(requiredText('displayName', '  Zoë 山田 👩‍💻 ', 256), 'Zoë 山田 👩‍💻');
});

test('multiline text (descriptions) may hold tabs and line breaks, nothing else of the kind', () => {
  assert.equal(optionalText('description', 'line one\n\tline two', 1024, true), 'line one\n\tline two');
  assert.throws(() => optionalText('description', 'bell\u0007', 1024, true), /description: must not contain/);
  assert.throws(() => optionalText('description', 'a\u202Db', 1024, true), /description: must not contain/);
});
