// Quotes untrusted input for error messages: bounded length and control characters escaped, so a hostile header
// cannot flood or forge log lines through an error message.

const MAX_SHOWN = 64;

export function quote(input: string): string {
  const shown = input.length > MAX_SHOWN ? `${input.slice(0, MAX_SHOWN)}…` : input;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  const escaped = shown.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `'${escaped}'`;
}
