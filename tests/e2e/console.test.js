'use strict';
// The operator web console (deploy-svc, console.*) in a real browser:
// headless Debian Chromium driven by puppeteer-core, over the stack's HTTPS
// listener (its self-signed certificate trusted by its SPKI hash, nothing
// else relaxed). As an operator: sign in with the bearer token, read local's
// current SHA from the environments page (it is what GetCurrent says), roll
// back through the form, see the rollback row in the history and the hold,
// release the hold; the builds page follows a running build live (no reload)
// until it is canceled. As a viewer: the rollback and release controls are
// absent and a forged POST is refused with 403, from the page and from
// another origin. Bad URLs get 404/400 error pages. The tokens never appear
// in a URL or in deploy-svc's log. Screenshots of each page go to
// $SHAPIN_E2E_OUTPUT/console (tests/e2e/run.sh: <build>/tests/e2e/output).
//
// Runs after workflows.test.js on the e2e stack (tests/e2e/run.sh), where the
// sample commits are built and deployed; on its own it builds commits A and B
// and deploys A first (tests/e2e/run.sh console.test.js).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const puppeteer = require('puppeteer-core');
const { ReflectionClient } = require('./lib/reflection-client');
const { grpcFailure } = require('./lib/grpc-failure');
const { stackEnv, stackTokens } = require('./lib/stack');

