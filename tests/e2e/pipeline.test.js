'use strict';
// The whole operator/CI flow through server reflection only (the way grpcurl
// would be used), against a real stack: a git repository of the sample app
// (tests/fixtures/make-sample-repo), builds of its commits by SHA, deploys of
// those SHAs to the stack's `local` environment (podman), the app answering
// its version over HTTP, rollback, the hold after it, cancel, a failing build,
// and the Prometheus metrics all of that leaves behind.
//
// The steps share state and run in order (one describe, tests run one after
// the other); a step whose prerequisites failed is skipped, naming them.
// Runs against the stack in the environment (tests/e2e/run.sh starts a private
// one) or in ${SHAPIN_STACK_DIR:-.stack}/env. It needs a stack on which the
// fixture's SHAs have not been built or deployed yet: a fresh one.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ReflectionClient } = require('./lib/reflection-client');
const { grpcFailure } = require('./lib/grpc-failure');
const { stackEnv, scrapeMetrics, sample } = require('./lib/stack');

const kBuild = 'shapin.v1.BuildService';
const kDeploy = 'shapin.v1.DeployService';
const kEnvironment = 'local';
const kMakeSampleRepo = path.resolve(__dirname, '..', 'fixtures', 'make-sample-repo');

// Deadlines of the calls that wait for a build or a deployment to end, and of
// the steps (node:test) around them. Builds take ~5-10 s, deploys a few
// seconds; run.sh bounds the whole run at 300 s.
const kBuildCallMs = 180000;
const kDeployCallMs = 150000; // the stack's rollout_timeout is 2m
const kStepMs = 200000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Asserts a failed call's status code and the error code its message starts with.
function assertGrpcError(err, codeName, errorCode, what) {
  const msg = `${what}: ${err.codeName}: ${err.details}`;
  assert.equal(err.codeName, codeName, msg);
  assert.match(err.details, new RegExp(`^${errorCode}\\b`), msg);
}

// Retries check() until it passes or timeoutMs passes (then rethrows its error).
async function eventually(check, timeoutMs = 5000, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(intervalMs);
  }
}

const kSha256 = /^sha256:[0-9a-f]{64}$/;

