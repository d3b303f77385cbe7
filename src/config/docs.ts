// Generates docs/configuration.md from the schema, so the documentation cannot drift from what is validated:
// `npx node src/config/docs.ts > docs/configuration.md` (docs.test.ts fails when the committed file is stale).

import { CONFIG_FILE_ENV } from './load.ts';
import type { OptionSpec, Options, SectionSpec } from './option.ts';
import { schema } from './schema.ts';

export function renderConfigurationDoc(): string {
  const out: string[] = [];
  out.push(
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npx node src/config/docs.ts > docs/configuration.md`. Do not edit. -->',
    '',
    'Portcullis reads a YAML file (the one the command line names, or the one named by ' +
      `\`${CONFIG_FILE_ENV}\`), then \`PORTCULLIS_*\` environment variables, then the command-line flags ` +
      '`--data-dir`, `--port` and `--public-url`; each overrides the one before. Every option has a default, so no ' +
      'file is needed.',
    '',
    'At start-up the whole configuration is checked and every problem is reported at once, naming the option and the ' +
      "bad value (`option 'port' must be an integer between 1 and 65535 but it's configured as '70000'`). Unknown " +
      'options in the file are problems too, so a misspelt option is never silently ignored; an unknown ' +
      '`PORTCULLIS_*` environment variable is reported as a warning. An option left empty in YAML (`publicUrl:` with ' +
      'no value), or an empty environment variable, means "not set". Insecure settings (no master key, plain HTTP on ' +
      'a public address, listening on every interface without TLS or trusted proxies) are allowed but logged as ' +
      'warnings at every start.',
    '',
    'Secret values (the master key, the password in a PostgreSQL URL) never appear in error messages or logs.',
    '',
  );
  out.push('## Options', '');
  renderSection(schema, [], out);
  out.push('## Example', '', 'Every option at its default; options without one are commented out.', '', '```yaml');
  renderExample(schema, 0, out);
  out.push('```', '');
  return out.join('\n');
}

function renderSection(section: SectionSpec<Options>, path: readonly string[], out: string[]): void {
  if (path.length > 0) out.push(`### \`${path.join('.')}\``, '', section.doc, '');
  const options = Object.entries(section.options);
  for (const [key, spec] of options) {
    if (spec.kind === 'option') renderOption(spec, [...path, key], out);
  }
  for (const [key, spec] of options) {
    if (spec.kind === 'section') renderSection(spec, [...path, key], out);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: options of every value type are documented alike.
function renderOption(spec: OptionSpec<any>, path: readonly string[], out: string[]): void {
  const heading = path.length === 1 ? '###' : '####';
  out.push(`${heading} \`${path.join('.')}\``, '', spec.doc, '');
  out.push(`- Default: ${defaultText(spec)}`);
  out.push(`- Values: ${spec.type}`);
  out.push(`- Environment: \`${spec.env}\``);
  if (spec.flag !== undefined) out.push(`- Flag: \`--${spec.flag}\``);
  out.push('');
}

// biome-ignore lint/suspicious/noExplicitAny: see renderOption.
function defaultText(spec: OptionSpec<any>): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value: unknown = spec.default;
  if (Array.isArray(value) && value.length === 0) return 'empty list';
  return `\`${String(value)}\``;
}

function renderExample(section: SectionSpec<Options>, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth);
  for (const [key, spec] of Object.entries(section.options)) {
    if (spec.kind === 'section') {
      out.push(`${indent}${key}:`);
      renderExample(spec, depth + 1, out);
      continue;
    }
    const value: unknown = spec.default;
    if (value === undefined) out.push(`${indent}# ${key}:`);
    else if (Array.isArray(value)) out.push(`${indent}${key}: []`);
    else if (typeof value === 'string') out.push(`${indent}${key}: ${JSON.stringify(value)}`);
    else out.push(`${indent}${key}: ${String(value)}`);
  }
}

if (import.meta.main) process.stdout.write(renderConfigurationDoc());