const kBuild = 'shapin.v1.BuildService';
const kDeploy = 'shapin.v1.DeployService';
const kEnvironment = 'local';
const kChromium = process.env.SHAPIN_CHROMIUM || '/usr/bin/chromium';
const kMakeSampleRepo = path.resolve(__dirname, '..', 'fixtures', 'make-sample-repo');
// A rollback through the form answers when the rollout is done (podman,
// ~10-15 s; the stack's rollout_timeout is 2m).
const kRollbackMs = 150000;
const kStepMs = 180000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo, for Chromium's
// --ignore-certificate-errors-spki-list (trusts exactly this certificate).
function spkiHash(pem) {
  const der = new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

// A POST from outside the browser (no page, any Origin), trusting the
// stack's certificate: { status, body }.
function rawPost(url, { ca, cookie, origin, body }) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = https.request({
      hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', ca,
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(cookie ? { Cookie: cookie } : {}),
        ...(origin ? { Origin: origin } : {}),
      },
      timeout: 20000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: timed out`)));
    req.end(body);
  });
}

describe('operator web console in a browser', () => {
  let env;
  let tokens;
  let build;
  let deploy;
  let browser;
  let userDataDir;
  let repoDir;
  let shotsDir;
  let consoleUrl;
  const s = {}; // shared state between the steps
  const skipUnless = (t, ...keys) => {
    const missing = keys.filter((k) => s[k] === undefined);
    if (missing.length) t.skip(`an earlier step failed: no ${missing.join(', ')}`);
    return missing.length === 0;
  };

  async function shot(page, name) {
    await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
  }

  function assertNoTokenInUrl(page) {
    for (const token of Object.values(tokens)) {
      assert.ok(!page.url().includes(token), `a token is in the URL ${page.url()}`);
    }
  }

  async function signIn(context, tokenName) {
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    const first = await page.goto(consoleUrl, { waitUntil: 'domcontentloaded' });
    assert.equal(new URL(page.url()).pathname, '/login', 'a page without a session asks for the token');
    assert.equal(first.status(), 200);
    await page.type('input[name=token]', tokens[tokenName]);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]);
    assert.equal(new URL(page.url()).pathname, '/', `signed in as ${tokenName}`);
    assertNoTokenInUrl(page);
    return page;
  }

  const envUrl = (suffix = '') => new URL(`environments/${kEnvironment}${suffix}`, consoleUrl).href;

  before(async () => {
    env = stackEnv();
    for (const k of ['CONSOLE_URL', 'CONSOLE_CA', 'TOKENS_FILE']) {
      assert.ok(env[k], `the stack's env lacks ${k} (scripts/stack writes it)`);
    }
    consoleUrl = env.CONSOLE_URL;
    tokens = stackTokens(env);
    build = new ReflectionClient(env.BUILD_ADDR, { timeoutMs: 30000, token: env.SHAPIN_TOKEN || null });
    deploy = new ReflectionClient(env.DEPLOY_ADDR, { timeoutMs: 30000, token: env.SHAPIN_TOKEN || null });
    shotsDir = path.join(process.env.SHAPIN_E2E_OUTPUT ||
      path.join(os.tmpdir(), 'shapin-e2e-output'), 'console');
    fs.mkdirSync(shotsDir, { recursive: true });

    // Two canonical images (reused when an earlier file built them) and a
    // current deployment to roll back from.
    repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shapin-e2e-console-'));
    const out = execFileSync(kMakeSampleRepo, [repoDir], { encoding: 'utf8', timeout: 60000 });
    const commits = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const main = commits.filter(([b]) => b === 'main').map(([, sha]) => sha);
    s.slow = commits.find(([b]) => b === 'slow')[1];
    for (const sha of main.slice(0, 2)) {
      const b = await build.call(`${kBuild}/SubmitBuild`, {
        git_sha: sha, branch: 'main', source_url: `file://${repoDir}`, wait: true,
        requested_by: 'e2e-console',
      }, { timeoutMs: 180000 });
      assert.equal(b.state, 'BUILD_STATE_SUCCEEDED', JSON.stringify(b));
    }
    s.shas = main.slice(0, 2);
    await deploy.call(`${kDeploy}/GetCurrent`, { environment: kEnvironment })
      .catch(async (err) => {
        if (err.codeName !== 'NOT_FOUND') throw err;
        return deploy.call(`${kDeploy}/Deploy`, {
          environment: kEnvironment, image_sha: s.shas[0], override_hold: true,
        }, { timeoutMs: kRollbackMs });
      });
    // Start unheld, so the hold seen later is the console's own.
    await deploy.call(`${kDeploy}/ReleaseHold`, { environment: kEnvironment });

    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shapin-e2e-chromium-'));
    browser = await puppeteer.launch({
      executablePath: kChromium,
      userDataDir,
      // The flags this machine needs (no sandbox as root, no background
      // connections to the closed network), and trust for exactly the
      // stack's certificate.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spkiHash(fs.readFileSync(env.CONSOLE_CA, 'utf8'))}`],
      defaultViewport: { width: 1440, height: 900 },
      timeout: 30000,
    });
  });

  after(async () => {
    await browser?.close();
    build?.close();
    deploy?.close();
    for (const dir of [userDataDir, repoDir]) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a page without a session asks for the token; an unknown token is refused', { timeout: kStepMs }, async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(envUrl(), { waitUntil: 'domcontentloaded' });
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.$eval('input[name=token]', (e) => e.type), 'password');
    await shot(page, '1-login');
    await page.type('input[name=token]', 'not-a-token-of-this-stack');
    const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(res.status(), 401);
    assert.match(await page.$eval('.message', (e) => e.textContent), /not known/);
    assert.ok(!page.url().includes('not-a-token'), page.url());
    await context.close();
  });

  test('as an operator the environments page shows the current SHA', { timeout: kStepMs }, async () => {
    const context = await browser.createBrowserContext();
    const page = await signIn(context, 'stack-operator');
    const current = await deploy.call(`${kDeploy}/GetCurrent`, { environment: kEnvironment });
    const row = `tr[data-environment="${kEnvironment}"]`;
    const sha = await page.$eval(`${row} .current-sha`, (e) => e.dataset.sha);
    assert.equal(sha, current.image_sha, 'the page shows what GetCurrent says');
    assert.equal(await page.$eval(`${row} .current-sha a.sha`, (e) => e.title), current.image_sha,
      'the full SHA on hover');
    assert.equal(await page.$eval(`${row} .current-sha code`, (e) => e.textContent), current.image_sha.slice(0, 12));
    assert.equal(await page.$eval(`${row} code.digest`, (e) => e.title), current.digest);
    const text = await page.$eval(row, (e) => e.textContent);
    assert.ok(text.includes(current.image_ref), `image_ref ${current.image_ref} in: ${text}`);
    assert.match(text, /verified/);
    assert.match(text, /UTC/, 'deployed since, absolute');
    assert.match(text, /ago|just now/, 'deployed since, relative');
    assert.match(await page.$eval('.identity', (e) => e.textContent), /stack-operator/);
    await shot(page, '2-environments');
    s.operator = { context, page };
    s.current = current;
  });

  test('the operator rolls back through the UI: history row and hold appear', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'operator', 'current')) return;
    const { page } = s.operator;
    await page.goto(envUrl(), { waitUntil: 'domcontentloaded' });
    assert.equal(await page.$eval('section.hold', (e) => e.dataset.held), 'false');
    const target = s.shas.find((sha) => sha !== s.current.image_sha);
    const options = await page.$$eval('select[name=image_sha] option', (os) => os.map((o) => o.value));
    assert.ok(options.includes(target), `rollback targets ${options} include ${target}`);
    assert.ok(!options.includes(s.current.image_sha), 'the running SHA is not offered');
    await page.select('select[name=image_sha]', target);
    const reason = `console e2e ${crypto.randomBytes(4).toString('hex')}`;
    await page.type('textarea[name=reason]', reason);
    const [res] = await Promise.all([
      page.waitForNavigation({ timeout: kRollbackMs, waitUntil: 'domcontentloaded' }),
      page.click('form.rollback button[type=submit]'),
    ]);
    assert.equal(res.status(), 200, await page.content());
    assert.equal(page.url(), envUrl(), 'back on the environment page');
    assert.match(await page.$eval('.notice', (e) => e.textContent),
      new RegExp(`Rolled ${kEnvironment} back to ${target.slice(0, 12)}`));
    assert.equal(await page.$eval('section.current .current-sha', (e) => e.dataset.sha), target);
    assert.equal(await page.$eval('section.hold', (e) => e.dataset.held), 'true', 'the hold is shown');
    assert.match(await page.$eval('section.hold', (e) => e.textContent), /held by stack-operator/);
    const first = await page.$eval('table.history tbody tr', (tr) => ({
      kind: tr.dataset.kind, state: tr.dataset.state, sha: tr.dataset.sha, text: tr.textContent,
    }));
    assert.deepEqual([first.kind, first.state, first.sha], ['rollback', 'succeeded', target]);
    assert.ok(first.text.includes(reason) && first.text.includes('stack-operator'), first.text);
    assert.ok(first.text.includes(s.current.image_sha.slice(0, 12)), `previous SHA in ${first.text}`);
    await shot(page, '3-environment-rolled-back');

    // The same rollback seen through the API: the pipeline's own record.
    const list = await deploy.call(`${kDeploy}/ListDeployments`, { environment: kEnvironment, page_size: 1 });
    const d = list.deployments[0];
    assert.equal(d.kind, 'DEPLOYMENT_KIND_ROLLBACK');
    assert.equal(d.image_sha, target);
    assert.equal(d.requested_by, 'stack-operator', 'requested_by is the signed-in identity');
    assert.equal(d.reason, reason);
    const held = await grpcFailure(deploy.call(`${kDeploy}/Deploy`, {
      environment: kEnvironment, image_sha: s.current.image_sha, dry_run: true,
    }));
    assert.match(held.details, /ON_HOLD/);
    s.rolledBack = target;
  });

  test('the history page lists every attempt with keyset pages', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'operator', 'rolledBack')) return;
    const { page } = s.operator;
    await page.goto(envUrl('/history'), { waitUntil: 'domcontentloaded' });
    const ids = await page.$$eval('table.history tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.deploymentId)));
    assert.ok(ids.length >= 2, `history rows: ${ids}`);
    assert.deepEqual([...ids].sort((a, b) => b - a), ids, 'newest first');
    const link = await page.$eval(`table.history tbody tr a.sha`, (a) => a.getAttribute('href'));
    assert.match(link, /^\/builds\?sha=[0-9a-f]{40}$/, 'each SHA links to its builds');
    await shot(page, '4-history');
    const older = await page.$('a.older');
    if (older) {
      await Promise.all([page.waitForNavigation(), older.click()]);
      assert.match(page.url(), /page_token=p\d+/);
      const next = await page.$$eval('table.history tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.deploymentId)));
      assert.ok(next.length > 0 && Math.max(...next) < Math.min(...ids), `older page ${next} after ${ids}`);
    }
  });

  test('the builds page follows a running build live, without reloading', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'operator')) return;
    const { page } = s.operator;
    const queued = await build.call(`${kBuild}/SubmitBuild`, {
      git_sha: s.slow, branch: 'slow', source_url: `file://${repoDir}`, wait: false, requested_by: 'e2e-console',
    });
    const id = queued.build_id;
    try {
      await page.goto(new URL('builds', consoleUrl).href, { waitUntil: 'domcontentloaded' });
      await page.evaluate(() => { window.__sameDocument = true; });
      const row = `tr[data-build-id="${id}"]`;
      await page.waitForFunction((sel) => {
        const r = document.querySelector(sel);
        return r && r.querySelector('[data-field=phase]').textContent === 'building';
      }, { timeout: 90000, polling: 250 }, row);
      assert.equal(await page.$eval(`${row} [data-field=state]`, (e) => e.textContent), 'running');
      assert.match(await page.$eval(`${row}`, (e) => e.textContent), /staging/);
      await shot(page, '5-builds-running');
      await build.call(`${kBuild}/CancelBuild`, { build_id: id });
      await page.waitForFunction((sel) => {
        const r = document.querySelector(sel);
        return r && r.dataset.state === 'canceled';
      }, { timeout: 30000, polling: 250 }, row);
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'updated in place, not reloaded');
      assert.equal(await page.$eval(`${row} [data-field=phase]`, (e) => e.textContent), '');
      // A published build of A: canonical, with its outcome.
      const a = `tr[data-sha="${s.shas[0]}"]`;
      const aText = await page.$eval(a, (e) => e.textContent);
      assert.match(aText, /canonical/);
      assert.match(aText, /built|reused/);
    } finally {
      await build.call(`${kBuild}/CancelBuild`, { build_id: id }).catch(() => {});
    }
  });

  test('as a viewer the controls are absent and a forged POST is refused (403)', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'rolledBack')) return;
    const context = await browser.createBrowserContext();
    const page = await signIn(context, 'stack-viewer');
    await page.goto(envUrl(), { waitUntil: 'domcontentloaded' });
    assert.equal(await page.$('form.rollback'), null, 'no rollback form');
    assert.equal(await page.$('form.release-hold'), null, 'no release-hold button');
    assert.equal(await page.$eval('section.hold', (e) => e.dataset.held), 'true', 'the hold is shown');
    assert.match(await page.$eval('section.rollback', (e) => e.textContent), /needs the operator role/);
    await shot(page, '6-environment-viewer');

    // From the page itself, with the session's own CSRF token: the role decides.
    const csrf = await page.$eval('input[name=csrf]', (e) => e.value);
    const other = s.shas.find((sha) => sha !== s.rolledBack);
    const forged = await page.evaluate(async (url, body) => {
      const res = await fetch(url, { method: 'POST', body: new URLSearchParams(body) });
      return { status: res.status, text: await res.text() };
    }, envUrl('/rollback'), { csrf, image_sha: other, reason: 'forged by a viewer' });
    assert.equal(forged.status, 403, forged.text);
    assert.match(forged.text, /lacks role operator/);
    const release = await page.evaluate(async (url, body) => (await fetch(url, {
      method: 'POST', body: new URLSearchParams(body),
    })).status, envUrl('/release-hold'), { csrf });
    assert.equal(release, 403);

    // From another origin with the operator's cookie, and without the CSRF
    // token: refused before any role is looked at.
    const cookies = await s.operator.page.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const ca = fs.readFileSync(env.CONSOLE_CA);
    const opCsrf = await s.operator.page.$eval('input[name=csrf]', (e) => e.value);
    const crossSite = await rawPost(envUrl('/rollback'), {
      ca, cookie, origin: 'https://evil.example',
      body: new URLSearchParams({ csrf: opCsrf, image_sha: other, reason: 'csrf' }).toString(),
    });
    assert.equal(crossSite.status, 403, crossSite.body);
    assert.match(crossSite.body, /cross-origin request refused/);
    const noToken = await rawPost(envUrl('/rollback'), {
      ca, cookie, origin: new URL(consoleUrl).origin,
      body: new URLSearchParams({ image_sha: other, reason: 'csrf' }).toString(),
    });
    assert.equal(noToken.status, 403, noToken.body);
    assert.match(noToken.body, /CSRF token/);

    const current = await deploy.call(`${kDeploy}/GetCurrent`, { environment: kEnvironment });
    assert.equal(current.image_sha, s.rolledBack, 'nothing was rolled back by the forged requests');
    await context.close();
  });

  test('the operator releases the hold through the UI', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'operator', 'rolledBack')) return;
    const { page } = s.operator;
    await page.goto(envUrl(), { waitUntil: 'domcontentloaded' });
    await Promise.all([page.waitForNavigation(), page.click('form.release-hold button')]);
    assert.match(await page.$eval('.notice', (e) => e.textContent), /Released the hold/);
    assert.equal(await page.$eval('section.hold', (e) => e.dataset.held), 'false');
    const dry = await deploy.call(`${kDeploy}/Deploy`, {
      environment: kEnvironment, image_sha: s.current.image_sha, dry_run: true,
    });
    assert.equal(dry.state, 'DEPLOYMENT_STATE_SUCCEEDED', 'no longer ON_HOLD');
  });

  test('bad URLs get error pages with the right status, never a trace', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'operator')) return;
    const { page } = s.operator;
    const unknown = await page.goto(new URL('environments/nope', consoleUrl).href);
    assert.equal(unknown.status(), 404);
    assert.match(await page.$eval('.error .message', (e) => e.textContent), /"nope" is not configured/);
    await shot(page, '7-error-unknown-environment');
    const badSha = await page.goto(new URL('builds?sha=12345', consoleUrl).href);
    assert.equal(badSha.status(), 400);
    assert.match(await page.$eval('.error .message', (e) => e.textContent), /sha: must be 40 lowercase hex/);
    const badId = await page.goto(new URL('builds/abc', consoleUrl).href);
    assert.equal(badId.status(), 400);
    const nowhere = await page.goto(new URL('no/such/page', consoleUrl).href);
    assert.equal(nowhere.status(), 404);
    const body = await page.content();
    assert.ok(!/\.cc:\d+|Traceback|terminate called|std::/.test(body), body);
  });

  test('signing out ends the session; no token reached a URL or the log', { timeout: kStepMs }, async (t) => {
    if (!skipUnless(t, 'operator')) return;
    const { page, context } = s.operator;
    await page.goto(consoleUrl, { waitUntil: 'domcontentloaded' });
    await Promise.all([page.waitForNavigation(), page.click('header form button')]);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.goto(envUrl(), { waitUntil: 'domcontentloaded' });
    assert.equal(new URL(page.url()).pathname, '/login', 'the old cookie no longer works');
    await context.close();
    const log = path.join(process.env.SHAPIN_STACK_DIR || path.resolve(__dirname, '..', '..', '.stack'),
      'logs', 'deploy-svc.log');
    if (fs.existsSync(log)) {
      const text = fs.readFileSync(log, 'utf8');
      assert.match(text, /event=console_login identity=stack-operator/);
      for (const [name, token] of Object.entries(tokens)) {
        assert.ok(!text.includes(token), `${name}'s token is in ${log}`);
      }
    }
  });
});
