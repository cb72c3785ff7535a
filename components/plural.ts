import { formatNumber } from "@/components/format";

/** A noun's singular and plural forms, such as ["incident", "incidents"]. */
export type NounForms = readonly [singular: string, plural: string];

/** Returns the singular form for exactly 1 and the plural form otherwise. */
export function pluralize(count: number, [singular, plural]: NounForms) {
  return count === 1 ? singular : plural;
}

/** Formats a count with its noun, e.g. "1 incident" or "1,204 incidents". */
export function formatCount(count: number, forms: NounForms): string {
  return `${formatNumber(count)} ${pluralize(count, forms)}`;
}
