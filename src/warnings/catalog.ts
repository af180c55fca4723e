import type { WarningEntry } from "./types.js";

/** Liveness is the default source: only face-match tags (and tags shared by both) say so. */
function entry(
  e: Omit<WarningEntry, "applies_to"> & Partial<Pick<WarningEntry, "applies_to">>,
): WarningEntry {
  Object.freeze(e.likely_causes);
  return Object.freeze({ ...e, applies_to: Object.freeze([...(e.applies_to ?? ["liveness"])]) });
}

const RETAKE_LIMIT =
  "Allow at most two retakes in total; each check that gets an answer costs one credit. " +
  "If it still fails, stop and hand the case to a human reviewer with the request_id.";

/** Where a screening hit names the session it matched (Didit's additional_data), for the reviewer. */
const BLOCKLIST_SESSION =
  "The warning's additional_data names the session the face matched: blocklisted_session_id (and " +
  "blocklisted_session_number, as the Business Console shows it), so a reviewer can open that session.";
const DUPLICATE_SESSION =
  "The warning's additional_data names the session the face matched (duplicated_session_id, and its number " +
  "when Didit sends one), so a reviewer can open that session and compare.";

const DO_NOT_DISCLOSE =
  "Never tell the user the precise reason (the tag, the score, or what was detected): " +
  "show only the neutral user_message.";

