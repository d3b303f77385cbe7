// A minimal MaxMind DB (MMDB) writer for tests: builds small fixture databases in memory with any record shape.
// Follows the MaxMind DB File Format Specification 2.0 (maxmind.github.io/MaxMind-DB); npm has no maintained writer.

/** A value the data section can hold: maps, arrays, UTF-8 strings, unsigned integers, doubles and booleans. */
export type MmdbValue =
  | string
  | number
  | bigint
  | boolean
  | readonly MmdbValue[]
  | { readonly [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** CIDR text, e.g. `8.8.8.0/24` or `2001:4860::/32`. In an IPv6 tree an IPv4 prefix sits under `::/96`. */
  readonly prefix: string;
  readonly data: MmdbValue;
}

export interface MmdbOptions {
  readonly databaseType: string;
  readonly ipVersion?: 4 | 6;
  readonly recordSize?: 24 | 28 | 32;
  /** Seconds since the Unix epoch. */
  readonly buildEpoch?: number;
  readonly description?: string;
  readonly networks: readonly MmdbNetwork[];
}

// A record of the tree is empty, a child node, or a record in the data section (by index into `datas`).
type Slot = { kind: 'empty' } | { kind: 'node'; node: TreeNode } | { kind: 'data'; index: number };
interface TreeNode {
  slots: [Slot, Slot];
  number: number;
}

const metadataMarker = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // "\xAB\xCD\xEFMaxMind.com", spec §Metadata
const dataSectionSeparator = Buffer.alloc(16); // spec §Data Section Separator

/** Builds an MMDB file. Networks must not overlap; that is all a test needs and keeps the tree trivial. */
export function writeMmdb(options: MmdbOptions): Buffer {
  const ipVersion = options.ipVersion ?? 6;
  const recordSize = options.recordSize ?? 24;
  const root: TreeNode = { slots: [{ kind: 'empty' }, { kind: 'empty' }], number: 0 };

  const datas: Buffer[] = [];
  for (const network of options.networks) {
    const bits = prefixBits(network.prefix, ipVersion);
    datas.push(encode(network.data));
    insert(root, bits, datas.length - 1, network.prefix);
  }

  const nodes = numberNodes(root);
  const nodeCount = nodes.length;
  const dataOffsets: number[] = [];
  let offset = 0;
  for (const data of datas) {
    dataOffsets.push(offset);
    offset += data.length;
  }
  // Spec §Search Tree Section: a record equal to node_count means "no data"; one above it points into the data
  // section at (record - node_count - 16).
  const recordValue = (slot: Slot): number => {
    if (slot.kind === 'empty') return nodeCount;
    if (slot.kind === 'node') return slot.node.number;
    return nodeCount + 16 + dataOffsets[slot.index];
  };
  const nodeBytes = recordSize / 4;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  for (const node of nodes) {
    writeNode(tree, node.number * nodeBytes, recordSize, recordValue(node.slots[0]), recordValue(node.slots[1]));
  }

  // Spec §Database Metadata: these keys have fixed types, so they are encoded one by one.
  const metadata = map([
    ['node_count', uint(6, BigInt(nodeCount))],
    ['record_size', uint(5, BigInt(recordSize))],
    ['ip_version', uint(5, BigInt(ipVersion))],
    ['database_type', encode(options.databaseType)],
    ['languages', encode(['en'])],
    ['binary_format_major_version', uint(5, 2n)],
    ['binary_format_minor_version', uint(5, 0n)],
    ['build_epoch', uint(9, BigInt(options.buildEpoch ?? 1_767_225_600))],
    ['description', encode({ en: options.description ?? 'Portcullis test fixture' })],
  ]);

  return Buffer.concat([tree, dataSectionSeparator, ...datas, metadataMarker, metadata]);
}

function insert(root: TreeNode, bits: readonly number[], index: number, prefix: string): void {
  let node = root;
  for (let depth = 0; depth < bits.length; depth++) {
    const side = bits[depth];
    const slot = node.slots[side];
    if (depth === bits.length - 1) {
      if (slot.kind !== 'empty') throw new Error(`write-mmdb: network ${prefix} overlaps another one`);
      node.slots[side] = { kind: 'data', index };
      return;
    }
    if (slot.kind === 'data') throw new Error(`write-mmdb: network ${prefix} overlaps another one`);
    if (slot.kind === 'empty') {
      const child: TreeNode = { slots: [{ kind: 'empty' }, { kind: 'empty' }], number: -1 };
      node.slots[side] = { kind: 'node', node: child };
      node = child;
    } else {
      node = slot.node;
    }
  }
  throw new Error(`write-mmdb: network ${prefix} has prefix length 0`);
}

function numberNodes(root: TreeNode): TreeNode[] {
  const nodes: TreeNode[] = [];
  const queue = [root];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    next.number = nodes.length;
    nodes.push(next);
    for (const slot of next.slots) if (slot.kind === 'node') queue.push(slot.node);
  }
  return nodes;
}

