import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

/**
 * A real, small PNG that looks like a QR code (finder squares plus modules derived from the value).
 * Not scannable: the fake only needs WAHA's content type and a valid image to show.
 */

const MODULES = 25;
const QUIET = 4;
const SCALE = 6;

let crcTable: Uint32Array | undefined;

function crc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

function isFinder(row: number, col: number): boolean | undefined {
  for (const [top, left] of [
    [0, 0],
    [0, MODULES - 7],
    [MODULES - 7, 0],
  ] as const) {
    const r = row - top;
    const c = col - left;
    if (r >= 0 && r < 7 && c >= 0 && c < 7) {
      const ring = Math.min(r, c, 6 - r, 6 - c);
      return ring !== 1; // outer ring dark, then light, then a dark 3x3 core
    }
  }
  return undefined;
}

export function qrLikePng(value: string): Buffer {
  const digest = createHash("sha256").update(value).digest();
  const size = (MODULES + 2 * QUIET) * SCALE;
  const raw = Buffer.alloc((size + 1) * size, 0xff);
  for (let y = 0; y < size; y++) {
    raw[y * (size + 1)] = 0; // filter: none
    const row = Math.floor(y / SCALE) - QUIET;
    for (let x = 0; x < size; x++) {
      const col = Math.floor(x / SCALE) - QUIET;
      if (row < 0 || col < 0 || row >= MODULES || col >= MODULES) continue;
      const index = row * MODULES + col;
      const dark = isFinder(row, col) ?? ((digest[index % digest.length]! >> index % 8) & 1) === 1;
      if (dark) raw[y * (size + 1) + 1 + x] = 0;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
