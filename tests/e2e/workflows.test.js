'use strict';
// The CI workflows of deploy/ci/github run against a real stack: each step
// that calls shapin is executed as GitHub would run it (bash -eo pipefail,
// the step's env with the ${{ … }} expressions substituted), with grpcurl
// replaced by a stand-in that makes the same calls through the independent
// reflection client (tests/deploy_assets/grpcurl-shim). So the very scripts
// of the workflows — their grpcurl calls, JSON bodies, jq and failure
// handling — are what is tested, not a copy of them.
//
// Flow on the sample repository (tests/fixtures/make-sample-repo): api-build
// for two main commits (passes, prints the pinned image) and for the broken
// commit (the job fails); api-deploy of the newest (the stack's `local`
// environment); api-rollback to the older one by IMAGE_SHA (held after it);
// api-deploy again fails ON_HOLD; a malformed IMAGE_SHA is refused before any
// call. Leaves the environment released.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const YAML = require('yaml');
const { ReflectionClient } = require('./lib/reflection-client');
const { stackEnv } = require('./lib/stack');

const kRepo = path.resolve(__dirname, '..', '..');
const kWorkflows = path.join(kRepo, 'deploy', 'ci', 'github');
const kShimDir = path.join(kRepo, 'tests', 'deploy_assets', 'grpcurl-shim');
const kMakeSampleRepo = path.join(kRepo, 'tests', 'fixtures', 'make-sample-repo');
const kEnvironment = 'local';
const kStepMs = 200000;

// Value of one GitHub expression: `a.b.c`, `'literal'`, joined by `||`
// (first truthy). An unknown context path throws, so every expression the
// workflows use must be accounted for here.
function evaluate(expr, context) {
  for (const operand of expr.split('||').map((s) => s.trim())) {
    const literal = /^'(.*)'$/.exec(operand);
    if (literal) return literal[1];
    let value = context;
    for (const key of operand.split('.')) {
      if (value === undefined || !(key in value)) {
        throw new Error(`workflow expression \${{ ${expr} }}: ${operand} is not in the test context`);
      }
      value = value[key];
    }
    if (value) return String(value);
  }
  return '';
}

function substitute(text, context) {
  return String(text).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e) => evaluate(e, context));
}

// The steps of `file` that call shapin (the grpcurl install step needs the
// internet and is replaced by the stand-in on PATH).
function shapinSteps(file) {
  const wf = YAML.parse(fs.readFileSync(path.join(kWorkflows, file), 'utf8'));
  const out = [];
  for (const job of Object.values(wf.jobs)) {
    for (const step of job.steps) {
      if (step.run && step.run.includes('shapin.v1.')) {
        out.push({ wf, job, step });
      }
    }
  }
  assert.ok(out.length > 0, `${file} has no step calling shapin`);
  return out;
}

// Runs the workflow's shapin steps in order as GitHub's `shell: bash` does;
// stops at the first failing step. Returns {status, stdout, stderr, summary}.
function runWorkflow(file, context, timeoutMs) {
  const result = { status: 0, stdout: '', stderr: '', summary: '' };
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'shapin-wf-'));
  try {
    for (const { wf, job, step } of shapinSteps(file)) {
      assert.equal(wf.defaults?.run?.shell ?? job.defaults?.run?.shell, 'bash', `${file}: steps run in bash`);
      const files = Object.fromEntries(['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY']
        .map((k) => [k, path.join(temp, k)]));
      const env = {
        PATH: `${kShimDir}:${process.env.PATH}`, HOME: process.env.HOME || temp,
        RUNNER_TEMP: temp, CI: 'true', GITHUB_ACTIONS: 'true', ...files,
      };
      for (const scope of [wf.env, job.env, step.env]) {
        for (const [k, v] of Object.entries(scope || {})) env[k] = substitute(v, context);
      }
      const script = path.join(temp, 'step.sh');
      fs.writeFileSync(script, step.run);
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script],
        { env, encoding: 'utf8', timeout: timeoutMs, cwd: temp });
      result.stdout += r.stdout;
      result.stderr += r.stderr;
      result.status = r.status === null ? `signal ${r.signal}` : r.status;
      if (fs.existsSync(files.GITHUB_STEP_SUMMARY)) {
        result.summary += fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
      }
      if (result.status !== 0) break;
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return result;
}

