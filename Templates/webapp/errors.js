// The SDK's one error type: what went wrong, as a code a page can branch on.

/** An error with a machine-readable `code`. */
export class OtterError extends Error {
  /**
   * @param {string} code e.g. "invalid-link", "token-expired", "room-not-found", "room-full",
   *   "media-denied", "media-not-found", "network", "signaling-unavailable", "bad-config"
   * @param {string} message
   * @param {{status?:number, cause?:unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    /** @type {"OtterError"} */
    this.name = "OtterError";
    this.code = code;
    /** @type {number|undefined} the HTTP status, for errors from the REST API */
    this.status; // eslint-disable-line no-unused-expressions -- declares it for the type checker
    Object.assign(this, extra);
  }
}
