// The verdict view (MCP Apps): rendered by the host in a sandboxed iframe beside a check's result. It reads the
// result's structuredContent and its _meta (the photos' sizes and thumbnail handles), and calls two tools through
// the host: explain_warning (the catalog) and view_face_thumbnail (only the view may). Nothing is fetched from the
// network. Built into one HTML file by scripts/build-view.mjs.
import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
} from "@modelcontextprotocol/ext-apps";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { FaceMatchAssessment, SelfieVerification } from "../src/flows/face-match/result.js";
import type { LivenessAssessment } from "../src/flows/liveness/result.js";
import type { PrecheckOutput } from "../src/precheck/types.js";
import {
  type ImageRole,
  THUMBNAIL_TOOL_NAME,
  type ThumbnailAnswer,
  VIEW_META_KEY,
  type ViewImage,
  type ViewMeta,
} from "../src/view/contract.js";
import type { WarningExplanation } from "../src/warnings/explain.js";

type Action = "proceed" | "retake" | "review" | "reject";
type Box = readonly number[] | null | undefined;
interface WarningItem {
  risk: string;
  severity: string;
  title: string;
  text: string;
}
interface Photo {
  role: ImageRole;
  label: string;
  boxes: Box[];
  source: string;
}

const ACTIONS: Record<Action, { word: string; mark: string; meaning: string }> = {
  proceed: { word: "Proceed", mark: "✓", meaning: "Go ahead." },
  retake: { word: "Retake", mark: "↻", meaning: "Ask the person for a new photo." },
  review: { word: "Review", mark: "?", meaning: "A person should look at this before you continue." },
  reject: { word: "Reject", mark: "✕", meaning: "Stop here and do not retry." },
};
const ROLE_LABEL: Record<ImageRole, string> = { image: "Photo", user: "Selfie", ref: "Reference photo" };
const SANDBOX_PREFIX = /^\[Sandbox:[^\]]*\]\s*/;

const root = document.getElementById("root") as HTMLElement;
const announce = document.getElementById("announce") as HTMLElement;
const app = new App({ name: "didit-verdict-view", version: "1.0.0" }, {});

/** A DOM element with attributes and children; strings become text (never HTML). */
function h(
  tag: string,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "class") node.className = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const round = (n: number) => String(Math.round(n * 10) / 10);
const clean = (summary: string) => summary.replace(SANDBOX_PREFIX, "");

function verdict(action: Action, status: string, sandbox: boolean | undefined): HTMLElement {
  const a = ACTIONS[action];
  // The one line a screen reader announces when a result arrives; the rest is read on demand.
  announce.textContent = `${a.word}. ${status}.${sandbox ? " Sandbox result." : ""}`;
  return h(
    "section",
    { class: `verdict act-${action}`, "aria-label": "Verdict", "data-testid": "verdict" },
    h("span", { class: "mark", "aria-hidden": "true" }, a.mark),
    h(
      "div",
      {},
      h("h1", { "data-testid": "action" }, a.word),
      h("p", { class: "status", "data-testid": "status" }, `${status}. ${a.meaning}`),
    ),
    sandbox &&
      h("p", { class: "sandbox", "data-testid": "sandbox" }, "Sandbox: mocked result, not a real verdict"),
  );
}

/** A 0-100 score on a bar, with the decline threshold marked; readable as one sentence by a screen reader. */
function gauge(label: string, score: number | null, threshold: number, missing: string): HTMLElement {
  if (score === null)
    return h("p", { class: "gauge-none", "data-testid": "gauge" }, `${label}: none. ${missing}`);
  const passes = score > threshold;
  const words = `${round(score)} of 100; declines at or below ${round(threshold)}, so it ${passes ? "passes" : "does not pass"}`;
  return h(
    "div",
    {
      class: `gauge ${passes ? "pass" : "fail"}`,
      role: "meter",
      "aria-label": label,
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": score,
      "aria-valuetext": words,
      "data-testid": "gauge",
    },
    h(
      "div",
      { class: "gauge-head" },
      h("span", {}, label),
      h("strong", { "data-testid": "gauge-value" }, round(score)),
    ),
    h(
      "div",
      { class: "track", "aria-hidden": "true" },
      h("div", { class: "fill", style: `width:${Math.max(0, Math.min(100, score))}%` }),
      h("div", { class: "threshold", style: `left:${Math.max(0, Math.min(100, threshold))}%` }),
    ),
    h(
      "p",
      { class: "legend" },
      `Threshold ${round(threshold)}: ${passes ? "above it, passes" : "at or below it, declines"}.`,
    ),
  );
}

