'use strict';
// Where the stack under test is (the addresses scripts/stack writes to
// <state>/env), and a reader for the services' Prometheus /metrics.
//
//   const { stackEnv, scrapeMetrics, sample } = require('./lib/stack');
//   const env = stackEnv();                 // { BUILD_ADDR: '127.0.0.1:…', … }
//   const m = await scrapeMetrics(env.BUILD_METRICS_ADDR);
//   sample(m, 'grpc_server_handled_total', { grpc_method: 'ListBuilds' });  // summed value, or undefined

const fs = require('fs');
const path = require('path');

const kKeys = ['BUILD_ADDR', 'DEPLOY_ADDR', 'BUILD_METRICS_ADDR', 'DEPLOY_METRICS_ADDR',
  'REGISTRY', 'DATABASE_URL'];
// Also passed on when set; tests that need them check for them.
const kOptionalKeys = ['CANONICAL_REPOSITORY', 'STAGING_REPOSITORY', 'APP_URL', 'SHAPIN_TOKEN',
  'TOKENS_FILE', 'CONSOLE_URL', 'CONSOLE_CA'];

// The variables from the environment when all are set (tests/e2e/run.sh
// exports them), else from ${SHAPIN_STACK_DIR:-<repo>/.stack}/env.
function stackEnv() {
  if (kKeys.every((k) => process.env[k])) {
    return Object.fromEntries([...kKeys, ...kOptionalKeys]
      .filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  }
  const dir = process.env.SHAPIN_STACK_DIR || path.resolve(__dirname, '..', '..', '..', '.stack');
  const file = path.join(dir, 'env');
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`no stack: ${file} unreadable (${err.code}); run scripts/stack up or tests/e2e/run.sh`);
  }
  const env = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  const missing = kKeys.filter((k) => !env[k]);
  if (missing.length) throw new Error(`${file} lacks ${missing.join(', ')}`);
  return env;
}

// Parses the Prometheus text format into [{name, labels, value}].
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l;
    while ((l = re.exec(m[2] || '')) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrapeMetrics(addr) {
  const res = await fetch(`http://${addr}/metrics`, { signal: AbortSignal.timeout(10000) });
  if (!res.ok) throw new Error(`GET http://${addr}/metrics: HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

// Sum of the samples named `name` whose labels include `labels`; undefined
// when there is none.
function sample(samples, name, labels = {}) {
  const hits = samples.filter((s) => s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.length ? hits.reduce((sum, s) => sum + s.value, 0) : undefined;
}

// The stack's raw bearer tokens by identity name ({ 'stack-viewer': '…', … })
// from env.TOKENS_FILE (NAME=token lines, written by scripts/stack).
function stackTokens(env) {
  if (!env.TOKENS_FILE) throw new Error('the stack env lacks TOKENS_FILE (scripts/stack writes it)');
  const tokens = {};
  for (const line of fs.readFileSync(env.TOKENS_FILE, 'utf8').split('\n')) {
    const m = /^([A-Za-z0-9._@-]+)=(.+)$/.exec(line.trim());
    if (m) tokens[m[1]] = m[2];
  }
  return tokens;
}

module.exports = { stackEnv, stackTokens, parseMetrics, scrapeMetrics, sample };
