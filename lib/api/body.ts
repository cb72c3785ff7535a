import { ApiError } from "@/lib/api/errors";
import { findJsonSyntaxError } from "@/lib/api/json-syntax";

// Reads a JSON request body with a size limit. The limit is enforced on the
// bytes actually read from the stream, so a request whose Content-Length
// understates its body is still cut off at the limit.

function payloadTooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `request body is larger than the limit of ${maxBytes} bytes ` +
      "(VIGIL_INGEST_MAX_BODY_BYTES)",
  );
}

/** Reads the body stream into one buffer, rejecting it past maxBytes. */
export async function readBodyBytes(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared)) {
    if (Number(declared) > maxBytes) throw payloadTooLarge(maxBytes);
  }
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }

  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Parses JSON text, reporting a syntax error as a 400 that gives the
 * character position of the first invalid character.
 */
export function parseJsonText(text: string): unknown {
  if (text.trim() === "") {
    throw new ApiError(
      400,
      "invalid_json",
      "invalid JSON at position 0: the request body is empty",
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const syntaxError = findJsonSyntaxError(text);
    const position = syntaxError?.position ?? 0;
    const reason = syntaxError?.reason ?? (error as Error).message;
    throw new ApiError(
      400,
      "invalid_json",
      `invalid JSON at position ${position}: ${reason}`,
    );
  }
}

/** Reads and parses a JSON body of at most maxBytes bytes of UTF-8. */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
): Promise<unknown> {
  const bytes = await readBodyBytes(request, maxBytes);

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(
      400,
      "invalid_json",
      "request body is not valid UTF-8; send JSON encoded as UTF-8",
    );
  }
  return parseJsonText(text);
}
