#!/usr/bin/env node
'use strict';
// The client half of tests/secrets/run.sh: a full flow (build a commit, watch
// it, read it back, resolve and deploy it — a dry run, then for real through
// the akash-console target with the token made by shapin-tokens) plus refused
// calls, through the reflection client, each caller with its own distinctive
// bearer token.
// Every reply and every error goes to the JSON file named by argv[2], for
// run.sh to search for the secrets.
//
//   BUILD_ADDR=… DEPLOY_ADDR=… SOURCE_URL=file://… GIT_SHA=… \
//   TOKEN_BUILDER=… TOKEN_DEPLOYER=… TOKEN_VIEWER=… TOKEN_DB=… \
//   node flow.js replies.json

const fs = require('fs');
const path = require('path');
const { ReflectionClient, GrpcError } = require(path.join(__dirname, '..', 'e2e', 'lib', 'reflection-client'));

const kBuild = 'shapin.v1.BuildService';
const kDeploy = 'shapin.v1.DeployService';

async function main() {
  const out = process.argv[2];
  const env = process.env;
  const transcript = [];
  const clients = [];
  const client = (addr, token) => {
    const c = new ReflectionClient(addr, { timeoutMs: 240000, token });
    clients.push(c);
    return c;
  };
  // Records the reply or the error of one call; returns the reply.
  const record = async (what, promise) => {
    try {
      const reply = await promise;
      transcript.push({ what, reply });
      return reply;
    } catch (err) {
      if (!(err instanceof GrpcError)) throw err;
      transcript.push({ what, error: { code: err.codeName, details: err.details } });
      return undefined;
    }
  };

  const builder = client(env.BUILD_ADDR, env.TOKEN_BUILDER);
  const buildViewer = client(env.BUILD_ADDR, env.TOKEN_VIEWER);
  const deployer = client(env.DEPLOY_ADDR, env.TOKEN_DEPLOYER);
  const deployViewer = client(env.DEPLOY_ADDR, env.TOKEN_VIEWER);
  const dbTokenDeployer = client(env.DEPLOY_ADDR, env.TOKEN_DB);
  try {
    const build = await record('SubmitBuild', builder.call(`${kBuild}/SubmitBuild`, {
      git_sha: env.GIT_SHA, branch: 'main', source_url: env.SOURCE_URL, wait: true,
    }));
    if (!build || build.state !== 'BUILD_STATE_SUCCEEDED') {
      throw new Error(`the build did not succeed: ${JSON.stringify(build || transcript.at(-1))}`);
    }
    if (build.signature_status !== 'signed') {
      throw new Error(`the build was not signed: ${JSON.stringify(build)}`);
    }
    const events = [];
    for await (const ev of buildViewer.stream(`${kBuild}/WatchBuild`, { build_id: build.build_id })) events.push(ev);
    transcript.push({ what: 'WatchBuild', reply: events });
    await record('GetBuild', buildViewer.call(`${kBuild}/GetBuild`, { build_id: build.build_id }));
    await record('ListBuilds', buildViewer.call(`${kBuild}/ListBuilds`, {}));
    await record('GetImage', buildViewer.call(`${kBuild}/GetImage`, { git_sha: env.GIT_SHA }));
    await record('ResolveImage', deployViewer.call(`${kDeploy}/ResolveImage`, { image_sha: env.GIT_SHA }));
    const deployment = await record('Deploy', deployer.call(`${kDeploy}/Deploy`, {
      environment: 'secrets', image_sha: env.GIT_SHA, dry_run: true,
    }));
    if (!deployment || !deployment.rendered_manifest) {
      throw new Error(`the dry-run deploy rendered nothing: ${JSON.stringify(transcript.at(-1))}`);
    }
    await record('GetDeployment', deployViewer.call(`${kDeploy}/GetDeployment`, { deployment_id: deployment.deployment_id }));
    await record('ListDeployments', deployViewer.call(`${kDeploy}/ListDeployments`, {}));
    await record('ListRollbackTargets', deployViewer.call(`${kDeploy}/ListRollbackTargets`, { environment: 'secrets' }));
    // Through the fake Akash Console API (its key from the environment),
    // called with the token that lives in the database.
    const onConsole = await record('Deploy to console', dbTokenDeployer.call(`${kDeploy}/Deploy`, {
      environment: 'console', image_sha: env.GIT_SHA,
    }));
    if (!onConsole || onConsole.state !== 'DEPLOYMENT_STATE_SUCCEEDED' || onConsole.requested_by !== 'secrets-dbtoken') {
      throw new Error(`the console deploy with the database token failed: ${JSON.stringify(transcript.at(-1))}`);
    }
    await record('GetDeployment console', dbTokenDeployer.call(`${kDeploy}/GetDeployment`, { deployment_id: onConsole.deployment_id }));
    // Refusals: a token used against the wrong role, a mangled token, none.
    await record('Deploy as viewer', deployViewer.call(`${kDeploy}/Deploy`, { environment: 'secrets', image_sha: env.GIT_SHA }));
    await record('ListBuilds with a mangled token', client(env.BUILD_ADDR, `${env.TOKEN_VIEWER}x`).call(`${kBuild}/ListBuilds`, {}));
    await record('ListBuilds without a token', client(env.BUILD_ADDR, null).call(`${kBuild}/ListBuilds`, {}));
  } finally {
    fs.writeFileSync(out, JSON.stringify(transcript, null, 2));
    clients.forEach((c) => c.close());
  }
  const refused = transcript.filter((t) => t.error).map((t) => `${t.what}: ${t.error.code}`);
  const want = ['Deploy as viewer: PERMISSION_DENIED', 'ListBuilds with a mangled token: UNAUTHENTICATED',
    'ListBuilds without a token: UNAUTHENTICATED'];
  if (JSON.stringify(refused) !== JSON.stringify(want)) {
    throw new Error(`refusals were ${JSON.stringify(refused)}, expected ${JSON.stringify(want)}`);
  }
  return transcript.length;
}

main().then((n) => {
  console.log(`secrets flow: ${n} calls recorded`);
}, (err) => {
  console.error(`secrets flow: ${err.stack || err}`);
  process.exitCode = 1;
});
