import { AttnError } from "@attn/core";

/** An IDX array (the MNIST file format): unsigned bytes with their dimensions. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (magic `00 00 08 <rank>`, big-endian int32 dimensions, then the
 * data). `source` names the file in errors. Other element types are rejected: Fashion-MNIST uses only ubyte.
 */
export function parseIdx(bytes: Uint8Array, source = "idx"): IdxArray {
  if (bytes.length < 4) throw new AttnError(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new AttnError(`${source}: not an IDX file (magic starts ${hex(bytes[0])} ${hex(bytes[1])}, expected 00 00); is it still gzipped?`);
  if (bytes[2] !== 0x08) throw new AttnError(`${source}: IDX element type 0x${hex(bytes[2])} is not supported (expected 0x08, unsigned byte)`);
  const rank = bytes[3];
  const header = 4 + 4 * rank;
  if (rank < 1 || bytes.length < header) throw new AttnError(`${source}: IDX header declares ${rank} dimension(s) but the file has ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header !== size) throw new AttnError(`${source}: dimensions ${dims.join("×")} need ${size} data bytes, the file has ${bytes.length - header}`);
  return { dims, data: bytes.subarray(header) };
}

function hex(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, "0");
}
