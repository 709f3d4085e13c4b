// The app page names every module app.js loads, directly or through others,
// as a modulepreload: the browser then fetches them all at once instead of
// discovering one import level per round trip (the SDK is several levels
// deep). A module added without its line here would load late, unnoticed.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const dir = new URL("../../Templates/webapp/", import.meta.url);
const read = (name) => readFileSync(new URL(name, dir), "utf8");

/** The modules a module imports or re-exports, statically, from this folder. */
function importsOf(name) {
  const src = read(name);
  return [...src.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s+"\.\/([\w.-]+\.js)"/gm)].map((m) => m[1]);
}

test("index.html preloads every module app.js loads, and nothing else", () => {
  const reached = new Set();
  const visit = (name) => { for (const m of importsOf(name)) if (!reached.has(m)) { reached.add(m); visit(m); } };
  visit("app.js");
  assert.ok(reached.has("otter.js") && reached.has("negotiation.js") && reached.has("signaling.js"), "the import walk reaches the SDK");
  const preloaded = [...read("index.html").matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual([...preloaded].sort(), [...reached].sort());
});