function facts(rows: [string, string | number | null | undefined][]): HTMLElement {
  const list = h("dl", { class: "facts" });
  for (const [name, value] of rows) {
    if (value === undefined) continue;
    list.append(h("div", {}, h("dt", {}, name), h("dd", {}, value === null ? "—" : String(value))));
  }
  return list;
}

function quality(q: number | null, l: number | null): [string, string | null][] {
  const lum =
    l === null ? null : `${round(l)} (${l < 20 ? "dark" : l > 85 ? "bright" : "normal; about 50 is ideal"})`;
  return [
    ["Face quality", q === null ? null : `${round(q)} of 100`],
    ["Face luminance", lum],
  ];
}

/** Each warning as an expandable row; opening it asks explain_warning (through the host) once. */
function warnings(items: WarningItem[], heading = "h2"): HTMLElement {
  const title = `Warnings (${items.length})`;
  const section = h("section", { class: "warnings", "aria-label": title }, h(heading, {}, title));
  if (items.length === 0) section.append(h("p", { class: "muted" }, "None."));
  for (const item of items) {
    const body = h("div", { class: "explain", "aria-live": "polite" }, item.text);
    const details = h(
      "details",
      { "data-tag": item.risk },
      h(
        "summary",
        {},
        h("span", { class: `sev sev-${item.severity}` }, item.severity),
        " ",
        h("code", {}, item.risk),
        h("span", { class: "muted" }, ` ${item.title}`),
      ),
      body,
    ) as HTMLDetailsElement;
    let asked = false;
    details.addEventListener("toggle", () => {
      if (!details.open || asked) return;
      asked = true;
      body.replaceChildren(
        h("p", { class: "muted" }, item.text),
        h("p", { class: "muted" }, "Loading the explanation…"),
      );
      void explain(item.risk).then(
        (e) => body.replaceChildren(explanation(e)),
        () => body.replaceChildren(h("p", {}, item.text)),
      );
    });
    section.append(details);
  }
  return section;
}

async function explain(tag: string): Promise<WarningExplanation> {
  const result = await app.callServerTool({ name: "explain_warning", arguments: { tag } });
  if (result.isError || !result.structuredContent) throw new Error("no explanation");
  return result.structuredContent as unknown as WarningExplanation;
}

function explanation(e: WarningExplanation): HTMLElement {
  return h(
    "div",
    { "data-testid": "explanation" },
    h("p", {}, h("strong", {}, e.title), ": ", e.explanation),
    e.likely_causes.length > 0 &&
      h(
        "ul",
        { class: "causes", "aria-label": "Likely causes" },
        ...e.likely_causes.map((c) => h("li", {}, c)),
      ),
    h("p", {}, h("strong", {}, "Next: "), ACTIONS[e.next_action].word, ". ", e.agent_guidance),
    h("p", { class: "tell" }, h("strong", {}, "Tell the person: "), e.user_message),
  );
}

/** The summary is written to be relayed: for a retake it is the advice for the person, so it shows as that. */
function summary(action: Action, text: string): HTMLElement {
  return action === "retake"
    ? advice(clean(text))
    : h("p", { class: "summary", "data-testid": "summary" }, clean(text));
}

function advice(text: string): HTMLElement {
  return h(
    "section",
    { class: "advice", "aria-label": "What to tell the person", "data-testid": "advice" },
    h("h2", {}, "What to tell the person"),
    h("p", {}, text),
  );
}

const diditWarnings = (list: LivenessAssessment["warnings"]): WarningItem[] =>
  list.map((w) => ({
    risk: w.risk,
    severity: w.log_type,
    title: w.short_description,
    text: w.long_description || w.short_description,
  }));

function livenessBody(r: LivenessAssessment, threshold: number, heading = "h2"): HTMLElement[] {
  return [
    gauge("Liveness score", r.score, threshold, "No face was found, so nothing was scored."),
    facts([...quality(r.face_quality, r.face_luminance), ["Faces found", r.faces_detected]]),
    warnings(diditWarnings(r.warnings), heading),
  ];
}

function matchBody(r: FaceMatchAssessment, threshold: number, heading = "h2"): HTMLElement[] {
  return [
    gauge("Face match score", r.score, threshold, "No pair of faces could be compared."),
    facts([
      ["Faces in the selfie", r.user_image.faces_detected],
      ["Faces in the reference", r.ref_image.faces_detected],
    ]),
    warnings(diditWarnings(r.warnings), heading),
  ];
}

/** The biggest box first: Didit and the pre-check score the largest face. */
const byArea = (boxes: Box[]) =>
  [...boxes].sort((a, b) => area(b) - area(a)).filter((b): b is readonly number[] => !!b && b.length === 4);
const area = (b: Box) =>
  b && b.length === 4 ? ((b[2] ?? 0) - (b[0] ?? 0)) * ((b[3] ?? 0) - (b[1] ?? 0)) : 0;

