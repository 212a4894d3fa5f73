'use strict';
// Authentication and roles seen from outside: health and reflection answer
// without a token, every other RPC of both services is UNAUTHENTICATED
// without one (the methods are read from reflection, so a new RPC is covered
// the day it appears), a viewer may read but not write (PERMISSION_DENIED
// naming the missing role), a deployer may not override a hold, and
// requested_by is the token's identity whatever the request says.
//
// Needs the stack's tokens file (TOKENS_FILE in the stack env, written by
// scripts/stack). Leaves one failed deployment of a random SHA behind.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { ReflectionClient } = require('./lib/reflection-client');
const { grpcFailure } = require('./lib/grpc-failure');
const { stackEnv, stackTokens } = require('./lib/stack');

const kBuild = 'shapin.v1.BuildService';
const kDeploy = 'shapin.v1.DeployService';
// What each RPC needs; the test fails for an RPC missing here.
const kRoles = {
  [`${kBuild}/SubmitBuild`]: 'builder',
  [`${kBuild}/CancelBuild`]: 'builder',
  [`${kBuild}/AdoptImage`]: 'operator',
  [`${kDeploy}/Deploy`]: 'deployer',
  [`${kDeploy}/Rollback`]: 'operator',
  [`${kDeploy}/ReleaseHold`]: 'operator',
};
const kReads = [
  `${kBuild}/GetBuild`, `${kBuild}/WatchBuild`, `${kBuild}/ListBuilds`, `${kBuild}/GetImage`,
  `${kDeploy}/GetDeployment`, `${kDeploy}/ListDeployments`, `${kDeploy}/GetCurrent`,
  `${kDeploy}/ListRollbackTargets`, `${kDeploy}/ResolveImage`, `${kDeploy}/WatchDeployment`,
];

// Calls a unary or streaming method once with an empty request; resolves to
// the first reply or rejects with the GrpcError.
async function callOnce(client, path) {
  const m = await client.method(path);
  if (!m.serverStreaming) return client.call(path, {}, { timeoutMs: 10000 });
  for await (const reply of client.stream(path, {}, { timeoutMs: 10000 })) return reply;
  return undefined;
}

