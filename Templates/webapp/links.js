// Which page an address opens (the landing page or a room), and the room link
// a person pastes on the landing page.

import { parseRoomUrl } from "./protocol.js";

/**
 * The app's own address, with no room in it (what `otter up` prints as
 * "Web app:"), opens the landing page; anything naming a room is a room link,
 * checked (and refused when broken) by the lobby.
 * @param {string} href
 * @returns {boolean}
 */
export function isLandingUrl(href) {
  let u;
  try { u = new URL(href); } catch { return false; }
  const hash = new URLSearchParams(u.hash.replace(/^#/, ""));
  return !u.searchParams.has("room") && !hash.has("token");
}

/**
 * The address to open for a pasted room link.
 * @param {string} text what was pasted
 * @returns {string} the link, when it is a web address with a room id and token
 * @throws {Error} saying what a room link looks like
 */
export function roomLinkFromPaste(text) {
  const raw = String(text ?? "").trim();
  const help = "A room link looks like https://…/?room=…#token=… — paste the whole link you were sent.";
  if (!raw) throw new Error(`Paste a room link first. ${help}`);
  let u;
  try { u = new URL(raw); } catch { throw new Error(`That is not a web address. ${help}`); }
  // only web addresses: never navigate to javascript: or data: links
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`That is not a web address. ${help}`);
  try { parseRoomUrl(u.href); } catch { throw new Error(`That link has no room in it, or only part of one. ${help}`); }
  return u.href;
}