/** What to draw for each photo, and everything else in reading order. */
function render(result: CallToolResult): void {
  const sc = result.structuredContent as Record<string, unknown> | undefined;
  const meta = (result._meta?.[VIEW_META_KEY] ?? {
    images: [],
    thresholds: { liveness: 30, face_match: 30 },
  }) as ViewMeta;
  if (result.isError || !sc) {
    const text = result.content?.map((c) => (c.type === "text" ? c.text : "")).join("\n") ?? "";
    root.replaceChildren(
      h(
        "section",
        { class: "verdict act-reject", "data-testid": "verdict" },
        h("h1", {}, "Error"),
        h("p", {}, text),
      ),
    );
    return;
  }
  const parts: (HTMLElement | null | false)[] = [];
  const photos: Photo[] = [];
  if ("identity_verified" in sc) {
    const r = sc as unknown as SelfieVerification;
    parts.push(
      verdict(r.next_action, r.identity_verified ? "Identity verified" : "Identity not verified", r.sandbox),
    );
    parts.push(summary(r.next_action, r.summary));
    const steps = h("ol", { class: "steps", "aria-label": "Steps" });
    if (r.precheck) {
      const pre = (what: string, p: NonNullable<SelfieVerification["precheck"]>["selfie"]) =>
        h("li", {}, `${what}: ${p.ready ? "ready" : "not ready"}. ${p.user_message}`);
      steps.append(
        h(
          "li",
          { class: "step" },
          h("h2", {}, "On-device pre-check"),
          h("ul", {}, pre("Selfie", r.precheck.selfie), pre("Reference", r.precheck.reference)),
        ),
      );
    }
    steps.append(
      h(
        "li",
        { class: "step", "data-testid": "step-liveness" },
        h("h2", {}, `Step 1: liveness${r.liveness ? `, ${r.liveness.status}` : ", not run"}`),
        ...(r.liveness
          ? livenessBody(r.liveness, meta.thresholds.liveness, "h3")
          : [h("p", { class: "muted" }, "Not run.")]),
      ),
      h(
        "li",
        { class: "step", "data-testid": "step-match" },
        h("h2", {}, `Step 2: face match${r.face_match ? `, ${r.face_match.status}` : ", skipped"}`),
        ...(r.face_match
          ? matchBody(r.face_match, meta.thresholds.face_match, "h3")
          : [h("p", { "data-testid": "skipped" }, r.face_match_skipped_reason ?? "Skipped.")]),
      ),
    );
    parts.push(steps);
    parts.push(
      h(
        "p",
        { class: "credits", "data-testid": "credits" },
        `Credits used: ${r.credits_used} of up to 2${r.sandbox ? " (sandbox: none are spent)" : ""}.`,
      ),
    );
    const userBoxes =
      r.liveness?.faces.map((f) => f.bbox) ?? r.face_match?.user_image.faces.map((f) => f.bbox) ?? [];
    photos.push({ role: "user", label: ROLE_LABEL.user, boxes: userBoxes, source: "Didit" });
    photos.push({
      role: "ref",
      label: ROLE_LABEL.ref,
      boxes: r.face_match?.ref_image.faces.map((f) => f.bbox) ?? [],
      source: "Didit",
    });
  } else if ("user_image" in sc && "ref_image" in sc) {
    const r = sc as unknown as FaceMatchAssessment;
    parts.push(verdict(r.next_action, `Face match ${r.status}`, r.sandbox));
    parts.push(summary(r.next_action, r.summary));
    parts.push(...matchBody(r, meta.thresholds.face_match));
    photos.push({
      role: "user",
      label: ROLE_LABEL.user,
      boxes: r.user_image.faces.map((f) => f.bbox),
      source: "Didit",
    });
    photos.push({
      role: "ref",
      label: ROLE_LABEL.ref,
      boxes: r.ref_image.faces.map((f) => f.bbox),
      source: "Didit",
    });
  } else if (sc.engine === "local") {
    const r = sc as unknown as PrecheckOutput;
    parts.push(
      verdict(
        r.next_action,
        r.ready ? "Ready to submit (on-device pre-check, advisory)" : "Not ready (on-device pre-check)",
        false,
      ),
    );
    parts.push(h("p", { class: "summary", "data-testid": "summary" }, r.summary));
    if (r.next_action === "retake" || r.warnings.length > 0) parts.push(advice(r.user_message));
    parts.push(
      facts([
        ...quality(r.face_quality, r.face_luminance),
        ["Faces found", r.faces_detected],
        ["Spoof estimate (advisory)", r.spoof_estimate === null ? null : `${round(r.spoof_estimate)} of 100`],
        ["Best angle", `${r.best_angle}°`],
      ]),
      warnings(
        r.warnings.map((w) => ({
          risk: w.risk,
          severity: w.blocking ? "blocking" : "suggestion",
          title: w.short_description,
          text: w.short_description,
        })),
      ),
    );
    photos.push({
      role: "image",
      label: ROLE_LABEL.image,
      boxes: r.faces.map((f) => f.bbox),
      source: "this machine",
    });
  } else {
    const r = sc as unknown as LivenessAssessment;
    parts.push(
      verdict(r.next_action, `Liveness ${r.status}${r.is_live ? ": a live person" : ""}`, r.sandbox),
    );
    parts.push(summary(r.next_action, r.summary));
    parts.push(...livenessBody(r, meta.thresholds.liveness));
    photos.push({
      role: "image",
      label: ROLE_LABEL.image,
      boxes: r.faces.map((f) => f.bbox),
      source: "Didit",
    });
  }
  const gallery = photoSection(photos, meta.images);
  root.replaceChildren(...parts.filter((p): p is HTMLElement => !!p), ...(gallery ? [gallery] : []));
}

