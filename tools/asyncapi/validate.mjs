// Parse AsyncAPI documents with the official parser and print its diagnostics.
//
//   node validate.mjs [--strict] FILE...
//
// One line per diagnostic (file:line:col severity code message [at json.path]), then a
// summary line per file. Exit status: 0 when no file has an error (with --strict: no error
// and no warning), 1 otherwise, 2 on a usage error.
import { resolve } from 'node:path';
import { Parser, fromFile, DiagnosticSeverity } from '@asyncapi/parser';

const NAMES = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

function usage(message) {
  if (message) console.error(`validate.mjs: ${message}`);
  console.error('usage: node validate.mjs [--strict] FILE...');
  process.exit(2);
}

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const files = args.filter((arg) => arg !== '--strict');
if (files.some((arg) => arg.startsWith('-'))) usage(`unknown option ${files.find((arg) => arg.startsWith('-'))}`);
if (files.length === 0) usage('no file given');

const parser = new Parser();
let failed = false;
for (const file of files) {
  const path = resolve(file);
  let diagnostics;
  try {
    ({ diagnostics } = await fromFile(parser, path).parse());
  } catch (error) {
    console.log(`${file}: error could-not-parse ${error.message}`);
    failed = true;
    continue;
  }
  const counts = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const diagnostic of diagnostics) {
    const severity = NAMES[diagnostic.severity] ?? 'error';
    counts[severity] += 1;
    const start = diagnostic.range?.start ?? { line: 0, character: 0 };
    const where = diagnostic.path?.length ? ` at ${diagnostic.path.join('.')}` : '';
    console.log(
      `${file}:${start.line + 1}:${start.character + 1} ${severity} ${diagnostic.code} ${diagnostic.message}${where}`,
    );
  }
  console.log(
    `${file}: ${counts.error} errors, ${counts.warning} warnings, ${counts.info} infos, ${counts.hint} hints`,
  );
  if (counts.error > 0 || (strict && counts.warning > 0)) failed = true;
}
process.exit(failed ? 1 : 0);
