// How the app names people: one rule for yourself and for the others, so a
// person who gave no name is "Guest" on every screen (their own included).

/**
 * @param {string|null|undefined} name what the person typed (may be empty)
 * @returns {string} the name shown for them
 */
export function displayName(name) {
  const n = String(name ?? "").trim();
  return n || "Guest";
}

/**
 * @param {string|null|undefined} name what you typed in the lobby
 * @returns {string} the label of your own tile
 */
export function selfLabel(name) {
  return `${displayName(name)} (you)`;
}
