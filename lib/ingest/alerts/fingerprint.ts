// Alert fingerprints as Alertmanager computes them: the 64-bit FNV-1a hash of
// the label set, written as 16 lowercase hex digits. The algorithm is
// labelSetToFingerprint in github.com/prometheus/common/model/signature.go:
// label names in byte order, each name and each value followed by the byte
// 0xff, which cannot occur in UTF-8. Alertmanager version 4 bodies from
// before the `fingerprint` field existed get the same value this way, so an
// old and a new body of one alert land on the same incident.

const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const SEPARATOR_BYTE = 0xff;

function addByte(hash: bigint, byte: number): bigint {
  return BigInt.asUintN(64, (hash ^ BigInt(byte)) * FNV_PRIME);
}

function addBytes(hash: bigint, bytes: Uint8Array): bigint {
  let result = hash;
  for (const byte of bytes) result = addByte(result, byte);
  return result;
}

/** Computes the 64-bit FNV-1a hash of the bytes as 16 lowercase hex digits. */
export function fnv1a64Hex(bytes: Uint8Array): string {
  return addBytes(FNV_OFFSET_BASIS, bytes).toString(16).padStart(16, "0");
}

/**
 * Computes Alertmanager's fingerprint of a label set. Names are sorted by
 * their UTF-8 bytes, as Go sorts strings.
 */
export function labelSetFingerprint(labels: Record<string, string>): string {
  const encoder = new TextEncoder();
  const names = Object.keys(labels)
    .map((name) => ({ name, bytes: encoder.encode(name) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));

  let hash = FNV_OFFSET_BASIS;
  for (const { name, bytes } of names) {
    hash = addBytes(hash, bytes);
    hash = addByte(hash, SEPARATOR_BYTE);
    hash = addBytes(hash, encoder.encode(labels[name]!));
    hash = addByte(hash, SEPARATOR_BYTE);
  }
  return hash.toString(16).padStart(16, "0");
}
