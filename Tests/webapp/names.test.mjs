import test from "node:test";
import assert from "node:assert/strict";
import { displayName, selfLabel } from "../../Templates/webapp/names.js";

test("no name is Guest, for yourself as for the others", () => {
  for (const empty of ["", "   ", null, undefined]) {
    assert.equal(displayName(empty), "Guest");
    assert.equal(selfLabel(empty), "Guest (you)");
  }
});

test("a given name is kept, trimmed", () => {
  assert.equal(displayName("  Ada "), "Ada");
  assert.equal(selfLabel("Ada"), "Ada (you)");
});
