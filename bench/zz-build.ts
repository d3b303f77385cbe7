import { parseCidr } from '../src/net/cidr.ts';
import { formatIp } from '../src/net/ip.ts';
import { PrefixSetBuilder } from '../src/net/prefix-set.ts';
let s = 12345;
const r = () => { s = (s + 0x9e3779b9) >>> 0; let z = s; z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0; z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0; return (z ^ (z >>> 16)) >>> 0; };
const N = 390000; const entries = [];
for (let i = 0; i < N; i++) {
  const label = i % 195;
  let text;
  if (i % 2 === 0) text = `${formatIp({ family: 4, value: r() })}/${r() % 4 === 0 ? 9 + (r() % 15) : 24 + (r() % 9)}`;
  else text = `${formatIp({ family: 6, value: (BigInt(0x20000000 | (r() & 0x1fffffff)) << 96n) | (BigInt(r()) << 64n) | (BigInt(r()) << 32n) | BigInt(r()) })}/${r() % 4 === 0 ? 65 + (r() % 64) : 32 + (r() % 33)}`;
  entries.push({ cidr: parseCidr(text), label });
}
for (let k = 0; k < 4; k++) {
  const t = performance.now();
  const b = new PrefixSetBuilder();
  for (const e of entries) b.add(e.cidr, e.label);
  const t1 = performance.now();
  const set = b.build();
  console.log('add', (t1 - t).toFixed(0), 'build', (performance.now() - t1).toFixed(0), set.stats());
}