describe('pipeline: build by SHA, deploy, roll back (through reflection)', () => {
  let env;
  let build;
  let deploy;
  let repoDir;
  // Shared state between the steps; undefined until the step producing it passed.
  const s = {};

  // Skips the step (returns false) when an earlier step did not produce what it needs.
  function needs(t, ...keys) {
    const missing = keys.filter((k) => s[k] === undefined);
    if (missing.length === 0) return true;
    t.skip(`an earlier step failed: no ${missing.join(', ')}`);
    return false;
  }

  async function appVersion() {
    const url = `${env.APP_URL}/version`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
    assert.equal(res.status, 200, `GET ${url}`);
    return (await res.text()).trim();
  }

  async function submitAndWait(sha, branch, extra = {}) {
    return build.call(`${kBuild}/SubmitBuild`, {
      git_sha: sha, branch, source_url: `file://${repoDir}`, wait: true,
      requested_by: 'e2e-pipeline', ...extra,
    }, { timeoutMs: kBuildCallMs });
  }

  function deployCall(sha, extra = {}) {
    return deploy.call(`${kDeploy}/Deploy`, {
      environment: kEnvironment, image_sha: sha, requested_by: 'e2e-ci', ...extra,
    }, { timeoutMs: kDeployCallMs });
  }

  // What every published canonical build of `sha` must look like.
  function assertPublishedCanonical(b, sha, outcome) {
    const what = JSON.stringify(b);
    assert.equal(b.state, 'BUILD_STATE_SUCCEEDED', what);
    assert.equal(b.outcome, outcome, what);
    assert.equal(b.git_sha, sha, what);
    assert.equal(b.repository_type, 'REPOSITORY_TYPE_CANONICAL', what);
    assert.equal(b.repository, env.CANONICAL_REPOSITORY, what);
    assert.match(b.digest, kSha256, what);
    assert.equal(b.image_ref, `${env.CANONICAL_REPOSITORY}:${sha}@${b.digest}`, what);
    assert.deepEqual(b.tags, [sha, sha.slice(0, 12)], what);
    assert.equal(b.error_code, '', what);
  }

  function assertDeployed(d, sha, image, kind, what) {
    const text = `${what}: ${JSON.stringify({ ...d, rendered_manifest: '…' })}`;
    assert.equal(d.state, 'DEPLOYMENT_STATE_SUCCEEDED', text);
    assert.equal(d.kind, kind, text);
    assert.equal(d.environment, kEnvironment, text);
    assert.equal(d.image_sha, sha, text);
    assert.equal(d.digest, image.digest, text);
    assert.equal(d.image_ref, image.image_ref, text);
    assert.equal(d.error_code, '', text);
    assert.equal(d.dry_run, false, text);
  }

  before(() => {
    env = stackEnv();
    for (const k of ['APP_URL', 'CANONICAL_REPOSITORY']) {
      assert.ok(env[k], `the stack's env lacks ${k} (scripts/stack writes it)`);
    }
    build = new ReflectionClient(env.BUILD_ADDR, { timeoutMs: 30000, token: env.SHAPIN_TOKEN || null });
    deploy = new ReflectionClient(env.DEPLOY_ADDR, { timeoutMs: 30000, token: env.SHAPIN_TOKEN || null });

    repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shapin-e2e-sample-'));
    const out = execFileSync(kMakeSampleRepo, [repoDir], { encoding: 'utf8', timeout: 60000 });
    const commits = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const onBranch = (b) => commits.filter(([branch]) => branch === b).map(([, sha]) => sha);
    const main = onBranch('main');
    assert.equal(main.length, 3, `make-sample-repo printed:\n${out}`);
    s.repo = {
      a: main[0], b: main[1],
      feature: onBranch('feature')[0], broken: onBranch('broken')[0], slow: onBranch('slow')[0],
    };
    for (const [k, sha] of Object.entries(s.repo)) {
      assert.match(sha || '', /^[0-9a-f]{40}$/, `commit ${k} from make-sample-repo:\n${out}`);
    }
  });

  after(() => {
    build?.close();
    deploy?.close();
    if (!repoDir) return;
    if (process.env.SHAPIN_E2E_KEEP === '1') {
      process.stderr.write(`pipeline.test.js: kept the sample repository ${repoDir}\n`);
    } else {
      fs.rmSync(repoDir, { recursive: true, force: true });
    }
  });

  test('1. SubmitBuild A (main, wait) publishes it to the canonical repository; GetImage and WatchBuild agree',
    { timeout: kStepMs }, async () => {
      const sha = s.repo.a;
      const b = await submitAndWait(sha, 'main');
      assertPublishedCanonical(b, sha, 'BUILD_OUTCOME_PUBLISHED');
      assert.equal(b.short_sha, sha.slice(0, 12));
      assert.equal(b.platform, 'linux/amd64');
      assert.equal(b.digest_verification, 'ok', JSON.stringify(b));
      assert.equal(b.pre_push_digest, b.digest);
      assert.equal(b.post_push_digest, b.digest);
      // The stack configures a signing key: signature and provenance are attached.
      assert.equal(b.signature_status, 'signed', JSON.stringify(b));
      assert.match(b.provenance_ref, /@sha256:[0-9a-f]{64}$/, JSON.stringify(b));

      const image = await build.call(`${kBuild}/GetImage`, { git_sha: sha });
      assert.equal(image.digest, b.digest, JSON.stringify(image));
      assert.equal(image.image_ref, b.image_ref);
      assert.equal(image.repository_type, 'REPOSITORY_TYPE_CANONICAL');
      assert.equal(image.build_id, b.build_id);
      s.buildA = b;

      const events = [];
      for await (const ev of build.stream(`${kBuild}/WatchBuild`, { build_id: b.build_id },
        { timeoutMs: 60000 })) {
        events.push(ev);
      }
      assert.ok(events.length >= 1, 'WatchBuild sent no event');
      const last = events[events.length - 1];
      assert.equal(last.build.build_id, b.build_id);
      assert.equal(last.build.state, 'BUILD_STATE_SUCCEEDED',
        `last event: ${JSON.stringify({ ...last, log_lines: last.log_lines.length })}`);
      const lines = events.flatMap((ev) => ev.log_lines);
      assert.ok(lines.length > 0, `no log_lines in ${events.length} WatchBuild event(s)`);
      // The builder's own output, not only ours: a step of the sample Dockerfile.
      assert.ok(lines.some((l) => /COPY|STEP|FROM/.test(l)),
        `no builder step in the log lines:\n${lines.slice(0, 20).join('\n')}`);
    });

  test('2. SubmitBuild A again reuses the published image', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'buildA')) return;
    const b = await submitAndWait(s.repo.a, 'main');
    assertPublishedCanonical(b, s.repo.a, 'BUILD_OUTCOME_REUSED');
    assert.notEqual(b.build_id, s.buildA.build_id, 'a new build record');
    assert.equal(b.digest, s.buildA.digest);
  });

  test('3. a feature-branch build goes to staging, and Deploy refuses it (POLICY_VIOLATION)',
    { timeout: kStepMs }, async () => {
      const sha = s.repo.feature;
      const b = await submitAndWait(sha, 'feature');
      const what = JSON.stringify(b);
      assert.equal(b.state, 'BUILD_STATE_SUCCEEDED', what);
      assert.equal(b.repository_type, 'REPOSITORY_TYPE_STAGING', what);
      if (env.STAGING_REPOSITORY) assert.equal(b.repository, env.STAGING_REPOSITORY, what);
      assert.notEqual(b.repository, env.CANONICAL_REPOSITORY, what);
      await grpcFailure(build.call(`${kBuild}/GetImage`, { git_sha: sha }))
        .then((err) => assert.equal(err.codeName, 'NOT_FOUND', `canonical GetImage of a staging SHA: ${err.message}`));

      const err = await grpcFailure(deployCall(sha));
      assertGrpcError(err, 'FAILED_PRECONDITION', 'POLICY_VIOLATION', `Deploy of staging-only ${sha}`);
      s.policyViolation = err.details;
    });

  test('4. Deploy of a SHA never built is NOT_FOUND (MISSING_TAG) and recorded as a failed attempt',
    { timeout: kStepMs }, async () => {
      const sha = 'd'.repeat(40);
      const err = await grpcFailure(deployCall(sha));
      assertGrpcError(err, 'NOT_FOUND', 'MISSING_TAG', `Deploy of unbuilt ${sha}`);

      const list = await deploy.call(`${kDeploy}/ListDeployments`, { environment: kEnvironment });
      const attempts = list.deployments.filter((d) => d.image_sha === sha);
      assert.equal(attempts.length, 1,
        `ListDeployments(local) has ${attempts.length} record(s) of ${sha}: ${JSON.stringify(list)}`);
      const d = attempts[0];
      assert.equal(d.state, 'DEPLOYMENT_STATE_FAILED', JSON.stringify(d));
      assert.equal(d.error_code, 'MISSING_TAG', JSON.stringify(d));
      assert.equal(d.environment, kEnvironment);
      const id = /\(deployment (\d+)\)\s*$/.exec(err.details);
      if (id) assert.equal(d.deployment_id, id[1], `the error names ${id[0]}`);
      // Newest first: nothing was recorded after this attempt.
      assert.equal(list.deployments[0].deployment_id, d.deployment_id, 'newest first');

      // The staging-only attempt of step 3 is in the history too.
      if (s.policyViolation) {
        const refused = list.deployments.find((x) => x.image_sha === s.repo.feature);
        assert.ok(refused, `no record of the POLICY_VIOLATION attempt: ${JSON.stringify(list)}`);
        assert.equal(refused.state, 'DEPLOYMENT_STATE_FAILED');
        assert.equal(refused.error_code, 'POLICY_VIOLATION');
      }
    });

  test('5. Deploy A to local: pinned by digest, signature soft-verified, the app reports A',
    { timeout: kStepMs }, async (t) => {
      if (!needs(t, 'buildA')) return;
      const d = await deployCall(s.repo.a);
      assertDeployed(d, s.repo.a, s.buildA, 'DEPLOYMENT_KIND_DEPLOY', 'Deploy A');
      // The stack signs with its own key and verifies with the public half.
      assert.equal(d.signature_status, 'verified');
      assert.equal(d.signature_reason, 'verified');
      assert.equal(d.previous_sha, '', 'nothing ran before A');
      assert.equal(d.target, 'local');
      assert.ok(d.rendered_manifest.includes(s.buildA.image_ref),
        `rendered_manifest lacks ${s.buildA.image_ref}:\n${d.rendered_manifest}`);
      assert.ok(!d.rendered_manifest.includes(':latest'), `rendered_manifest has :latest:\n${d.rendered_manifest}`);
      assert.ok(!d.rendered_manifest.includes(':placeholder'), 'the template placeholder was replaced');
      assert.equal(await appVersion(), s.repo.a, `${env.APP_URL}/version after deploying A`);
      s.deployA = d;
    });

  test('6. build B, Deploy B: previous_sha is A, the app reports B', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'deployA')) return;
    const b = await submitAndWait(s.repo.b, 'main');
    assertPublishedCanonical(b, s.repo.b, 'BUILD_OUTCOME_PUBLISHED');
    assert.notEqual(b.digest, s.buildA.digest, 'A and B differ');
    s.buildB = b;

    const d = await deployCall(s.repo.b);
    assertDeployed(d, s.repo.b, b, 'DEPLOYMENT_KIND_DEPLOY', 'Deploy B');
    assert.equal(d.previous_sha, s.repo.a);
    assert.equal(d.previous_digest, s.buildA.digest);
    assert.equal(await appVersion(), s.repo.b, `${env.APP_URL}/version after deploying B`);
    s.deployB = d;
  });

  test('7. ResolveImage B and ListRollbackTargets', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'deployB')) return;
    const r = await deploy.call(`${kDeploy}/ResolveImage`, { image_sha: s.repo.b });
    assert.equal(r.git_sha, s.repo.b, JSON.stringify(r));
    assert.equal(r.digest, s.buildB.digest, JSON.stringify(r));
    assert.equal(r.recorded_digest, s.buildB.digest, JSON.stringify(r));
    assert.equal(r.digest_check, 'ok', JSON.stringify(r));
    assert.equal(r.image_ref, s.buildB.image_ref, JSON.stringify(r));
    assert.equal(r.repository, env.CANONICAL_REPOSITORY, JSON.stringify(r));

    const { targets } = await deploy.call(`${kDeploy}/ListRollbackTargets`, { environment: kEnvironment });
    const what = JSON.stringify(targets);
    const a = targets.find((x) => x.git_sha === s.repo.a);
    const b = targets.find((x) => x.git_sha === s.repo.b);
    assert.ok(a, `A is not a rollback target: ${what}`);
    assert.ok(b, `B is not a rollback target: ${what}`);
    assert.equal(a.digest, s.buildA.digest, what);
    assert.equal(b.digest, s.buildB.digest, what);
    assert.deepEqual(targets.filter((x) => x.current).map((x) => x.git_sha), [s.repo.b],
      `current must be B only: ${what}`);
    assert.ok(a.last_deployed_at, `A ran here: last_deployed_at expected: ${what}`);
    assert.ok(!targets.some((x) => x.git_sha === s.repo.feature), `a staging SHA is a rollback target: ${what}`);
  });

  test('8. Rollback (empty image_sha) goes back to A and holds the environment', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'deployB')) return;
    const reason = 'e2e: B misbehaves';
    const d = await deploy.call(`${kDeploy}/Rollback`, {
      environment: kEnvironment, image_sha: '', reason, requested_by: 'e2e-operator',
    }, { timeoutMs: kDeployCallMs });
    assertDeployed(d, s.repo.a, s.buildA, 'DEPLOYMENT_KIND_ROLLBACK', 'Rollback');
    assert.equal(d.previous_sha, s.repo.b);
    assert.equal(d.reason, reason);
    assert.equal(await appVersion(), s.repo.a, `${env.APP_URL}/version after the rollback`);

    const current = await deploy.call(`${kDeploy}/GetCurrent`, { environment: kEnvironment });
    assert.equal(current.image_sha, s.repo.a, JSON.stringify({ ...current, rendered_manifest: '…' }));
    assert.equal(current.deployment_id, d.deployment_id);
    assert.equal(current.kind, 'DEPLOYMENT_KIND_ROLLBACK');
    s.rollback = d;
  });

  test('9. held: Deploy B is ON_HOLD until ReleaseHold, then it deploys', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'rollback')) return;
    const err = await grpcFailure(deployCall(s.repo.b));
    assertGrpcError(err, 'FAILED_PRECONDITION', 'ON_HOLD', 'Deploy B after the rollback');
    assert.equal(await appVersion(), s.repo.a, 'a refused deploy changes nothing');

    const hold = await deploy.call(`${kDeploy}/ReleaseHold`, {
      environment: kEnvironment, requested_by: 'e2e-operator',
    });
    assert.equal(hold.environment, kEnvironment, JSON.stringify(hold));
    assert.equal(hold.held, false, JSON.stringify(hold));

    const d = await deployCall(s.repo.b);
    assertDeployed(d, s.repo.b, s.buildB, 'DEPLOYMENT_KIND_DEPLOY', 'Deploy B after ReleaseHold');
    assert.equal(d.previous_sha, s.repo.a);
    assert.equal(await appVersion(), s.repo.b, `${env.APP_URL}/version after redeploying B`);
    s.redeployB = d;
  });

  test('9b. B\'s tag repointed out of band: Deploy B again is DATA_LOSS (DIGEST_MISMATCH), nothing applied',
    { timeout: kStepMs }, async (t) => {
      if (!needs(t, 'redeployB', 'buildA')) return;
      // The registry of the stack has no auth; the canonical repository is
      // <registry>/<name>. B's tag is pointed at A's manifest, then restored.
      const name = env.CANONICAL_REPOSITORY.slice(env.CANONICAL_REPOSITORY.indexOf('/') + 1);
      const base = `http://${env.REGISTRY}/v2/${name}/manifests`;
      const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
      const get = async (ref) => {
        const res = await fetch(`${base}/${ref}`, { headers: { Accept: accept } });
        assert.equal(res.status, 200, `GET manifest ${ref}`);
        return { type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
      };
      const put = async (ref, m) => {
        const res = await fetch(`${base}/${ref}`, { method: 'PUT', headers: { 'Content-Type': m.type }, body: m.body });
        assert.equal(res.status, 201, `PUT manifest ${ref}: ${await res.text()}`);
      };
      const original = await get(s.repo.b);
      await put(s.repo.b, await get(s.buildA.digest));
      try {
        // B is the current deployment: before the fix this returned it as a
        // no-op without asking the registry.
        const err = await grpcFailure(deployCall(s.repo.b));
        assertGrpcError(err, 'DATA_LOSS', 'DIGEST_MISMATCH', 'Deploy B with its tag repointed');
        assert.equal(await appVersion(), s.repo.b, 'nothing was applied');
        const history = await deploy.call(`${kDeploy}/ListDeployments`, { environment: kEnvironment, page_size: 1 });
        const last = history.deployments[0];
        assert.equal(last.state, 'DEPLOYMENT_STATE_FAILED', JSON.stringify(last));
        assert.equal(last.error_code, 'DIGEST_MISMATCH', JSON.stringify(last));
      } finally {
        await put(s.repo.b, original);
      }
      const again = await deployCall(s.repo.b);
      assert.equal(again.deployment_id, s.redeployB.deployment_id, 'with the tag restored it is a no-op again');
    });

  test('10. CancelBuild of a running build (the slow commit) ends it CANCELED', { timeout: kStepMs }, async () => {
    const sha = s.repo.slow;
    const queued = await build.call(`${kBuild}/SubmitBuild`, {
      git_sha: sha, branch: 'slow', source_url: `file://${repoDir}`, wait: false,
      requested_by: 'e2e-pipeline',
    });
    assert.ok(['BUILD_STATE_QUEUED', 'BUILD_STATE_RUNNING'].includes(queued.state), JSON.stringify(queued));
    assert.equal(queued.repository_type, 'REPOSITORY_TYPE_STAGING');
    const id = queued.build_id;

    // The phase is only in WatchBuild's events (Build has none): follow the
    // build until the builder runs, then cancel while it sleeps in `RUN sleep 60`.
    let phase = '';
    const phases = [];
    for await (const ev of build.stream(`${kBuild}/WatchBuild`, { build_id: id }, { timeoutMs: 90000 })) {
      phase = ev.phase;
      if (phases[phases.length - 1] !== phase) phases.push(phase);
      const ended = !['BUILD_STATE_QUEUED', 'BUILD_STATE_RUNNING'].includes(ev.build.state);
      if (phase === 'building' || ended) break;
    }
    assert.equal(phase, 'building', `phases seen: ${phases.join(' -> ')}`);
    const running = await build.call(`${kBuild}/GetBuild`, { build_id: id });
    assert.equal(running.state, 'BUILD_STATE_RUNNING', JSON.stringify(running));

    const canceled = await build.call(`${kBuild}/CancelBuild`, { build_id: id, requested_by: 'e2e-operator' });
    assert.equal(canceled.build_id, id);
    const end = await eventually(async () => {
      const b = await build.call(`${kBuild}/GetBuild`, { build_id: id });
      assert.equal(b.state, 'BUILD_STATE_CANCELED', JSON.stringify(b));
      return b;
    }, 20000, 250);
    assert.equal(end.outcome, 'BUILD_OUTCOME_UNSPECIFIED', JSON.stringify(end));
    assert.equal(end.digest, '', 'nothing was published');
    const err = await grpcFailure(build.call(`${kBuild}/GetImage`,
      { git_sha: sha, repository_type: 'REPOSITORY_TYPE_STAGING' }));
    assert.equal(err.codeName, 'NOT_FOUND', `GetImage of the canceled build's SHA: ${err.message}`);
  });

  test('11. the broken commit fails the build (BUILD_FAILURE) with the builder error in log_tail',
    { timeout: kStepMs }, async () => {
      const b = await submitAndWait(s.repo.broken, 'broken');
      const what = JSON.stringify(b);
      assert.equal(b.state, 'BUILD_STATE_FAILED', what);
      assert.equal(b.error_code, 'BUILD_FAILURE', what);
      assert.match(b.log_tail, /NOT_AN_INSTRUCTION/, what);
      assert.equal(b.digest, '', what);
    });

  test('12. /metrics of both services count what happened', { timeout: kStepMs }, async (t) => {
    if (!needs(t, 'redeployB')) return;
    await eventually(async () => {
      const m = await scrapeMetrics(env.DEPLOY_METRICS_ADDR);
      const deploys = sample(m, 'shapin_deployments_total', { environment: kEnvironment, kind: 'deploy', result: 'succeeded' });
      assert.ok(deploys >= 3, `shapin_deployments_total{kind="deploy",result="succeeded"} = ${deploys}`);
      const failed = sample(m, 'shapin_deployments_total', { environment: kEnvironment, kind: 'deploy', result: 'failed' });
      assert.ok(failed >= 1, `shapin_deployments_total{kind="deploy",result="failed"} = ${failed}`);
      const rollbacks = sample(m, 'shapin_rollback_total', { environment: kEnvironment, result: 'succeeded' });
      assert.equal(rollbacks, 1, 'shapin_rollback_total{result="succeeded"}');
      const info = m.filter((x) => x.name === 'shapin_deployed_image_info' && x.labels.environment === kEnvironment);
      assert.deepEqual(info.map((x) => [x.labels.git_sha, x.labels.digest, x.value]),
        [[s.repo.b, s.buildB.digest, 1]], 'shapin_deployed_image_info{environment="local"}: B only');
    });
    await eventually(async () => {
      const m = await scrapeMetrics(env.BUILD_METRICS_ADDR);
      for (const result of ['published', 'reused']) {
        const n = sample(m, 'shapin_image_build_total', { result });
        assert.ok(n >= 1, `shapin_image_build_total{result="${result}"} = ${n}`);
      }
      const published = sample(m, 'shapin_image_build_total', { repository_type: 'canonical', result: 'published' });
      assert.ok(published >= 2, `shapin_image_build_total{repository_type="canonical",result="published"} = ${published}`);
      const buckets = m.filter((x) => x.name === 'shapin_build_duration_seconds_bucket');
      assert.ok(buckets.length > 0, 'no shapin_build_duration_seconds_bucket sample');
      assert.ok(sample(m, 'shapin_build_duration_seconds_count') >= 1, 'shapin_build_duration_seconds_count');
    });
  });
});
