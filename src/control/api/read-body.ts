// Reads a JSON request body with a size cap: an oversized body is refused with 413 before
// it is buffered (by Content-Length when given, else as soon as the cap is crossed).

import type { IncomingMessage } from 'node:http';
import { WeftError } from '../../core/errors.js';
import { ControlError } from '../store/control-error.js';

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '')
    throw new WeftError('WEFT_CONFIG_READ', 'the request body is empty; send a JSON document');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new WeftError('WEFT_CONFIG_READ', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function tooLarge(maxBytes: number): ControlError {
  return new ControlError(
    'WEFT_API_REQUEST',
    413,
    `the request body is larger than ${maxBytes} bytes; split the apply into smaller batches`,
  );
}
