// The verdict view in a real browser: headless Debian chromium (driven by playwright-core) loads a small host page that
// renders the view with the extension's own AppBridge from a real sandbox server's tool results, forwarding the view's
// tool calls to that server. Checks what a person sees; keeps a screenshot per outcome and theme in
// test-artifacts/view/. In the slow set: `npx vitest run test/browser/view.test.ts`.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { build } from "esbuild";
import { type Browser, chromium, type FrameLocator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandboxClient } from "../../src/didit/sandbox-client.js";
import { isPrecheckEngineAvailable } from "../../src/precheck/loader.js";
import { VIEW_META_KEY, VIEW_URI, type ViewMeta } from "../../src/view/contract.js";
import { CHROMIUM_PATH, ensureChromium } from "../support/chromium.js";
import { FIXTURES, type InMemorySession, startInMemory, testConfig } from "../support/in-memory.js";
import type { HostGlobals, RenderRequest } from "./host-contract.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ARTIFACTS = path.join(ROOT, "test-artifacts", "view");
const unavailable = ensureChromium();
if (unavailable) process.stderr.write(`browser test skipped: ${unavailable}\n`);

let browser: Browser;
let page: Page;
let html: string;
let session: InMemorySession;
let noThumbnails: InMemorySession;
/** Every tool call the host page forwarded from the view to the server, in order. */
const forwarded: { name: string; arguments?: Record<string, unknown> }[] = [];
let forwardTo: InMemorySession;
/** Any request the page made beyond about: and data: (there must be none). */
const fetched: string[] = [];

