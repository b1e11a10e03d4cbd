import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../exit-codes.js';
import type { Io } from '../io.js';

/** Reads all of a stream (stdin) into one Buffer. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * znode data from the command line: the argument itself, `-` for stdin, or `--file`.
 * Returns undefined when none was given.
 */
export async function dataArg(io: Io, raw: readonly string[], data: string | undefined, file: string | undefined): Promise<Buffer | undefined> {
  // yargs hands a lone `-` over as '' — look at what was typed.
  if (data === '' && raw.includes('-')) data = '-';
  if (data !== undefined && file !== undefined) throw new UsageError('give the data either as an argument or with --file, not both');
  if (file !== undefined) {
    try {
      return await readFile(resolve(io.cwd, file));
    } catch (err) {
      throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (data === '-') return readAll(io.stdin);
  return data === undefined ? undefined : Buffer.from(data, 'utf8');
}
