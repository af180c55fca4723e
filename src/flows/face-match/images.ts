import { ToolFailure } from "../../core/errors.js";
import {
  type ImageObserver,
  type LoadedImage,
  type LoadImageOptions,
  loadImage,
} from "../../images/load-image.js";

/** The selfie and the reference, each as `<prefix>image_path` | `<prefix>image_base64` | `<prefix>image_url`. */
export interface ImagePairInput {
  user_image_path?: string | undefined;
  user_image_base64?: string | undefined;
  user_image_url?: string | undefined;
  ref_image_path?: string | undefined;
  ref_image_base64?: string | undefined;
  ref_image_url?: string | undefined;
}

export interface ImagePair {
  user: LoadedImage;
  ref: LoadedImage;
}

const ROLES = {
  user: { prefix: "user_", name: "the selfie", noun: "selfie" },
  ref: { prefix: "ref_", name: "the reference image", noun: "reference image" },
} as const;

/**
 * Loads both images with the one image loader (allowed dirs, URL policy, 5 MB bound, magic bytes), so nothing is
 * uploaded unless both are valid; a failure names the argument it is about.
 */
export async function loadImagePair(
  input: ImagePairInput,
  options: LoadImageOptions,
  onLoaded?: ImageObserver,
): Promise<ImagePair> {
  const user = await loadRole(
    "user",
    input.user_image_path,
    input.user_image_base64,
    input.user_image_url,
    options,
  );
  const ref = await loadRole(
    "ref",
    input.ref_image_path,
    input.ref_image_base64,
    input.ref_image_url,
    options,
  );
  onLoaded?.("user", user);
  onLoaded?.("ref", ref);
  return { user, ref };
}

async function loadRole(
  role: keyof typeof ROLES,
  imagePath: string | undefined,
  imageBase64: string | undefined,
  imageUrl: string | undefined,
  options: LoadImageOptions,
): Promise<LoadedImage> {
  const { prefix, name, noun } = ROLES[role];
  const fields = [`${prefix}image_path`, `${prefix}image_base64`, `${prefix}image_url`] as const;
  const given = [imagePath, imageBase64, imageUrl];
  const count = given.filter((v) => v !== undefined).length;
  if (count !== 1) {
    throw new ToolFailure(
      "invalid_input",
      count === 0 ? `No ${noun} was given.` : `More than one of ${fields.join(", ")} was given.`,
      `Pass exactly one of ${fields[0]} (a file inside an allowed directory), ${fields[1]} (raw base64 or a data:image/...;base64, URL) or ${fields[2]} (an https:// link) for ${name}.`,
    );
  }
  const field = fields[given.findIndex((v) => v !== undefined)];
  try {
    return await loadImage(
      { image_path: imagePath, image_base64: imageBase64, image_url: imageUrl },
      options,
    );
  } catch (error) {
    if (!(error instanceof ToolFailure)) throw error;
    throw new ToolFailure(
      error.code,
      `${name.charAt(0).toUpperCase()}${name.slice(1)} (${field}): ${error.message}`,
      error.hint,
      error.retryAfterSeconds,
    );
  }
}
