// Named locations: the list, and an editor for IP ranges (optionally trusted) and countries.
import { useState } from 'preact/hooks';
import { graph, type Page } from '../api.ts';
import {
  Checkbox,
  ErrorMessage,
  FormAlert,
  formatDate,
  PageHeading,
  Radios,
  Status,
  TextField,
  useLoad,
} from '../components.tsx';
import { type FormErrors, formErrors, NO_ERRORS } from '../errors.ts';
import { go, href } from '../router.ts';

const IP = '#microsoft.graph.ipNamedLocation';
const COUNTRY = '#microsoft.graph.countryNamedLocation';
const BASE = '/identity/conditionalAccess/namedLocations';

export interface NamedLocation {
  id: string;
  '@odata.type': string;
  displayName: string;
  isTrusted?: boolean;
  ipRanges?: { '@odata.type'?: string; cidrAddress: string }[];
  countriesAndRegions?: string[];
  includeUnknownCountriesAndRegions?: boolean;
  countryLookupMethod?: string;
  modifiedDateTime?: string;
}

export function LocationsPage() {
  const list = useLoad(() => graph<Page<NamedLocation>>('GET', `${BASE}?$top=999`));
  return (
    <>
      <PageHeading>Named locations</PageHeading>
      <p>Places that Conditional Access policies name: IP ranges (which may be marked trusted) and countries.</p>
      <p class="actions">
        <a class="button" href={href('locations', 'new', 'ip')}>
          New IP ranges location
        </a>
        <a class="button" href={href('locations', 'new', 'country')}>
          New countries location
        </a>
      </p>
      <ErrorMessage error={list.error} />
      {list.loading ? <Status>Loading…</Status> : null}
      {list.value ? (
        <table>
          <caption>{list.value.value.length} named locations</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Trusted</th>
              <th scope="col">Ranges or countries</th>
              <th scope="col">Modified</th>
            </tr>
          </thead>
          <tbody>
            {list.value.value.map((l) => (
              <tr key={l.id}>
                <td>
                  <a href={href('locations', l.id)}>{l.displayName}</a>
                </td>
                <td>{l['@odata.type'] === IP ? 'IP ranges' : 'Countries'}</td>
                <td>{l.isTrusted ? 'Trusted' : '—'}</td>
                <td>
                  {l['@odata.type'] === IP
                    ? (l.ipRanges ?? []).map((r) => r.cidrAddress).join(', ')
                    : (l.countriesAndRegions ?? []).join(', ') +
                      (l.includeUnknownCountriesAndRegions ? ' (and unknown)' : '')}
                </td>
                <td>{formatDate(l.modifiedDateTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

const FIELDS = [
  'displayName',
  'isTrusted',
  'ipRanges',
  'countriesAndRegions',
  'includeUnknownCountriesAndRegions',
  'countryLookupMethod',
  '@odata.type',
];

function lines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function LocationEditor(props: { id: string; kind?: string }) {
  const isNew = props.id === 'new';
  const loaded = useLoad(
    () =>
      isNew
        ? Promise.resolve<NamedLocation>({
            id: '',
            '@odata.type': props.kind === 'country' ? COUNTRY : IP,
            displayName: '',
            isTrusted: false,
            ipRanges: [],
            countriesAndRegions: [],
            includeUnknownCountriesAndRegions: false,
            countryLookupMethod: 'clientIpAddress',
          })
        : graph<NamedLocation>('GET', `${BASE}/${encodeURIComponent(props.id)}`),
    [props.id],
  );
  if (loaded.error) {
    return (
      <>
        <PageHeading>Named location</PageHeading>
        <ErrorMessage error={loaded.error} />
      </>
    );
  }
  if (!loaded.value) return <Status>Loading…</Status>;
  return <LocationForm initial={loaded.value} isNew={isNew} />;
}

function LocationForm(props: { initial: NamedLocation; isNew: boolean }) {
  const { initial, isNew } = props;
  const ip = initial['@odata.type'] === IP;
  const [name, setName] = useState(initial.displayName);
  const [trusted, setTrusted] = useState(initial.isTrusted === true);
  const [ranges, setRanges] = useState((initial.ipRanges ?? []).map((r) => r.cidrAddress).join('\n'));
  const [countries, setCountries] = useState((initial.countriesAndRegions ?? []).join('\n'));
  const [unknown, setUnknown] = useState(initial.includeUnknownCountriesAndRegions === true);
  const [lookup, setLookup] = useState(initial.countryLookupMethod ?? 'clientIpAddress');
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);

  function body(): Record<string, unknown> {
    if (ip) {
      return {
        '@odata.type': IP,
        displayName: name,
        isTrusted: trusted,
        ipRanges: lines(ranges).map((cidr) => ({
          '@odata.type': cidr.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange',
          cidrAddress: cidr,
        })),
      };
    }
    return {
      '@odata.type': COUNTRY,
      displayName: name,
      countriesAndRegions: lines(countries).map((c) => c.toUpperCase()),
      includeUnknownCountriesAndRegions: unknown,
      countryLookupMethod: lookup,
    };
  }

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      if (isNew) await graph('POST', BASE, body());
      else await graph('PATCH', `${BASE}/${encodeURIComponent(initial.id)}`, body());
      go('locations');
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!confirm(`Delete the named location '${initial.displayName}'?`)) return;
    try {
      await graph('DELETE', `${BASE}/${encodeURIComponent(initial.id)}`);
      go('locations');
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
    }
  }

  const f = (key: string) => errors.fields[key];
  return (
    <>
      <PageHeading>
        {isNew ? (ip ? 'New IP ranges location' : 'New countries location') : `Named location: ${initial.displayName}`}
      </PageHeading>
      <p>
        <a href={href('locations')}>Back to named locations</a>
      </p>
      <form onSubmit={save} noValidate>
        <FormAlert errors={errors} />
        <TextField label="Name" value={name} onInput={setName} errors={f('displayName')} required />
        {ip ? (
          <>
            <TextField
              label="IP ranges (CIDR, one per line)"
              hint="For example 198.51.100.0/24 or 2001:db8::/48. Prefixes must be longer than /8."
              value={ranges}
              onInput={setRanges}
              errors={f('ipRanges')}
              multiline
            />
            <Checkbox label="Mark as trusted location" checked={trusted} onChange={setTrusted} />
            {f('isTrusted') ? <ErrorMessage error={new Error(f('isTrusted').join('; '))} /> : null}
          </>
        ) : (
          <>
            <TextField
              label="Countries and regions (ISO 3166 two-letter codes, one per line)"
              hint="For example FR, DE, US."
              value={countries}
              onInput={setCountries}
              errors={f('countriesAndRegions')}
              multiline
            />
            <Checkbox label="Include unknown countries and regions" checked={unknown} onChange={setUnknown} />
            <Radios
              legend="Determine the country by"
              value={lookup}
              onChange={setLookup}
              options={[
                { value: 'clientIpAddress', label: 'IP address' },
                { value: 'authenticatorAppGps', label: 'GPS coordinates (not evaluated by Portcullis)' },
              ]}
              errors={f('countryLookupMethod')}
            />
          </>
        )}
        <p class="actions">
          <button type="submit" disabled={busy}>
            {isNew ? 'Create' : 'Save'}
          </button>
          {isNew ? null : (
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete
            </button>
          )}
        </p>
      </form>
    </>
  );
}
