/**
 * The EXIF orientation (1-8) of a JPEG, read from its APP1 segment without decoding, so the view's plain frame has
 * the upright photo's proportions even without the image library. 1 (as stored) when there is none; never throws.
 */
export function jpegOrientation(bytes: Uint8Array): number {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint16(0) !== 0xffd8) return 1;
    let at = 2;
    while (at + 4 <= view.byteLength && view.getUint8(at) === 0xff) {
      const marker = view.getUint8(at + 1);
      const length = view.getUint16(at + 2);
      if (marker === 0xda) return 1; // scan data: no APP1 before it
      if (marker === 0xe1 && view.getUint32(at + 4) === 0x45786966) return tiffOrientation(view, at + 10);
      at += 2 + length;
    }
  } catch {
    // A segment cut short: as stored.
  }
  return 1;
}

/** Tag 0x0112 of IFD0 in the TIFF structure at `start` (the EXIF payload). */
function tiffOrientation(view: DataView, start: number): number {
  const little = view.getUint16(start) === 0x4949;
  const ifd = start + view.getUint32(start + 4, little);
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Orientations 5-8 store the photo turned a quarter: upright, width and height swap. */
export const swapsSides = (orientation: number) => orientation >= 5;