export const WARNING_CATALOG: readonly WarningEntry[] = Object.freeze([
  entry({
    tag: "NO_FACE_DETECTED",
    applies_to: ["liveness", "face_match"],
    severity: "error",
    declines: true,
    title: "No Face Detected",
    explanation:
      "No face was found in the image, so nothing could be scored and the result is Declined. " +
      "On a liveness check the score, face_quality and face_luminance are null, and LOW_LIVENESS_SCORE is not " +
      "added on top of this tag. On a face match (older Didit texts) it means one of the two images has no " +
      "face: faces_detected of user_image and ref_image says which.",
    likely_causes: [
      "The face is cut off by the frame, too far from the camera, or too small in the picture.",
      "The wrong image was sent: a document, a screenshot, an empty room or a blank frame.",
      "The face is hidden by a hand, hair, a mask or the phone itself.",
      "The image is sideways or upside down.",
      "The photo is so dark or blurred that no face is recognisable.",
    ],
    next_action: "retake",
    agent_guidance:
      "Ask the user for a new selfie taken now: the whole face visible and centred, looking at the camera, " +
      "with nothing covering it and in even light. If the image you sent is visibly rotated, resend it " +
      "once with rotate_image set to true instead of asking for a retake. " +
      RETAKE_LIMIT,
    user_message:
      "We could not find your face in the photo. Hold the camera at arm's length, keep your whole face " +
      "in the frame with nothing covering it, and take the photo again.",
  }),
  entry({
    tag: "LIVENESS_FACE_ATTACK",
    severity: "error",
    declines: true,
    title: "Presentation Attack Detected",
    explanation:
      "The liveness model judged that the image does not show a live person in front of the camera but a " +
      "presentation attack, such as a printed photo, a replay on a screen, a mask or a synthetic face. " +
      "The result is Declined.",
    likely_causes: [
      "A printed photo or an ID card portrait held up to the camera.",
      "A photo or video of the person replayed on another phone, tablet or monitor.",
      "A mask or other physical replica of a face.",
      "A digitally generated or manipulated face image.",
      "A genuine user innocently photographing an existing picture of themselves instead of taking a selfie.",
    ],
    next_action: "reject",
    agent_guidance:
      "Do not retry automatically, do not resubmit the same image, and do not coach the user on how to get " +
      "past the check. End the automated flow and treat the verification as failed. " +
      DO_NOT_DISCLOSE +
      " If the user disputes the outcome, pass the request_id to a human reviewer; only a human should " +
      "decide whether to allow another attempt.",
    user_message:
      "We could not verify your photo. If you think this is a mistake, please contact our support team.",
  }),
  entry({
    tag: "LOW_LIVENESS_SCORE",
    severity: "error",
    declines: true,
    title: "Low Liveness Score",
    explanation:
      "The liveness score was at or below face_liveness_score_decline_threshold (default 30), so the " +
      "result is Declined. The model was not confident that the image shows a live person; this is " +
      "often poor capture conditions, but it can also mean a non-live face representation.",
    likely_causes: [
      "A blurry, dark, overexposed or heavily compressed image.",
      "An old photo from the gallery, a screenshot or a forwarded image instead of a fresh selfie.",
      "Beauty filters, stickers or other edits applied to the face.",
      "The face is partly covered or turned far away from the camera.",
      "An actual attempt with a photo, screen or mask that did not trigger LIVENESS_FACE_ATTACK.",
    ],
    next_action: "retake",
    agent_guidance:
      "Ask for a new selfie taken live with the device camera right now (not a saved or edited photo): " +
      "good even light, face straight on and unobstructed, no filters, camera held still. Do not lower the " +
      "decline threshold to let a user through, and do not tell the user the score. " +
      RETAKE_LIMIT,
    user_message:
      "We could not confirm your photo. Please take a new selfie now with your camera, in good light, " +
      "looking straight at the camera with nothing covering your face and no filters.",
  }),
  entry({
    tag: "FACE_IN_BLOCKLIST",
    severity: "error",
    declines: true,
    title: "Face in Blocklist",
    explanation:
      "The face matches a face on the face blocklist of this Didit application, so the result is " +
      "Declined. Someone on the operator's side added this face to the blocklist earlier. " +
      BLOCKLIST_SESSION,
    likely_causes: [
      "The person was blocked earlier, for example after confirmed fraud or abuse, and is trying again.",
      "A blocked person is attempting to open a new account under a different identity.",
      "Rarely, a false match with a different person who looks very similar.",
    ],
    next_action: "reject",
    agent_guidance:
      "Do not retry or offer a retake: a new photo of the same face will match again. Stop the automated " +
      "flow and treat the verification as failed. " +
      DO_NOT_DISCLOSE +
      " If the user disputes the outcome, route the request_id and additional_data.blocklisted_session_id to " +
      "your compliance or support team; only a human should overturn it.",
    user_message:
      "We are unable to verify your identity at this time. If you think this is a mistake, please " +
      "contact our support team.",
  }),
  entry({
    tag: "POSSIBLE_FACE_IN_BLOCKLIST",
    severity: "error",
    declines: true,
    title: "Possible Face in Blocklist",
    explanation:
      "The face probably, but not certainly, matches a face on this application's face blocklist, and the " +
      "result is Declined. A person should compare the faces before any final decision is taken. " +
      BLOCKLIST_SESSION,
    likely_causes: [
      "A previously blocked person trying again, possibly with changed appearance or a lower-quality photo.",
      "A different person who closely resembles someone on the blocklist.",
      "Relatives, especially twins or siblings, of a blocked person.",
    ],
    next_action: "review",
    agent_guidance:
      "Do not retry or ask for a retake: it will not resolve a probable match and can help an attacker " +
      "probe the check. Hold the user's request and escalate to a human reviewer with the request_id and " +
      "additional_data.blocklisted_session_id (the session it may match); do " +
      "not grant access until the review is done. " +
      DO_NOT_DISCLOSE,
    user_message:
      "We could not complete your verification automatically. Our team will review it and get back to you.",
  }),
  entry({
    tag: "MULTIPLE_FACES_DETECTED",
    severity: "warning",
    declines: false,
    title: "Multiple Faces Detected",
    explanation:
      "More than one face was found in the image and only the largest one was scored. This warning " +
      "does not decline the result by itself, but the verdict is only meaningful if the largest face is " +
      "the user's, and a second face is also what a photo or screen held up beside a live face (a replay) " +
      "looks like: so the result goes to a human even when it is Approved.",
    likely_causes: [
      "Another person standing beside or behind the user.",
      "A poster, picture or screen showing a face in the background.",
      "The user holding an ID card, a phone or a photo with a portrait next to their face.",
      "A reflection of the face in a mirror or window.",
    ],
    next_action: "review",
    agent_guidance:
      "Do not treat an Approved result as verified on its own: hand the case to a human reviewer with the " +
      "request_id, who can see whether the second face is a bystander or a reproduction held up to the " +
      "camera. If the flow allows a retake before the review, ask for a new photo with only the user in the " +
      "frame and no screen or photo showing a face. Do not loop: at most two retakes. " +
      DO_NOT_DISCLOSE,
    user_message:
      "We noticed more than one face in your photo. If you are asked to try again, make sure only you are " +
      "in the picture.",
  }),
  entry({
    tag: "DUPLICATED_FACE",
    severity: "information",
    declines: false,
    title: "Duplicated Face",
    explanation:
      "The same face already appears in another approved session of this application under a different " +
      "vendor_data, so one person may be linked to more than one account. It is informational and never " +
      "declines the result by itself; the liveness verdict is unaffected. " +
      DUPLICATE_SESSION,
    likely_causes: [
      "The same person signing up a second account, for example to abuse promotions or evade a ban.",
      "A genuine user who lost access to an old account and registered again.",
      "The integration sends a different vendor_data for the same person on each attempt, so their own " +
        "earlier sessions are not excluded.",
      "Test or demo sessions made by the same staff member under several ids.",
    ],
    next_action: "review",
    agent_guidance:
      "Do not ask for a retake: a new photo will show the same face. Do not reject automatically either, " +
      "because there are legitimate reasons. Flag the case for a human reviewer with the request_id, " +
      "vendor_data and additional_data.duplicated_session_id so they can check the linked account, and hold any " +
      "step that a second account would " +
      "abuse until then. " +
      DO_NOT_DISCLOSE,
    user_message:
      "Thank you, we have received your photo. We need to complete a short manual check before you can " +
      "continue; our team will be in touch.",
  }),
  entry({
    tag: "POSSIBLE_DUPLICATED_FACE",
    severity: "information",
    declines: false,
    title: "Possible Duplicated Face",
    explanation:
      "The face may match a user already registered with this application under a different vendor_data, " +
      "but the match is not certain. It is informational and never declines the result by itself. " +
      DUPLICATE_SESSION,
    likely_causes: [
      "The same person registering again under another account.",
      "A different person with a similar appearance, such as a relative.",
      "The integration sends a different vendor_data for the same person across attempts.",
    ],
    next_action: "review",
    agent_guidance:
      "Do not ask for a retake and do not reject or accuse the user: the match is uncertain. Flag the case " +
      "for a human reviewer with the request_id, vendor_data and additional_data.duplicated_session_id, and " +
      "hold high-risk actions until they " +
      "have looked at it. " +
      DO_NOT_DISCLOSE,
    user_message:
      "Thank you, we have received your photo. We need to complete a short manual check before you can " +
      "continue; our team will be in touch.",
  }),
  entry({
    tag: "LOW_FACE_QUALITY",
    severity: "configurable",
    declines: false,
    title: "Low Face Quality",
    explanation:
      "The quality of the face in the image (the face_quality value) is below the required threshold, " +
      "which makes the liveness judgement less reliable. Its effect is set by the operator (in Didit " +
      "workflows: no action, review or decline), so read the returned status instead of assuming it passed.",
    likely_causes: [
      "Motion blur or an out-of-focus camera.",
      "The face is small in the frame or the image has a low resolution.",
      "Heavy compression from a screenshot or an image forwarded through a messaging app.",
      "A dirty or smudged camera lens.",
      "Grainy noise from shooting in dim light.",
    ],
    next_action: "retake",
    agent_guidance:
      "Ask for a new selfie taken directly with the camera (not a screenshot or forwarded image): clean " +
      "the lens, hold the phone steady at arm's length, face filling a good part of the frame, good light. " +
      "Huge resolutions do not help because the server recompresses the image. " +
      RETAKE_LIMIT,
    user_message:
      "Your photo is not clear enough. Wipe your camera lens, hold the phone steady with your face filling " +
      "the frame, and take the photo again.",
  }),
  entry({
    tag: "LOW_FACE_LUMINANCE",
    severity: "configurable",
    declines: false,
    title: "Low Face Luminance",
    explanation:
      "The face is too dark: face_luminance is low, where around 50 is normal. Its effect is set by the " +
      "operator (in Didit workflows: no action, review or decline), so read the returned status instead " +
      "of assuming it passed.",
    likely_causes: [
      "A dim room or a photo taken at night without lighting.",
      "A bright window or lamp behind the user, leaving the face in shadow.",
      "The face shaded by a hat, a hood or the user's own hand.",
    ],
    next_action: "retake",
    agent_guidance:
      "Ask the user to retake the photo facing a light source, such as a window or a lamp, with no strong " +
      "light behind them and nothing shading the face. " +
      RETAKE_LIMIT,
    user_message: "Your face is too dark in the photo. Face a window or a lamp and take the photo again.",
  }),
  entry({
    tag: "HIGH_FACE_LUMINANCE",
    severity: "configurable",
    declines: false,
    title: "High Face Luminance",
    explanation:
      "The face is overexposed: face_luminance is high, where around 50 is normal, and facial detail is " +
      "washed out. Its effect is set by the operator (in Didit workflows: no action, review or decline), " +
      "so read the returned status instead of assuming it passed.",
    likely_causes: [
      "Strong direct sunlight on the face.",
      "The camera flash fired at close range.",
      "A bright lamp or ring light aimed straight at the face from close by.",
      "The camera exposing for a dark background, which blows out the face.",
    ],
    next_action: "retake",
    agent_guidance:
      "Ask the user to retake the photo in softer, even light: out of direct sunlight, flash off, any " +
      "bright lamp moved further away or to the side. " +
      RETAKE_LIMIT,
    user_message:
      "Your face is too bright in the photo. Move out of direct sunlight or turn off the flash, and take " +
      "the photo again.",
  }),
  entry({
    tag: "LOW_FACE_MATCH_SIMILARITY",
    applies_to: ["face_match"],
    severity: "error",
    declines: true,
    title: "Low Face Match Similarity",
    explanation:
      "The similarity score between the selfie (user_image) and the reference photo (ref_image) was at or " +
      "below face_match_score_decline_threshold (default 30), so the face match is Declined: Didit could not " +
      "confirm that both photos show the same person. Only a score strictly above the threshold approves.",
    likely_causes: [
      "The selfie and the ID portrait show different people (someone using another person's document).",
      "A small, worn, glared or low-resolution ID portrait, or a photo of the whole card instead of the portrait.",
      "A large change in appearance since the ID photo: age, beard, glasses, weight, heavy make-up.",
      "One image is rotated or the face is turned far from the camera (try rotate_image).",
    ],
    next_action: "review",
    agent_guidance:
      "Do not decide yourself and do not lower the threshold to let the person through. Hand the case to a " +
      "human reviewer with the request_id, who can compare the two photos. If the reference was visibly poor " +
      "(blurred, glared, cut off), one new photo of the ID portrait is reasonable before the review. " +
      DO_NOT_DISCLOSE,
    user_message:
      "We could not automatically confirm that your selfie matches your ID photo. Our team will review it, " +
      "or you may be asked for a clearer photo of your ID.",
  }),
  entry({
    tag: "NO_REFERENCE_IMAGE",
    applies_to: ["face_match"],
    severity: "error",
    declines: true,
    title: "No Reference Face",
    explanation:
      "No pair of faces could be compared: one of the images (usually the reference, ref_image) has no " +
      "usable face, so the face match is Declined with no score. Didit answers score null, or 0 when " +
      "save_api_request is false; both mean no score. faces_detected of user_image and ref_image says which " +
      "image had no face.",
    likely_causes: [
      "The reference is not a portrait: the back of the ID card, a blank page, or the wrong file.",
      "The ID portrait is too small, blurred, covered by glare or a hologram, or cut off.",
      "The selfie has no visible face (covered, out of frame, too dark).",
      "One of the images is sideways or upside down (try rotate_image).",
    ],
    next_action: "retake",
    agent_guidance:
      "Ask for a new photo of the image that had no face (faces_detected is 0): for the ID, a sharp, " +
      "glare-free, straight-on photo of the document's portrait side filling the frame; for the selfie, as " +
      "for NO_FACE_DETECTED. If an image is visibly rotated, resend once with rotate_image true. " +
      RETAKE_LIMIT,
    user_message:
      "We could not find a face to compare in one of the photos. Please take a sharp, well-lit photo of the " +
      "photo page of your ID, straight on and without glare, and try again.",
  }),
  entry({
    tag: "FACE_TOO_SMALL",
    applies_to: ["liveness", "face_match"],
    severity: "warning",
    declines: false,
    title: "Face Too Small (local pre-check)",
    explanation:
      "Local-only tag: raised by precheck_face_image on this machine, never returned by Didit's API. The " +
      "largest face is small on its shorter side: under 40 pixels it blocks (ready: false: Didit may not find " +
      "the face, or judge it on too little detail, so the photo is not worth a credit); from 40 to 79 pixels it is " +
      "only a suggestion (ready: true). It also blocks when the detector saw a face too small to confirm.",
    likely_causes: [
      "The camera was held too far away, so the face fills only a small part of the frame.",
      "A wide shot, group photo or full-body picture instead of a selfie.",
      "A low-resolution image, or a small crop of a larger photo.",
    ],
    next_action: "retake",
    agent_guidance:
      "When it blocks (ready: false: the face is too small to score), do not submit this photo to " +
      "check_passive_liveness: ask the user for a new selfie with the face filling a good part of the frame " +
      "(camera at arm's length), then pre-check it again; after two retakes, let a human decide. When the " +
      "pre-check still says ready: true, the face is small but usable: submit it and pass on the suggestion.",
    user_message:
      "Your face is too small in the photo. Hold the camera closer, at arm's length, so your face fills a good " +
      "part of the frame, and take the photo again.",
  }),
  entry({
    tag: "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION",
    severity: "warning",
    declines: false,
    title: "Second Face Looks Like a Reproduction (local pre-check)",
    explanation:
      "Local-only tag: raised by precheck_face_image on this machine, never returned by Didit's API. Besides the " +
      "largest face, the photo holds another face at least a quarter of its size whose on-device anti-spoofing " +
      "estimate is very low: it looks like a face on a phone screen or a printed photo held up beside a live " +
      "person, a classic replay. Didit scores only the largest face, so its check would say nothing about that one.",
    likely_causes: [
      "Someone holds up a phone, tablet or printed photo showing a face next to their own.",
      "A poster, ID card photo or framed picture with a face in the background.",
      "A second person far from the camera, blurred or in shadow (the estimate is advisory and can be wrong).",
    ],
    next_action: "retake",
    agent_guidance:
      "Do not submit this photo to check_passive_liveness. Ask the user for a new selfie with only their own face " +
      "in the frame and no screen, photo or poster showing a face, then pre-check it again. The estimate is " +
      "advisory: do not accuse the user of anything and do not reject them on this tag alone. " +
      DO_NOT_DISCLOSE +
      " " +
      RETAKE_LIMIT,
    user_message:
      "Please take the photo again with only your own face in the frame: no phone screen, photo or other person " +
      "showing a face.",
  }),
]);

