import type protobuf from "protobufjs";

// Pieces shared by the hand-written protobuf decoders of remote write and
// OTLP, which walk the wire format with protobufjs's Reader instead of
// building message objects.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;

/** Malformed wire format. The decoder adds where it happened. */
export class WireFormatError extends Error {}

/**
 * Tells malformed input apart from a bug in a decoder. Besides
 * WireFormatError, protobufjs's Reader throws RangeError past the end of
 * the data and Error for an invalid tag or wire type, and stringVerify
 * throws TextDecoder's TypeError for invalid UTF-8.
 */
export function isWireFormatError(error: unknown): error is Error {
  if (error instanceof WireFormatError || error instanceof RangeError) {
    return true;
  }
  if (error instanceof TypeError) {
    return (
      (error as NodeJS.ErrnoException).code ===
      "ERR_ENCODING_INVALID_ENCODED_DATA"
    );
  }
  return error instanceof Error && error.constructor === Error;
}

export function expectWireType(
  wireType: number,
  expected: number,
  field: number,
): void {
  if (wireType !== expected) {
    throw new WireFormatError(
      `field ${field} has wire type ${wireType}, expected ${expected}`,
    );
  }
}

/**
 * Limits the reader to the length-delimited field that starts here and
 * returns the outer limit, for endMessage to restore. Reads past the field
 * then fail instead of running into the next one.
 */
export function beginMessage(reader: protobuf.Reader): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) {
    throw new WireFormatError(
      `length ${length} runs past the end of the enclosing message`,
    );
  }
  const outer = reader.len;
  reader.len = end;
  return outer;
}

export function endMessage(reader: protobuf.Reader, outer: number): void {
  reader.len = outer;
}
