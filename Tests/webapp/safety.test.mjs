import test from "node:test";
import assert from "node:assert/strict";
import { fingerprintFromSdp, safetyCode, safetyCodeFromSdp } from "../../Templates/webapp/safety.js";

const fpA = "sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:B5:8E:50:06:28:EF:0C:93:8F:71:61:7A:6E";
const fpB = "sha-256 0F:7E:33:12:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C";
const sdp = (fp) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:${fp.replace(/^sha-256 /, "sha-256 ").toLowerCase().replace("sha-256", "SHA-256")}\r\na=setup:actpass\r\n`;

test("fingerprint is read from the SDP and normalised", () => {
  assert.equal(fingerprintFromSdp(sdp(fpA)), fpA);
  assert.equal(fingerprintFromSdp("v=0\r\n"), null);
  assert.equal(fingerprintFromSdp(undefined), null);
});

test("both sides get the same code whatever the order", () => {
  const c1 = safetyCode(fpA, fpB);
  assert.equal(c1, safetyCode(fpB, fpA));
  assert.match(c1, /^\d{4} \d{4} \d{4} \d{4}$/);
  assert.equal(safetyCodeFromSdp(sdp(fpA), sdp(fpB)), safetyCodeFromSdp(sdp(fpB), sdp(fpA)));
  assert.equal(safetyCodeFromSdp(sdp(fpA), sdp(fpB)), c1);
});

test("a different certificate (a man in the middle) changes the code", () => {
  const fpM = fpB.replace(/5C$/, "5D");
  assert.notEqual(safetyCode(fpA, fpM), safetyCode(fpA, fpB));
  assert.notEqual(safetyCode(fpA, fpB), safetyCode(fpA, fpA));
  assert.equal(safetyCodeFromSdp(sdp(fpA), "v=0\r\n"), null);
  assert.throws(() => safetyCode(fpA, ""));
});
