// Prints {"<file>": <hcl2json of the file> | {"__error__": "<message>"}} for every file named on
// the command line, with @cdktf/hcl2json from tests/node_modules (pinned in tests/package.json).
"use strict";
const fs = require("fs");
const path = require("path");
const hcl = require(path.join(__dirname, "..", "node_modules", "@cdktf", "hcl2json"));

(async () => {
    const out = {};
    for (const file of process.argv.slice(2)) {
        try {
            out[file] = await hcl.parse(path.basename(file), fs.readFileSync(file, "utf8"));
        } catch (e) {
            out[file] = { __error__: String(e && e.message ? e.message : e) };
        }
    }
    process.stdout.write(JSON.stringify(out));
})().catch((e) => {
    process.stderr.write(String(e) + "\n");
    process.exit(2);
});
