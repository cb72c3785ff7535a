// Turns an OTLP AnyValue into the text of a label value, the same way for
// the JSON and the protobuf decoder. Scalars become plain text: strings as
// they are, booleans as "true" or "false", integers in decimal with every
// digit kept, doubles as JavaScript prints them ("0.5", "NaN") and bytes in
// base64. Arrays and key-value lists become JSON, such as ["a",1] or
// {"k":"v"}, built from the JSON fragments below.

/** Label text of a double attribute value. */
export function formatDouble(value: number): string {
  return String(value);
}

/** JSON fragment of a string inside an array or key-value list. */
export function stringFragment(value: string): string {
  return JSON.stringify(value);
}

/**
 * JSON fragment of a double inside an array or key-value list. NaN and the
 * infinities have no JSON number form, so they become the strings "NaN",
 * "Infinity" and "-Infinity", as in the protobuf JSON mapping.
 */
export function doubleFragment(value: number): string {
  return Number.isFinite(value) ? String(value) : `"${String(value)}"`;
}

/** JSON fragment of an array from the fragments of its values. */
export function arrayFragment(values: readonly string[]): string {
  return `[${values.join(",")}]`;
}

/** JSON fragment of a key-value list from its keys and value fragments. */
export function keyValueListFragment(
  keys: readonly string[],
  values: readonly string[],
): string {
  const members = keys.map((key, i) => `${JSON.stringify(key)}:${values[i]}`);
  return `{${members.join(",")}}`;
}