/** What precheck_face_image tells the person for one tag, depending on whether the tag blocks `ready`. */
export interface PrecheckUserMessages {
  /** ready: false. Says what to do now; the photo is not worth a credit. */
  retake: string;
  /** ready: true. The photo will be checked as it is; a tip for a better one, never an order. */
  suggestion: string;
}

/**
 * The pre-check's own user messages: it runs before any check, so none of them may lean on a check's outcome, a
 * request_id or "if you are asked"; the catalog's user_message, written for Didit's answers, is not reused.
 */
export const PRECHECK_USER_MESSAGES: Readonly<Record<string, PrecheckUserMessages>> = Object.freeze({
  NO_FACE_DETECTED: {
    retake:
      "We could not find your face in the photo. Hold the camera at arm's length, keep your whole face in the " +
      "frame with nothing covering it, and take the photo again.",
    suggestion:
      "We could not find your face in the photo; a photo with your whole face in the frame works best.",
  },
  FACE_TOO_SMALL: {
    retake:
      "Your face is too small in the photo. Hold the camera closer, at arm's length, so your face fills a good " +
      "part of the frame, and take the photo again.",
    suggestion:
      "We will check this photo. Your face is a little small in it: if you take another, hold the camera a bit " +
      "closer so your face fills more of the frame.",
  },
  LOW_FACE_LUMINANCE: {
    retake: "Your face is too dark in the photo. Face a window or a lamp and take the photo again.",
    suggestion:
      "We will check this photo. Your face looks a little dark: if you take another, facing a window or a lamp " +
      "helps.",
  },
  HIGH_FACE_LUMINANCE: {
    retake:
      "Your face is too bright in the photo. Move out of direct sunlight or turn off the flash, and take the " +
      "photo again.",
    suggestion:
      "We will check this photo. Your face looks a little bright: if you take another, softer light without " +
      "flash or direct sun helps.",
  },
  LOW_FACE_QUALITY: {
    retake:
      "Your photo is not clear enough. Wipe your camera lens, hold the phone steady with your face filling the " +
      "frame, and take the photo again.",
    suggestion:
      "We will check this photo. It looks a little soft: if you take another, wipe the lens and hold the phone " +
      "steady.",
  },
  MULTIPLE_FACES_DETECTED: {
    retake: "We can see more than one face in the photo. Take the photo again with only you in the picture.",
    suggestion:
      "We will check this photo. We noticed another face in it: if you take another, make sure only you are in " +
      "the picture.",
  },
  SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION: {
    retake:
      "Please take the photo again with only your own face in the frame: no phone screen, photo or other person " +
      "showing a face.",
    suggestion:
      "We will check this photo. We noticed a screen or photo showing a face in it: if you take another, make " +
      "sure only your own face is in the frame.",
  },
});

