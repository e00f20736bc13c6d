// Runs the pinned npm `solc` (see package.json) on a standard-JSON input read from stdin and
// writes the standard-JSON output to stdout. Imports that are not in the input's `sources`
// are looked up, in order, under the directories given as arguments (like solc's
// --include-path). `--version` prints the compiler version instead.
// Used by contracts/build.py; not meant to be run by hand.
"use strict";

const fs = require("fs");
const path = require("path");
const solc = require("solc");

const args = process.argv.slice(2);

if (args[0] === "--version") {
  process.stdout.write(solc.version());
  process.exit(0);
}

const includeDirs = args.map((dir) => path.resolve(dir));

function findImports(importPath) {
  for (const dir of includeDirs) {
    const candidate = path.resolve(dir, importPath);
    // Never leave an include directory through "..".
    if (!candidate.startsWith(dir + path.sep)) continue;
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `not found under ${includeDirs.join(", ") || "(no include dirs)"}: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
