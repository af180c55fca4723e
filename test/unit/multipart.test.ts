import { describe, expect, it } from "vitest";
import { encodeMultipart } from "../../src/didit/multipart.js";

describe("encodeMultipart", () => {
  const file = {
    field: "user_image",
    filename: "image.jpg",
    contentType: "image/jpeg",
    bytes: Buffer.from("JPEGDATA"),
  };

  it("encodes fields then the file, with the boundary from its own Content-Type", () => {
    const body = encodeMultipart(
      [
        ["rotate_image", "true"],
        ["metadata", '{"a":"x\\ny"}'],
      ],
      file,
    );
    const boundary = /boundary=(.+)$/.exec(body.contentType)?.[1] ?? "";
    expect(boundary).toMatch(/^----didit-liveness-[0-9a-f]{32}$/);
    const text = Buffer.concat(body.chunks).toString("utf8");
    expect(body.length).toBe(Buffer.byteLength(text));
    expect(text).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="rotate_image"\r\n\r\ntrue\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"a":"x\\ny"}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="user_image"; filename="image.jpg"\r\n` +
        `Content-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--${boundary}--\r\n`,
    );
  });

  it("references the image bytes instead of copying them", () => {
    const body = encodeMultipart([], file);
    expect(body.chunks[1]).toBe(file.bytes);
  });

  it("percent-encodes quotes and line breaks in names", () => {
    const body = encodeMultipart([], { ...file, filename: 'a"b\r\nc.jpg' });
    expect(Buffer.concat(body.chunks).toString()).toContain('filename="a%22b%0D%0Ac.jpg"');
  });

  it("picks a fresh boundary each time", () => {
    expect(encodeMultipart([], file).contentType).not.toBe(encodeMultipart([], file).contentType);
  });
});
