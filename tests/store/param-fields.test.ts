// Which fields of a task's params a param filter can find (src/store/param-fields.ts).
import { expect, test } from "bun:test";
import { JsonText } from "../../src/store/index.ts";
import { MAX_PARAM_FIELDS, searchableParamFields } from "../../src/store/param-fields.ts";

test("scalars of objects, nested up to 4 levels, as text", () => {
  expect(
    searchableParamFields({
      s: "x",
      n: 7,
      f: 7.5,
      big: 1e21,
      yes: true,
      no: false,
      none: null,
      list: [1, 2],
      a: { b: { c: { d: "kept", e: { f: "too deep" } } } },
    }),
  ).toEqual([
    { path: "s", value: "x" },
    { path: "n", value: "7" },
    { path: "f", value: "7.5" },
    { path: "big", value: "1e+21" },
    { path: "yes", value: "true" },
    { path: "no", value: "false" },
    { path: "a.b.c.d", value: "kept" },
  ]);
});

test("keys a path cannot name, long strings and text PostgreSQL cannot hold are left out", () => {
  expect(
    searchableParamFields({
      "a.b": "dotted",
      "with space": "x",
      ok_key: "y".repeat(256),
      long: "y".repeat(257),
      nul: "a\u0000b",
      lone: "\ud800",
      pair: "😀",
      "": "empty key",
    }),
  ).toEqual([
    { path: "ok_key", value: "y".repeat(256) },
    { path: "pair", value: "😀" },
  ]);
});

test("params that are not an object, JSON text, and the cap on fields", () => {
  expect(searchableParamFields(null)).toEqual([]);
  expect(searchableParamFields("text")).toEqual([]);
  expect(searchableParamFields([{ a: 1 }])).toEqual([]);
  expect(searchableParamFields(new JsonText('{"a":{"b":1}}', undefined))).toEqual([
    { path: "a.b", value: "1" },
  ]);
  const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
  const fields = searchableParamFields(many);
  expect(fields).toHaveLength(MAX_PARAM_FIELDS);
  expect(fields.at(-1)).toEqual({ path: `k${MAX_PARAM_FIELDS - 1}`, value: String(MAX_PARAM_FIELDS - 1) });
});