function photoSection(photos: Photo[], images: ViewImage[]): HTMLElement | null {
  const figures = photos.flatMap((photo) => {
    const image = images.find((i) => i.role === photo.role);
    return image ? [figure(photo, image)] : [];
  });
  if (figures.length === 0) return null;
  return h(
    "section",
    { class: "photos", "aria-label": "Photos" },
    h("h2", {}, figures.length > 1 ? "Photos" : "Photo"),
    h("div", { class: "gallery" }, ...figures),
  );
}

/** The photo (a thumbnail when the server may show one, else a plain frame of its proportions) with its face boxes. */
function figure(photo: Photo, image: ViewImage): HTMLElement {
  const frame = h("div", { class: "frame plain", "data-testid": `frame-${photo.role}` });
  const caption = h("figcaption", {});
  const boxes = byArea(photo.boxes);
  const draw = (width: number, height: number) => {
    frame.style.aspectRatio = `${width} / ${height}`;
    frame.querySelectorAll(".box").forEach((b) => {
      b.remove();
    });
    boxes.forEach((b, i) => {
      const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = b;
      const pct = (v: number, of: number) => `${Math.max(0, Math.min(100, (v / of) * 100))}%`;
      frame.append(
        h("div", {
          class: i === 0 ? "box scored" : "box",
          "data-testid": i === 0 ? `box-${photo.role}` : undefined,
          style: `left:${pct(x1, width)};top:${pct(y1, height)};width:${pct(x2 - x1, width)};height:${pct(y2 - y1, height)}`,
        }),
      );
    });
    const faces =
      boxes.length === 0
        ? "no face box"
        : boxes.length === 1
          ? "the scored face boxed"
          : `${boxes.length} faces, the scored one boxed in full`;
    caption.textContent = `${photo.label}, ${width} × ${height} px: ${faces} (from ${photo.source}).`;
  };
  const width = image.width ?? 0;
  const height = image.height ?? 0;
  if (width > 0 && height > 0) draw(width, height);
  else caption.textContent = `${photo.label}: size unknown.`;
  const fig = h("figure", { class: "photo", "data-role": photo.role }, frame, caption);
  if (image.thumbnail) {
    void thumbnail(image.thumbnail).then((t) => {
      if (!t) return;
      const img = h("img", {
        src: t.src,
        alt: `${photo.label} (thumbnail)`,
        "data-testid": `thumb-${photo.role}`,
      });
      frame.classList.remove("plain");
      frame.prepend(img);
      draw(t.width, t.height);
    });
  }
  return fig;
}

async function thumbnail(
  handle: string,
): Promise<{ src: string; width: number; height: number } | undefined> {
  try {
    const result = await app.callServerTool({ name: THUMBNAIL_TOOL_NAME, arguments: { handle } });
    const answer = result.structuredContent as ThumbnailAnswer | undefined;
    const jpeg = result.content.find((c) => c.type === "image");
    if (
      result.isError ||
      !answer?.available ||
      !jpeg ||
      jpeg.type !== "image" ||
      !answer.width ||
      !answer.height
    )
      return undefined;
    return { src: `data:${jpeg.mimeType};base64,${jpeg.data}`, width: answer.width, height: answer.height };
  } catch {
    return undefined;
  }
}

function applyContext(context: ReturnType<App["getHostContext"]>): void {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}

app.ontoolresult = (result) => render(result as CallToolResult);
app.ontoolcancelled = () => root.replaceChildren(h("p", { class: "muted" }, "The check was cancelled."));
app.onhostcontextchanged = applyContext;
void app.connect().then(() => applyContext(app.getHostContext()));
