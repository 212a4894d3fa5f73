'use strict';
// The walking skeleton seen from outside, through server reflection only (the
// way grpcurl would): both services are listed with the whole API contract,
// health is SERVING, reads answer from the real (empty) database, a malformed
// SHA is INVALID_ARGUMENT naming the field, and /metrics counts the calls.
//
// Runs against the stack in the environment (tests/e2e/run.sh starts a private
// one) or in ${SHAPIN_STACK_DIR:-.stack}/env. ListBuilds({}) must be empty, so
// run it on a fresh stack: run.sh runs this file first.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { ReflectionClient } = require('./lib/reflection-client');
const { grpcFailure } = require('./lib/grpc-failure');
const { stackEnv, scrapeMetrics, sample } = require('./lib/stack');

const kBuildService = 'shapin.v1.BuildService';
const kDeployService = 'shapin.v1.DeployService';
const kContract = {
  [kBuildService]: ['SubmitBuild', 'GetBuild', 'WatchBuild', 'ListBuilds', 'CancelBuild', 'GetImage',
    'AdoptImage'],
  [kDeployService]: ['Deploy', 'Rollback', 'GetDeployment', 'ListDeployments', 'GetCurrent',
    'ListRollbackTargets', 'ResolveImage', 'WatchDeployment', 'ReleaseHold'],
};

// Polls /metrics until check(samples) passes (the counters are updated as the
// call completes, which may be a moment after the client has its reply).
async function eventuallyMetrics(addr, check) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const samples = await scrapeMetrics(addr);
    try {
      check(samples);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function assertHandled(samples, service, method, code) {
  const labels = { grpc_service: service, grpc_method: method, grpc_code: code };
  const n = sample(samples, 'grpc_server_handled_total', labels);
  assert.ok(n >= 1, `grpc_server_handled_total${JSON.stringify(labels)} is ${n}`);
}

function assertTimed(samples, service, method) {
  const timed = samples.some((s) => s.name.startsWith('grpc_server_handling_seconds') &&
    s.labels.grpc_service === service && s.labels.grpc_method === method);
  assert.ok(timed, `no grpc_server_handling_seconds sample for ${service}/${method}`);
}

describe('build-svc and deploy-svc through reflection', () => {
  let env;
  let build;
  let deploy;

  before(() => {
    env = stackEnv();
    build = new ReflectionClient(env.BUILD_ADDR, { timeoutMs: 15000, token: env.SHAPIN_TOKEN || null });
    deploy = new ReflectionClient(env.DEPLOY_ADDR, { timeoutMs: 15000, token: env.SHAPIN_TOKEN || null });
  });

  after(() => {
    build?.close();
    deploy?.close();
  });

  test('reflection lists each service with every RPC of the contract', async () => {
    for (const [client, service] of [[build, kBuildService], [deploy, kDeployService]]) {
      const services = await client.listServices();
      assert.ok(services.includes(service), `${client.addr} lists ${services.join(', ')}`);
      const methods = (await client.listMethods(service)).map((m) => m.name);
      assert.deepEqual([...methods].sort(), [...kContract[service]].sort(), `methods of ${service}`);
    }
    const watchBuild = (await build.listMethods(kBuildService)).find((m) => m.name === 'WatchBuild');
    assert.equal(watchBuild.serverStreaming, true, 'WatchBuild streams');
  });

  test('health is SERVING on both', async (t) => {
    for (const client of [build, deploy]) {
      const reply = await client.call('grpc.health.v1.Health/Check', { service: '' });
      assert.deepEqual(reply, { status: 'SERVING' }, `health at ${client.addr}`);
      if (client.descriptorSource['grpc.health.v1.Health'] === 'builtin') {
        t.diagnostic(`${client.addr}: reflection does not describe grpc.health.v1.Health; ` +
          'called it with the built-in descriptor');
      }
    }
  });

  test('ListBuilds answers an empty list from the fresh database', async () => {
    const all = await build.call(`${kBuildService}/ListBuilds`, {});
    assert.deepEqual(all, { builds: [], next_page_token: '' });
    const unknownSha = crypto.randomBytes(20).toString('hex');
    const filtered = await build.call(`${kBuildService}/ListBuilds`, { git_sha: unknownSha, page_size: 10 });
    assert.deepEqual(filtered, { builds: [], next_page_token: '' });
  });

  test('ListDeployments answers an empty list', async () => {
    const reply = await deploy.call(`${kDeployService}/ListDeployments`, { environment: 'production' });
    assert.deepEqual(reply.deployments, [], JSON.stringify(reply));
    assert.equal(reply.next_page_token, '');
  });

  test('a malformed SHA is INVALID_ARGUMENT, MISSING_SHA, naming git_sha', async () => {
    const cases = [
      ['GetImage', { git_sha: 'xyz' }],
      ['ListBuilds', { git_sha: 'bad' }],
      ['GetImage', { git_sha: 'A'.repeat(40) }], // upper case is not a git SHA
    ];
    for (const [method, request] of cases) {
      const err = await grpcFailure(build.call(`${kBuildService}/${method}`, request));
      const what = `${method}(${JSON.stringify(request)}): ${err.message}`;
      assert.equal(err.codeName, 'INVALID_ARGUMENT', what);
      assert.match(err.details, /^MISSING_SHA\b/, what);
      assert.match(err.details, /\bgit_sha\b/, what);
    }
  });

  test('/metrics on both services counts and times the gRPC calls', async () => {
    // The calls counted here, so the test stands alone.
    await build.call(`${kBuildService}/ListBuilds`, {});
    await grpcFailure(build.call(`${kBuildService}/GetImage`, { git_sha: 'xyz' }));
    await deploy.call(`${kDeployService}/ListDeployments`, {});

    await eventuallyMetrics(env.BUILD_METRICS_ADDR, (samples) => {
      assertHandled(samples, kBuildService, 'ListBuilds', 'OK');
      assertHandled(samples, kBuildService, 'GetImage', 'INVALID_ARGUMENT');
      assertTimed(samples, kBuildService, 'ListBuilds');
    });
    await eventuallyMetrics(env.DEPLOY_METRICS_ADDR, (samples) => {
      assertHandled(samples, kDeployService, 'ListDeployments', 'OK');
      assertTimed(samples, kDeployService, 'ListDeployments');
    });
  });
});