describe.skipIf(unavailable !== undefined)("the verdict view in chromium", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const config = testConfig({ sandbox: true, allowedDirs: [FIXTURES] });
    session = await startInMemory(config, createSandboxClient());
    noThumbnails = await startInMemory({ ...config, viewThumbnails: false }, createSandboxClient());
    const read = await session.client.readResource({ uri: VIEW_URI });
    html = (read.contents[0] as { text: string }).text;
    const host = await build({
      absWorkingDir: ROOT,
      entryPoints: ["test/browser/page/host.ts"],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      logLevel: "warning",
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 680, height: 2000 } });
    page.on("request", (request) => {
      if (!/^(about|data):/.test(request.url())) fetched.push(request.url());
    });
    await page.exposeFunction("forwardToolCall", async (params: (typeof forwarded)[number]) => {
      forwarded.push(params);
      return forwardTo.client.callTool(params);
    });
    await page.setContent("<!doctype html><html><body></body></html>");
    await page.addScriptTag({ content: host.outputFiles[0]?.text ?? "", type: "module" });
    await page.waitForFunction(() => typeof (globalThis as unknown as HostGlobals).renderView === "function");
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await session?.close();
    await noThumbnails?.close();
  });

  /** Calls the tool on the real server, then has the host page render the view from that result. */
  async function show(
    tool: string,
    args: Record<string, unknown>,
    theme: "light" | "dark",
    on: InMemorySession = session,
  ): Promise<{ view: FrameLocator; result: CallToolResult }> {
    forwardTo = on;
    const result = (await on.client.callTool({ name: tool, arguments: args })) as CallToolResult;
    const request: RenderRequest = { html, toolName: tool, args, result, theme };
    await page.evaluate((r) => (globalThis as unknown as HostGlobals).renderView(r), request);
    const view = page.frameLocator("#view");
    await view.getByTestId("verdict").waitFor();
    return { view, result };
  }

  /** A screenshot of the whole view, once the host has sized the frame to the content it reported. */
  async function screenshot(view: FrameLocator, name: string): Promise<void> {
    const main = view.locator("main");
    await expect
      .poll(async () => {
        const [frame, content] = await Promise.all([page.locator("#view").boundingBox(), main.boundingBox()]);
        return (frame?.height ?? 0) >= Math.floor(content?.height ?? Number.POSITIVE_INFINITY);
      })
      .toBe(true);
    await page.locator("#view").screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    expect(fetched).toEqual([]);
  }

  /** Where the scored face's box sits on its photo, as fractions of the photo's width and height. */
  async function boxOn(view: FrameLocator, role: string, on: "thumb" | "frame") {
    const photo = await view.getByTestId(`${on}-${role}`).boundingBox();
    const box = await view.getByTestId(`box-${role}`).boundingBox();
    if (!photo || !box) throw new Error(`no ${on} or box for ${role}`);
    return {
      left: (box.x - photo.x) / photo.width,
      top: (box.y - photo.y) / photo.height,
      width: box.width / photo.width,
      height: box.height / photo.height,
    };
  }

  /** The sandbox's scored face, [120, 96, 392, 420], on the 480 x 640 upright selfie. */
  const SELFIE_BOX = { left: 120 / 480, top: 96 / 640, width: 272 / 480, height: 324 / 640 };
  const near = (actual: Record<string, number>, expected: Record<string, number>) => {
    for (const key of Object.keys(expected)) expect(actual[key], key).toBeCloseTo(expected[key] as number, 1);
  };

  it("approved: Proceed in green words, the score against its threshold, the face boxed on the thumbnail", async () => {
    for (const theme of ["light", "dark"] as const) {
      const { view } = await show("check_passive_liveness", { image_path: "live_silentface_T1.jpg" }, theme);
      await expect.poll(() => view.getByTestId("action").textContent()).toBe("Proceed");
      expect(await view.getByTestId("status").textContent()).toMatch(
        /^Liveness Approved: a live person\. Go ahead\./,
      );
      expect(await view.getByTestId("sandbox").textContent()).toBe(
        "Sandbox: mocked result, not a real verdict",
      );
      const gauge = view.getByRole("meter", { name: "Liveness score" });
      expect(await gauge.getAttribute("aria-valuenow")).toBe("93");
      expect(await gauge.getAttribute("aria-valuetext")).toBe(
        "93 of 100; declines at or below 30, so it passes",
      );
      expect(await view.getByTestId("gauge-value").textContent()).toBe("93");
      await view.getByTestId("thumb-image").waitFor();
      expect(
        await view
          .getByTestId("thumb-image")
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBe(240);
      near(await boxOn(view, "image", "thumb"), SELFIE_BOX);
      await screenshot(view, `approved-${theme}`);
    }
  });

  it("spoof: Reject, the low score, and a warning explained through explain_warning forwarded to the server", async () => {
    for (const theme of ["dark", "light"] as const) {
      forwarded.length = 0;
      const { view } = await show(
        "check_passive_liveness",
        { image_path: "live_silentface_T1.jpg", vendor_data: "sandbox:spoof" },
        theme,
      );
      expect(await view.getByTestId("action").textContent()).toBe("Reject");
      expect(await view.getByTestId("gauge-value").textContent()).toBe("4");
      // Keyboard only: focus the warning's summary and open it with Enter.
      const attack = view.locator('details[data-tag="LIVENESS_FACE_ATTACK"]');
      await attack.locator("summary").focus();
      await attack.locator("summary").press("Enter");
      const explained = attack.getByTestId("explanation");
      await explained.waitFor();
      expect(await explained.textContent()).toContain("Tell the person: ");
      expect(forwarded).toContainEqual(
        expect.objectContaining({ name: "explain_warning", arguments: { tag: "LIVENESS_FACE_ATTACK" } }),
      );
      await view.getByTestId("thumb-image").waitFor();
      await screenshot(view, `spoof-${theme}`);
    }
  });

  it("no face: Retake, no score, the advice for the person, and no box", async () => {
    for (const theme of ["light", "dark"] as const) {
      const { view } = await show(
        "check_passive_liveness",
        { image_path: "syn_no_face_cat.jpg", vendor_data: "sandbox:no_face" },
        theme,
      );
      expect(await view.getByTestId("action").textContent()).toBe("Retake");
      expect(await view.getByTestId("gauge").textContent()).toMatch(/^Liveness score: none\./);
      expect(await view.getByTestId("advice").textContent()).toMatch(/^What to tell the person/);
      await view.getByTestId("thumb-image").waitFor();
      expect(await view.locator(".box").count()).toBe(0);
      await screenshot(view, `no-face-${theme}`);
    }
  });

  it("verify skipped: both steps, the match skipped with its reason, the credits used, both photos", async () => {
    for (const theme of ["light", "dark"] as const) {
      const { view } = await show(
        "verify_selfie",
        {
          user_image_path: "live_silentface_T1.jpg",
          ref_image_path: "syn_astronaut.jpg",
          vendor_data: "sandbox:spoof",
        },
        theme,
      );
      expect(await view.getByTestId("action").textContent()).toBe("Reject");
      expect(await view.getByTestId("status").textContent()).toMatch(/^Identity not verified\./);
      expect(await view.getByTestId("step-liveness").locator("h2").first().textContent()).toBe(
        "Step 1: liveness, Declined",
      );
      expect(await view.getByTestId("step-match").locator("h2").first().textContent()).toBe(
        "Step 2: face match, skipped",
      );
      expect(await view.getByTestId("skipped").textContent()).toMatch(/no face match was requested/);
      expect(await view.getByTestId("credits").textContent()).toBe(
        "Credits used: 0 of up to 2 (sandbox: none are spent).",
      );
      await view.getByTestId("thumb-user").waitFor();
      await view.getByTestId("thumb-ref").waitFor();
      near(await boxOn(view, "user", "thumb"), SELFIE_BOX);
      await screenshot(view, `verify-skipped-${theme}`);
    }
  });

  it("match and full verification: the match score gauge and both faces boxed", async () => {
    const { view } = await show(
      "match_faces",
      { user_image_path: "live_silentface_T1.jpg", ref_image_path: "syn_astronaut.jpg" },
      "light",
    );
    expect(await view.getByTestId("action").textContent()).toBe("Proceed");
    expect(await view.getByRole("meter", { name: "Face match score" }).getAttribute("aria-valuenow")).toBe(
      "88.6",
    );
    await view.getByTestId("thumb-ref").waitFor();
    // The sandbox's reference face, [48, 60, 170, 212], on the 512 x 512 reference.
    near(await boxOn(view, "ref", "thumb"), {
      left: 48 / 512,
      top: 60 / 512,
      width: 122 / 512,
      height: 152 / 512,
    });
    await screenshot(view, "match-light");

    const verified = await show(
      "verify_selfie",
      { user_image_path: "live_silentface_T1.jpg", ref_image_path: "syn_astronaut.jpg" },
      "dark",
    );
    expect(await verified.view.getByTestId("status").textContent()).toMatch(/^Identity verified\./);
    expect(await verified.view.getByTestId("step-match").locator("h2").first().textContent()).toBe(
      "Step 2: face match, Approved",
    );
    await verified.view.getByTestId("thumb-ref").waitFor();
    await screenshot(verified.view, "verify-approved-dark");
  });

  it("with thumbnails off: the face box on a plain frame of the photo's proportions, and no photo", async () => {
    const { view, result } = await show(
      "check_passive_liveness",
      { image_path: "live_silentface_T1.jpg" },
      "light",
      noThumbnails,
    );
    expect((result._meta?.[VIEW_META_KEY] as ViewMeta | undefined)?.images[0]?.thumbnail).toBeNull();
    const frame = await view.getByTestId("frame-image").boundingBox();
    expect((frame?.width ?? 0) / (frame?.height ?? 1)).toBeCloseTo(480 / 640, 2);
    near(await boxOn(view, "image", "frame"), SELFIE_BOX);
    expect(await view.locator("img").count()).toBe(0);
    await screenshot(view, "thumbnails-off-light");
  });

  it("precheck: the on-device verdict and its box, when the optional engine is installed", async (context) => {
    if (!(await isPrecheckEngineAvailable())) context.skip();
    const { view } = await show("precheck_face_image", { image_path: "syn_astronaut.jpg" }, "dark");
    expect(await view.getByTestId("status").textContent()).toMatch(/on-device pre-check/);
    await view.getByTestId("thumb-image").waitFor();
    await view.getByTestId("box-image").waitFor();
    await screenshot(view, "precheck-dark");
  }, 60_000);
});
