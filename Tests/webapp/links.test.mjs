import test from "node:test";
import assert from "node:assert/strict";
import { isLandingUrl, roomLinkFromPaste } from "../../Templates/webapp/links.js";

const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyMSJ9.c2ln";
const room = `http://127.0.0.1:8080/?room=r1#token=${token}`;

test("the app's own address is the landing page", () => {
  assert.equal(isLandingUrl("http://127.0.0.1:8080/"), true);
  assert.equal(isLandingUrl("https://d111.cloudfront.net/index.html"), true);
  assert.equal(isLandingUrl("https://d111.cloudfront.net/?utm=x"), true);
});

test("anything naming a room goes to the lobby, broken or not", () => {
  assert.equal(isLandingUrl(room), false);
  assert.equal(isLandingUrl("http://127.0.0.1:8080/?room=r1"), false); // token lost: the lobby says so
  assert.equal(isLandingUrl(`http://127.0.0.1:8080/#token=${token}`), false);
});

test("a pasted room link is opened as it is, spaces trimmed", () => {
  assert.equal(roomLinkFromPaste(`  ${room}\n`), room);
  assert.equal(roomLinkFromPaste(room.replace("http:", "https:")), room.replace("http:", "https:"));
});

test("anything else is refused with what a room link looks like", () => {
  for (const bad of ["", "   ", "hello", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/?room=r1",
    `javascript:alert(1)//?room=r1#token=${token}`, `data:text/html,x?room=r1#token=${token}`]) {
    assert.throws(() => roomLinkFromPaste(bad), /room link looks like/, bad);
  }
});