// Spec §Node Layout: 24-bit records are two 3-byte big-endian values; 28-bit ones share the middle byte, its high
// nibble holding the left record's top bits; 32-bit ones are two 4-byte values.
function writeNode(tree: Buffer, at: number, recordSize: number, left: number, right: number): void {
  if (recordSize === 24) {
    tree.writeUIntBE(left, at, 3);
    tree.writeUIntBE(right, at + 3, 3);
  } else if (recordSize === 28) {
    tree.writeUIntBE(left & 0xff_ffff, at, 3);
    tree[at + 3] = ((left >>> 24) << 4) | (right >>> 24);
    tree.writeUIntBE(right & 0xff_ffff, at + 4, 3);
  } else {
    tree.writeUInt32BE(left, at);
    tree.writeUInt32BE(right, at + 4);
  }
}

function prefixBits(prefix: string, ipVersion: 4 | 6): number[] {
  const [address, lengthText] = prefix.split('/');
  const length = Number(lengthText);
  let bytes: number[];
  let offset = 0;
  if (address.includes(':')) {
    if (ipVersion === 4) throw new Error(`write-mmdb: IPv6 network ${prefix} in an IPv4 database`);
    bytes = ipv6Bytes(address);
  } else {
    bytes = address.split('.').map(Number);
    if (ipVersion === 6) {
      // Spec §IPv4 addresses in an IPv6 tree: they live at ::/96.
      bytes = [...Array(12).fill(0), ...bytes];
      offset = 96;
    }
  }
  const bits: number[] = [];
  for (let i = 0; i < offset + length; i++) bits.push((bytes[i >> 3] >> (7 - (i & 7))) & 1);
  return bits;
}

function ipv6Bytes(text: string): number[] {
  const [head, tail = ''] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

// Spec §Output Data Section. Type numbers: 2 string, 3 double, 5 uint16, 6 uint32, 7 map; extended 9 uint64,
// 11 array, 14 boolean.
function encode(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (typeof value === 'bigint') return uint(9, value);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return uint(6, BigInt(value));
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(3, 8), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  const entries = Object.entries(value as { readonly [key: string]: MmdbValue });
  return map(entries.map(([key, item]) => [key, encode(item)]));
}

function map(entries: readonly (readonly [string, Buffer])[]): Buffer {
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([key, item]) => [encode(key), item])]);
}

function uint(type: number, value: bigint): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

// Spec §Data Field Format: three type bits and five size bits; types above 7 go in a following byte as (type - 7);
// sizes of 29 and more spill into one to three further bytes.
function control(type: number, size: number): Buffer {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) {
    sizeBits = size;
  } else if (size < 285) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 65_821) {
    sizeBits = 30;
    extra.push((size - 285) >> 8, (size - 285) & 0xff);
  } else {
    sizeBits = 31;
    const rest = size - 65_821;
    extra.push(rest >> 16, (rest >> 8) & 0xff, rest & 0xff);
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return Buffer.from([...head, ...extra]);
}
