/** The largest image we read, decode or upload: Didit's own limit for one image. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
