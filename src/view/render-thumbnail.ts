import { decodeBounded, type Sharp } from "../images/bounded-decode.js";
import { THUMBNAIL_MAX_SIDE } from "./contract.js";

export interface Thumbnail {
  jpeg: Uint8Array;
  /** The frame the face boxes are in: the upright photo turned by the angle, at full size. */
  width: number;
  height: number;
}

/** Loads the optional image library (sharp, the pre-check's); undefined when it is not installed. */
export type LoadSharp = () => Promise<Sharp | undefined>;

let sharpOnce: Promise<Sharp | undefined> | undefined;

/** sharp, imported on the first thumbnail only (never at start-up), and remembered, found or not. */
export const loadInstalledSharp: LoadSharp = () => {
  sharpOnce ??= import("sharp").then(
    (module) => (module.default ?? module) as Sharp,
    () => undefined,
  );
  return sharpOnce;
};

/**
 * A JPEG of at most THUMBNAIL_MAX_SIDE px a side: EXIF orientation applied, then turned clockwise by `angle` (the
 * result's best_angle), so the boxes Didit or the pre-check report line up. Decoded within the server's one set of
 * decode limits.
 */
export function renderThumbnail(sharp: Sharp, bytes: Uint8Array, angle: number): Promise<Thumbnail> {
  return decodeBounded(sharp, bytes, async (input, upright) => {
    const turned = angle === 90 || angle === 270;
    // One rotation per sharp pipeline: orient and shrink first, then turn the small raw image.
    const small = await input
      .rotate()
      .resize({
        width: THUMBNAIL_MAX_SIDE,
        height: THUMBNAIL_MAX_SIDE,
        fit: "inside",
        withoutEnlargement: true,
      })
      .flatten({ background: "#ffffff" })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { width: small.info.width, height: small.info.height, channels: small.info.channels };
    const pipeline = sharp(small.data, { raw });
    const data = await (angle === 0 ? pipeline : pipeline.rotate(angle)).jpeg({ quality: 72 }).toBuffer();
    return {
      jpeg: data,
      width: turned ? upright.height : upright.width,
      height: turned ? upright.width : upright.height,
    };
  });
}