describe('authentication and roles', () => {
  let env;
  let tokens;
  const clients = [];
  const client = (addr, token) => {
    const c = new ReflectionClient(addr, { timeoutMs: 15000, token });
    clients.push(c);
    return c;
  };

  before(() => {
    env = stackEnv();
    tokens = stackTokens(env);
    for (const name of ['stack-admin', 'stack-viewer', 'stack-deployer', 'stack-builder']) {
      assert.ok(tokens[name], `no ${name} token in ${env.TOKENS_FILE}`);
    }
  });

  after(() => clients.forEach((c) => c.close()));

  test('health and reflection answer without a token', async () => {
    for (const addr of [env.BUILD_ADDR, env.DEPLOY_ADDR]) {
      const anon = client(addr, null);
      assert.deepEqual(await anon.call('grpc.health.v1.Health/Check', { service: '' }), { status: 'SERVING' });
      const services = await anon.listServices();
      assert.ok(services.some((s) => s.startsWith('shapin.v1.')), `${addr} lists ${services}`);
    }
  });

  test('every API method is UNAUTHENTICATED without a token, naming the metadata', async () => {
    for (const [addr, service] of [[env.BUILD_ADDR, kBuild], [env.DEPLOY_ADDR, kDeploy]]) {
      const anon = client(addr, null);
      const methods = await anon.listMethods(service);
      assert.ok(methods.length >= 6, `${service} has ${methods.length} methods`);
      for (const m of methods) {
        const path = `${service}/${m.name}`;
        assert.ok(kRoles[path] || kReads.includes(path), `${path} is new: give it a role in this test`);
        const err = await grpcFailure(callOnce(anon, path));
        assert.equal(err.codeName, 'UNAUTHENTICATED', `${path}: ${err.message}`);
        assert.match(err.details, /authorization/, path);
      }
    }
  });

  test('an unknown or malformed token is UNAUTHENTICATED and never echoed', async () => {
    const bogus = `bogus-${crypto.randomBytes(8).toString('hex')}`;
    for (const token of [bogus, tokens['stack-viewer'].slice(1)]) {
      const err = await grpcFailure(client(env.BUILD_ADDR, token).call(`${kBuild}/ListBuilds`, {}));
      assert.equal(err.codeName, 'UNAUTHENTICATED', err.message);
      assert.ok(!err.details.includes(token), 'the token is echoed');
    }
    const basic = client(env.BUILD_ADDR, null);
    const err = await grpcFailure(basic.call(`${kBuild}/ListBuilds`, {}, {
      metadata: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    }));
    assert.equal(err.codeName, 'UNAUTHENTICATED', err.message);
  });

  test('a viewer reads, but every write is PERMISSION_DENIED naming the missing role', async () => {
    const viewerBuild = client(env.BUILD_ADDR, tokens['stack-viewer']);
    const viewerDeploy = client(env.DEPLOY_ADDR, tokens['stack-viewer']);
    assert.ok(Array.isArray((await viewerBuild.call(`${kBuild}/ListBuilds`, {})).builds));
    assert.ok(Array.isArray((await viewerDeploy.call(`${kDeploy}/ListDeployments`, {})).deployments));
    for (const [path, role] of Object.entries(kRoles)) {
      const c = path.startsWith(kBuild) ? viewerBuild : viewerDeploy;
      const err = await grpcFailure(callOnce(c, path));
      assert.equal(err.codeName, 'PERMISSION_DENIED', `${path}: ${err.message}`);
      const method = path.split('/')[1];
      assert.equal(err.details, `caller "stack-viewer" lacks role ${role} (needed for ${method})`);
    }
  });

  test('a deployer cannot Deploy with override_hold (operator)', async () => {
    const deployer = client(env.DEPLOY_ADDR, tokens['stack-deployer']);
    const err = await grpcFailure(deployer.call(`${kDeploy}/Deploy`, {
      environment: 'local', image_sha: 'e'.repeat(40), override_hold: true,
    }));
    assert.equal(err.codeName, 'PERMISSION_DENIED', err.message);
    assert.equal(err.details,
      'caller "stack-deployer" lacks role operator (needed for Deploy with override_hold)');
  });

  test('requested_by is the token identity, not what the request claims', async () => {
    const deployer = client(env.DEPLOY_ADDR, tokens['stack-deployer']);
    const sha = crypto.randomBytes(20).toString('hex'); // never built: recorded as failed
    const err = await grpcFailure(deployer.call(`${kDeploy}/Deploy`, {
      environment: 'local', image_sha: sha, requested_by: 'mallory',
    }));
    assert.equal(err.codeName, 'NOT_FOUND', err.message);
    const list = await deployer.call(`${kDeploy}/ListDeployments`, { environment: 'local' });
    const attempt = list.deployments.find((d) => d.image_sha === sha);
    assert.ok(attempt, `no record of ${sha}: ${JSON.stringify(list)}`);
    assert.equal(attempt.requested_by, 'stack-deployer');
  });

  test('oversized fields are INVALID_ARGUMENT naming the field', async () => {
    const admin = client(env.DEPLOY_ADDR, tokens['stack-admin']);
    const err = await grpcFailure(admin.call(`${kDeploy}/Rollback`, {
      environment: 'local', reason: 'x'.repeat(5000),
    }));
    assert.equal(err.codeName, 'INVALID_ARGUMENT', err.message);
    assert.match(err.details, /^reason: at most 1024 bytes/);
    const huge = await grpcFailure(admin.call(`${kDeploy}/Rollback`, {
      environment: 'local', reason: 'x'.repeat(100 * 1024),
    }));
    assert.equal(huge.codeName, 'RESOURCE_EXHAUSTED', huge.message);
  });
});
