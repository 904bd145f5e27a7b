#!/usr/bin/env node
// Runs the reference oracle (oracle.js) many times in one Node process.
//
// oracle.js ends by calling its main function on process.argv. This driver loads the oracle's
// source with that last call replaced by an export of the main function, then answers requests
// read from stdin, one JSON object a line:
//     {"id": ANY, "args": ["convert", "/path/in.json", "--now", "..."]}
// with one JSON line each on stdout:
//     {"id": ANY, "exit": 0|1|2|64|70, "stdout": "...", "stderr": "..."}
// exactly what `node oracle.js ARGS...` would print and exit with. Requests run one at a time
// (the oracle writes to process.stdout, which is captured per request).
//
// usage: node oracle_driver.js [PATH/TO/oracle.js]
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");
const readline = require("readline");

const oraclePath = path.resolve(
  process.argv[2] || process.env.EPS_ORACLE ||
  path.join(process.env.EPS_SHARED_DIR || path.join(__dirname, "..", "..", "..", "shared"),
            "tools", "eps-reference", "oracle.js"));

const MAIN_CALL = "kRt(process.argv.slice(2)).then(";
const ID_COUNTER = "var yRt=0;";

function loadOracle() {
  let src = fs.readFileSync(oraclePath, "utf8");
  if (src.startsWith("#!")) src = "//" + src.slice(2);
  const at = src.lastIndexOf(MAIN_CALL);
  if (at < 0 || src.indexOf(ID_COUNTER) < 0) {
    throw new Error(`${oraclePath}: the main call or the id counter was not found; ` +
      "this driver knows the oracle of commit 77e80e11 (fall back to --oracle-per-file)");
  }
  // Everything from the main call on is replaced: expose main, and a reset of the id counter
  // so that every request draws ids from 1 as a fresh process would.
  src = src.slice(0, at) +
    "module.exports={main:kRt,resetIds:()=>{yRt=0;}};\n";
  const m = new Module(oraclePath, null);
  m.filename = oraclePath;
  m.paths = Module._nodeModulePaths(path.dirname(oraclePath));
  m._compile(src, oraclePath);
  return m.exports;
}

const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);

async function runOne(oracle, args) {
  let out = "", err = "";
  const toString = (chunk, enc) =>
    typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof enc === "string" ? enc : "utf8");
  process.stdout.write = (chunk, enc, cb) => { out += toString(chunk, enc); if (typeof enc === "function") enc(); else if (cb) cb(); return true; };
  process.stderr.write = (chunk, enc, cb) => { err += toString(chunk, enc); if (typeof enc === "function") enc(); else if (cb) cb(); return true; };
  let exit;
  try {
    oracle.resetIds();
    exit = await oracle.main(args.slice());
  } catch (e) {
    err += `oracle error: ${e && e.stack ? e.stack : e}\n`;
    exit = e && e.constructor && e.constructor.name === "Usage" ? 64 : 70;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
  return { exit, stdout: out, stderr: err };
}

async function main() {
  const oracle = loadOracle();
  process.on("uncaughtException", (e) => realErr(`driver: uncaught ${e && e.stack}\n`));
  process.on("unhandledRejection", (e) => realErr(`driver: unhandled ${e && e.stack}\n`));
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let req;
    try { req = JSON.parse(line); } catch (e) { realErr(`driver: bad request line\n`); continue; }
    const res = await runOne(oracle, req.args || []);
    realOut(JSON.stringify({ id: req.id, ...res }) + "\n");
  }
}

main().catch((e) => { realErr(`driver: ${e && e.stack}\n`); process.exit(70); });