/** What the pre-check says when nothing stands in the way. */
export const PRECHECK_READY_MESSAGE = "Your photo looks clear. We will now check it.";

/** Raised only by the on-device pre-check (precheck_face_image); Didit's API never returns them. */
export const LOCAL_ONLY_TAGS: readonly string[] = Object.freeze([
  "FACE_TOO_SMALL",
  "SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION",
]);

/**
 * The tags Didit documents (11 for passive liveness, then the face-match ones), in contract order: what
 * explain_warning lists for an unknown tag. findWarning also knows LOCAL_ONLY_TAGS.
 */
export const DOCUMENTED_TAGS: readonly string[] = Object.freeze(
  WARNING_CATALOG.map((e) => e.tag).filter((tag) => !LOCAL_ONLY_TAGS.includes(tag)),
);

/** The documented tags a given call can return. */
export function tagsFor(source: "liveness" | "face_match"): string[] {
  return WARNING_CATALOG.filter((e) => e.applies_to.includes(source) && !LOCAL_ONLY_TAGS.includes(e.tag)).map(
    (e) => e.tag,
  );
}

const BY_TAG: ReadonlyMap<string, WarningEntry> = new Map(WARNING_CATALOG.map((e) => [e.tag, e] as const));

/** Trim, upper-case, and collapse runs of spaces, hyphens and underscores into one underscore. */
export function normalizeTag(input: string): string {
  return input
    .trim()
    .toUpperCase()
    .replace(/[\s_-]+/g, "_");
}

export function findWarning(tag: string): WarningEntry | undefined {
  return BY_TAG.get(normalizeTag(tag));
}
