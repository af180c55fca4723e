import { ToolFailure } from "../errors.js";
import { type LoadedImage, loadImage } from "../images/load-image.js";

/** The selfie and the reference, each as `<prefix>image_path` | `<prefix>image_base64`. */
export interface ImagePairInput {
  user_image_path?: string | undefined;
  user_image_base64?: string | undefined;
  ref_image_path?: string | undefined;
  ref_image_base64?: string | undefined;
}

export interface ImagePair {
  user: LoadedImage;
  ref: LoadedImage;
}

const ROLES = {
  user: { prefix: "user_", name: "the selfie" },
  ref: { prefix: "ref_", name: "the reference image" },
} as const;

/**
 * Loads both images with the one image loader (allowed dirs, 5 MB bound, magic bytes), so nothing is uploaded
 * unless both are valid; a failure names the argument pair it is about.
 */
export async function loadImagePair(
  input: ImagePairInput,
  options: { allowedDirs: readonly string[]; allowHardlinks?: boolean | undefined },
): Promise<ImagePair> {
  const user = await loadRole("user", input.user_image_path, input.user_image_base64, options);
  const ref = await loadRole("ref", input.ref_image_path, input.ref_image_base64, options);
  return { user, ref };
}

async function loadRole(
  role: keyof typeof ROLES,
  imagePath: string | undefined,
  imageBase64: string | undefined,
  options: { allowedDirs: readonly string[]; allowHardlinks?: boolean | undefined },
): Promise<LoadedImage> {
  const { prefix, name } = ROLES[role];
  const pathField = `${prefix}image_path`;
  const base64Field = `${prefix}image_base64`;
  if ((imagePath === undefined) === (imageBase64 === undefined)) {
    throw new ToolFailure(
      "invalid_input",
      imagePath === undefined
        ? `No ${role === "user" ? "selfie" : "reference image"} was given.`
        : `Both ${pathField} and ${base64Field} were given.`,
      `Pass exactly one of ${pathField} (a file inside an allowed directory) or ${base64Field} (raw base64 or a data:image/...;base64, URL) for ${name}.`,
    );
  }
  try {
    return await loadImage({ image_path: imagePath, image_base64: imageBase64 }, options);
  } catch (error) {
    if (!(error instanceof ToolFailure)) throw error;
    throw new ToolFailure(
      error.code,
      `${name.charAt(0).toUpperCase()}${name.slice(1)} (${imagePath === undefined ? base64Field : pathField}): ${error.message}`,
      error.hint,
      error.retryAfterSeconds,
    );
  }
}