function show(r) {
  return `exit ${r.status}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

describe('CI workflows (deploy/ci/github) against a real stack', () => {
  let env;
  let build;
  let deploy;
  let repoDir;
  let shas;
  let token;
  const s = {};

  const auth = () => (token ? { metadata: { authorization: `Bearer ${token}` } } : {});

  function context({ sha = '', branch = 'main', inputs = {} } = {}) {
    return {
      github: {
        sha, ref_name: branch, actor: 'e2e-workflows', server_url: 'https://github.com',
        repository: 'mconstant/pay2slay', run_id: '1',
        event: { workflow_run: { head_sha: sha } },
      },
      vars: {
        SHAPIN_BUILD_ADDR: env.BUILD_ADDR, SHAPIN_DEPLOY_ADDR: env.DEPLOY_ADDR,
        SHAPIN_PLAINTEXT: 'true', SHAPIN_SOURCE_URL: `file://${repoDir}`,
        SHAPIN_ENVIRONMENT: kEnvironment,
      },
      secrets: { SHAPIN_TOKEN: token },
      inputs: { IMAGE_SHA: '', REASON: '', ENVIRONMENT: '', ...inputs },
    };
  }

  function needs(t, ...keys) {
    const missing = keys.filter((k) => s[k] === undefined);
    if (missing.length === 0) return true;
    t.skip(`an earlier step failed: no ${missing.join(', ')}`);
    return false;
  }

  before(async () => {
    env = stackEnv();
    token = process.env.SHAPIN_TOKEN || env.SHAPIN_TOKEN || '';
    assert.ok(env.CANONICAL_REPOSITORY, "the stack's env lacks CANONICAL_REPOSITORY");
    build = new ReflectionClient(env.BUILD_ADDR, { timeoutMs: 30000 });
    deploy = new ReflectionClient(env.DEPLOY_ADDR, { timeoutMs: 30000 });
    repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shapin-e2e-wf-'));
    const out = execFileSync(kMakeSampleRepo, [repoDir], { encoding: 'utf8', timeout: 60000 });
    const commits = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const main = commits.filter(([b]) => b === 'main').map(([, sha]) => sha);
    shas = { older: main[0], newest: main[2], broken: commits.find(([b]) => b === 'broken')[1] };
    // Another test file may have left the environment held after a rollback.
    await deploy.call('shapin.v1.DeployService/ReleaseHold',
      { environment: kEnvironment, requested_by: 'e2e-workflows' }, auth()).catch(() => {});
  });

  after(async () => {
    if (deploy) {
      await deploy.call('shapin.v1.DeployService/ReleaseHold',
        { environment: kEnvironment, requested_by: 'e2e-workflows' }, auth()).catch(() => {});
    }
    build?.close();
    deploy?.close();
    if (repoDir) fs.rmSync(repoDir, { recursive: true, force: true });
  });

  test('api-build: SubmitBuild + WatchBuild of two main commits pass and print the pinned image',
    { timeout: kStepMs }, async () => {
      for (const [key, sha] of [['older', shas.older], ['newest', shas.newest]]) {
        const r = runWorkflow('api-build.yml', context({ sha, branch: 'main' }), 180000);
        assert.equal(r.status, 0, show(r));
        const line = new RegExp(`image_ref=(${env.CANONICAL_REPOSITORY.replace(/[.]/g, '\\.')}:${sha}@(sha256:[0-9a-f]{64})) digest=(sha256:[0-9a-f]{64}) git_sha=${sha}`);
        const m = line.exec(r.stdout);
        assert.ok(m, `no image_ref line for ${sha}:\n${show(r)}`);
        assert.equal(m[2], m[3], 'the digest printed is the one in the reference');
        assert.ok(r.summary.includes(m[1]), `step summary lacks the image: ${r.summary}`);
        // What the job printed is what build-svc published.
        const image = await build.call('shapin.v1.BuildService/GetImage', { git_sha: sha }, auth());
        assert.equal(image.image_ref, m[1]);
        s[key] = image;
      }
    });

  test('api-build: the broken commit fails the job with the build error and the builder output',
    { timeout: kStepMs }, () => {
      const r = runWorkflow('api-build.yml', context({ sha: shas.broken, branch: 'broken' }), 180000);
      assert.notEqual(r.status, 0, show(r));
      assert.match(r.stdout, /::error::build \d+ ended BUILD_STATE_FAILED: BUILD_FAILURE/, show(r));
      assert.match(r.stdout, /NOT_AN_INSTRUCTION/, `the builder's error is in the job log:\n${show(r)}`);
      assert.doesNotMatch(r.stdout, /image_ref=/);
    });

  test('api-deploy: Deploy by SHA pins the image and logs the signature status',
    { timeout: kStepMs }, async (t) => {
      if (!needs(t, 'newest')) return;
      const r = runWorkflow('api-deploy.yml', context({ sha: shas.newest }), 180000);
      assert.equal(r.status, 0, show(r));
      assert.ok(r.stdout.includes(`environment=${kEnvironment} image_ref=${s.newest.image_ref}`), show(r));
      // The stack's build-svc signs what it publishes; deploy-svc verifies it.
      assert.match(r.stdout, /^signature_status=verified$/m, show(r));
      const current = await deploy.call('shapin.v1.DeployService/GetCurrent', { environment: kEnvironment }, auth());
      assert.equal(current.image_sha, shas.newest);
      assert.equal(current.image_ref, s.newest.image_ref);
      s.deployed = current;
    });

  test('api-rollback: Rollback to IMAGE_SHA redeploys the older image and holds the environment',
    { timeout: kStepMs }, async (t) => {
      if (!needs(t, 'deployed', 'older')) return;
      const r = runWorkflow('api-rollback.yml', context({
        inputs: { IMAGE_SHA: shas.older, REASON: 'e2e: newest misbehaves' },
      }), 180000);
      assert.equal(r.status, 0, show(r));
      assert.ok(r.stdout.includes(`image_ref=${s.older.image_ref} previous_sha=${shas.newest}`), show(r));
      const current = await deploy.call('shapin.v1.DeployService/GetCurrent', { environment: kEnvironment }, auth());
      assert.equal(current.image_sha, shas.older);
      assert.equal(current.kind, 'DEPLOYMENT_KIND_ROLLBACK');
      assert.equal(current.reason, 'e2e: newest misbehaves');
      s.rolledBack = current;
    });

  test('api-deploy after the rollback fails ON_HOLD and changes nothing', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'rolledBack')) return;
    const r = runWorkflow('api-deploy.yml', context({ sha: shas.newest }), 180000);
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stderr, /ON_HOLD/, show(r));
    assert.match(r.stdout, /::error::Deploy of [0-9a-f]{40} to local failed/, show(r));
    const current = await deploy.call('shapin.v1.DeployService/GetCurrent', { environment: kEnvironment }, auth());
    assert.equal(current.deployment_id, s.rolledBack.deployment_id);
  });

  test('api-rollback refuses a malformed IMAGE_SHA before calling shapin', { timeout: kStepMs }, async () => {
    const before = await deploy.call('shapin.v1.DeployService/ListDeployments', { environment: kEnvironment }, auth());
    const r = runWorkflow('api-rollback.yml', context({ inputs: { IMAGE_SHA: 'abc123', REASON: 'x' } }), 30000);
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stdout, /::error::IMAGE_SHA must be 40 lowercase hex characters/, show(r));
    const afterList = await deploy.call('shapin.v1.DeployService/ListDeployments', { environment: kEnvironment }, auth());
    assert.equal(afterList.deployments[0]?.deployment_id, before.deployments[0]?.deployment_id, 'nothing recorded');
  });

  test('the stand-in refuses what grpcurl would need TLS or unknown flags for', () => {
    const r = spawnSync(path.join(kShimDir, 'grpcurl'), ['-insecure', env.BUILD_ADDR, 'list'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /not supported/);
  });
});

