#!/usr/bin/env node
// A stateful simulator of the Akash Console API (managed-wallet deployments),
// for tests of shapin's akash-console target. Node built-ins only.
//
//   node server.js --api-key KEY
//
// Listens on 127.0.0.1, port 0, and prints the port as the first line of
// stdout. Shapes follow the Console API's own OpenAPI description
// (akash-network/console d84c9e93, apps/api/swagger/openapi.json): bodies
// wrapped as {"data": …}, x-api-key auth, and a request that does not match
// the schema answers 400 like the real API.
//
// What it simulates:
//   POST /v1/deployments {data:{sdl, deposit?}}  -> 201 {data:{dseq, manifest, signTx}}
//       opens a deployment (hash = base64 sha256 of the SDL) and, after
//       `bidDelayPolls` bid queries, bids from the configured providers.
//   GET  /v1/bids?dseq=N, GET /v1/bids/{dseq}    -> {data:[{bid, escrow_account}]}
//   POST /v1/leases {manifest, leases:[{dseq,gseq,oseq,provider}]}
//       leases open bids and "sends the manifest": services start.
//   PUT  /v1/deployments/{dseq} {data:{sdl}}     -> the deployment
//       new hash when the SDL differs (unless frozen), manifest re-sent:
//       services report updated replicas after `readyAfterPolls` GETs.
//   GET  /v1/deployments/{dseq}                 -> {data:{deployment, leases, escrow_account}}
//   DELETE /v1/deployments/{dseq}               -> {data:{success:true}}
//
// Control endpoints (no auth), for failure tests:
//   POST /__control/fail-next?status=500&count=2[&method=PUT][&path=/v1/…]
//   POST /__control/freeze-hash[?on=false]   updates keep the old hash and
//                                            image (a silently ignored update)
//   POST /__control/bids   [{provider, amount, denom?}]  bids for new deployments
//   POST /__control/config {bidDelayPolls, readyAfterPolls}
//   POST /__control/seed   {sdl, provider?}  -> {dseq}: an existing, leased,
//                                            running deployment
//   GET  /__control/requests                 every API request seen so far
//   POST /__control/reset
'use strict';

const http = require('http');
const crypto = require('crypto');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const API_KEY = arg('--api-key', process.env.FAKE_CONSOLE_API_KEY || 'test-key');
const OWNER = 'akash1fakeowner0000000000000000000000000000';

let state;
function reset() {
  state = {
    nextDseq: 1000001,
    deployments: new Map(),  // dseq -> deployment
    bids: new Map(),         // dseq -> [bid]
    bidQueries: new Map(),   // dseq -> number of bid queries so far
    offers: [
      {provider: 'akash1provideralpha', amount: '1.5', denom: 'uakt'},
      {provider: 'akash1providerbeta', amount: '0.9', denom: 'uakt'},
    ],
    failNext: [],  // [{status, count, method, path}]
    freezeHash: false,
    bidDelayPolls: 1,
    readyAfterPolls: 1,
    requests: [],
  };
}
reset();

const now = () => new Date().toISOString();
const sha256b64 = (text) =>
  crypto.createHash('sha256').update(text, 'utf8').digest('base64');

// Service names and replica counts from the SDL. The fake has no YAML
// parser (no npm deps): it reads the two-space block layout every SDL in
// practice (and yaml-cpp's emitter) uses.
function sdlServices(sdl) {
  const lines = sdl.split('\n');
  const services = [];
  let section = null;
  for (const line of lines) {
    const top = /^([A-Za-z_][\w-]*):/.exec(line);
    if (top) {
      section = top[1];
      continue;
    }
    const key = /^  ([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (key && section === 'services') services.push(key[1]);
  }
  const counts = {};
  const count = /^\s+count:\s*(\d+)/;
  let current = null;
  section = null;
  for (const line of lines) {
    const top = /^([A-Za-z_][\w-]*):/.exec(line);
    if (top) {
      section = top[1];
      continue;
    }
    if (section !== 'deployment') continue;
    const svc = /^  ([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (svc) current = svc[1];
    const c = count.exec(line);
    if (c && current) counts[current] = Number(c[1]);
  }
  return services.map((name) => ({name, total: counts[name] || 1}));
}

function sdlImage(sdl) {
  const m = /^\s+image:\s*"?([^"\s]+)"?\s*$/m.exec(sdl);
  return m ? m[1] : '';
}

// Roughly what the real API checks before it touches the chain.
function sdlProblem(sdl) {
  if (!/^version:\s*"2\.0"\s*$/m.test(sdl)) return 'SDL version must be "2.0"';
  for (const section of ['services', 'profiles', 'deployment']) {
    if (!new RegExp(`^${section}:`, 'm').test(sdl)) {
      return `SDL has no ${section} section`;
    }
  }
  if (sdlServices(sdl).length === 0) return 'SDL declares no services';
  return null;
}

function coin(amount, denom) {
  return {denom: denom || 'uakt', amount: String(amount)};
}

function escrow(dseq) {
  return {
    id: {scope: 'deployment', xid: `${OWNER}/${dseq}`},
    state: {
      owner: OWNER,
      state: 'open',
      transferred: [coin('0.0')],
      settled_at: '1',
      funds: [coin('5000000.0')],
      deposits: [{owner: OWNER, height: '1', source: 'balance',
                  balance: coin('5000000.0')}],
    },
  };
}

function leaseStatus(dep, lease) {
  const services = {};
  for (const svc of dep.services) {
    const ready = dep.readyCountdown <= 0;
    const n = ready ? svc.total : 0;
    services[svc.name] = {
      name: svc.name,
      available: n,
      total: svc.total,
      uris: [`${svc.name}-${dep.dseq}.${lease.provider}.ingress.example`],
      observed_generation: dep.generation,
      replicas: svc.total,
      updated_replicas: n,
      ready_replicas: n,
      available_replicas: n,
    };
  }
  return {forwarded_ports: {}, ips: {}, services};
}

function deploymentView(dep) {
  return {
    deployment: {
      id: {owner: OWNER, dseq: dep.dseq},
      state: dep.state,
      hash: dep.hash,
      created_at: dep.created_at,
    },
    leases: dep.leases.map((lease) => ({
      id: {owner: OWNER, dseq: dep.dseq, gseq: lease.gseq, oseq: lease.oseq,
           provider: lease.provider, bseq: 1},
      state: dep.state === 'active' ? 'active' : 'closed',
      price: lease.price,
      created_at: lease.created_at,
      closed_on: dep.state === 'active' ? '0' : '2',
      status: dep.manifestSent && dep.state === 'active'
          ? leaseStatus(dep, lease) : null,
    })),
    escrow_account: escrow(dep.dseq),
  };
}

function newDeployment(sdl) {
  const dseq = String(state.nextDseq++);
  const dep = {
    dseq,
    state: 'active',
    hash: sha256b64(sdl),
    sdl,
    image: sdlImage(sdl),
    services: sdlServices(sdl),
    created_at: String(Date.now()),
    leases: [],
    manifestSent: false,
    readyCountdown: state.readyAfterPolls,
    generation: 1,
  };
  state.deployments.set(dseq, dep);
  return dep;
}

function bidView(dseq, offer, index) {
  return {
    bid: {
      id: {owner: OWNER, dseq, gseq: 1, oseq: 1, provider: offer.provider,
           bseq: index + 1},
      state: offer.state || 'open',
      price: coin(offer.amount, offer.denom),
      created_at: '1',
      resources_offer: [],
    },
    escrow_account: escrow(dseq),
  };
}

// --- request validation (OpenAPI shapes) ------------------------------------

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isDseq = (v) => typeof v === 'string' && /^\d+$/.test(v);

function badRequest(res, message) {
  send(res, 400, {error: 'BadRequestError', message, code: 'validation_error'});
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {'Content-Type': 'application/json',
                         'Content-Length': Buffer.byteLength(text)});
  res.end(text);
}

function parseJson(req, body) {
  if (!/application\/json/.test(req.headers['content-type'] || '')) {
    return {error: 'content-type must be application/json'};
  }
  try {
    return {value: JSON.parse(body)};
  } catch (e) {
    return {error: `malformed JSON: ${e.message}`};
  }
}

// --- handlers ----------------------------------------------------------------

function handleApi(req, res, url, body) {
  const method = req.method;
  const path = url.pathname;
  const depPath = /^\/v1\/deployments\/([^/]+)$/.exec(path);
  const bidsPath = /^\/v1\/bids\/([^/]+)$/.exec(path);

  if (method === 'POST' && path === '/v1/deployments') {
    const parsed = parseJson(req, body);
    if (parsed.error) return badRequest(res, parsed.error);
    const b = parsed.value;
    if (!isObject(b) || !isObject(b.data) || typeof b.data.sdl !== 'string') {
      return badRequest(res, 'body must be {data:{sdl: string, deposit?: number}}');
    }
    if (b.data.deposit !== undefined && typeof b.data.deposit !== 'number') {
      return badRequest(res, 'data.deposit must be a number');
    }
    const problem = sdlProblem(b.data.sdl);
    if (problem) return badRequest(res, `Invalid SDL: ${problem}`);
    const dep = newDeployment(b.data.sdl);
    state.bids.set(dep.dseq, state.offers.map((o, i) => bidView(dep.dseq, o, i)));
    state.bidQueries.set(dep.dseq, 0);
    const manifest = JSON.stringify([{name: 'dcloud', services: dep.services}]);
    dep.manifest = manifest;
    return send(res, 201, {data: {dseq: dep.dseq, manifest,
      signTx: {code: 0, transactionHash: crypto.randomBytes(32).toString('hex').toUpperCase(),
               rawLog: '[]'}}});
  }

  if (method === 'GET' && (path === '/v1/bids' || bidsPath)) {
    const dseq = bidsPath ? bidsPath[1] : url.searchParams.get('dseq');
    if (!isDseq(dseq)) return badRequest(res, 'dseq must match ^\\d+$');
    const queries = (state.bidQueries.get(dseq) || 0) + 1;
    state.bidQueries.set(dseq, queries);
    const bids = queries > state.bidDelayPolls ? (state.bids.get(dseq) || []) : [];
    return send(res, 200, {data: bids});
  }

  if (method === 'POST' && path === '/v1/leases') {
    const parsed = parseJson(req, body);
    if (parsed.error) return badRequest(res, parsed.error);
    const b = parsed.value;
    if (!isObject(b) || typeof b.manifest !== 'string' || !Array.isArray(b.leases) ||
        b.leases.length === 0) {
      return badRequest(res, 'body must be {manifest: string, leases: [...]}');
    }
    for (const l of b.leases) {
      if (!isObject(l) || !isDseq(l.dseq) || typeof l.gseq !== 'number' ||
          typeof l.oseq !== 'number' || typeof l.provider !== 'string') {
        return badRequest(res, 'leases[] must be {dseq: string, gseq: number, oseq: number, provider: string}');
      }
    }
    const dep = state.deployments.get(b.leases[0].dseq);
    if (!dep) return send(res, 404, {error: 'NotFoundError', message: 'Deployment not found'});
    for (const l of b.leases) {
      const bid = (state.bids.get(l.dseq) || []).find(
          (x) => x.bid.id.provider === l.provider && x.bid.id.gseq === l.gseq &&
                 x.bid.id.oseq === l.oseq && x.bid.state === 'open');
      if (!bid) {
        return badRequest(res, `no open bid from ${l.provider} for ${l.dseq}/${l.gseq}/${l.oseq}`);
      }
      dep.leases.push({gseq: l.gseq, oseq: l.oseq, provider: l.provider,
                       price: bid.bid.price, created_at: String(Date.now())});
      bid.bid.state = 'matched';
    }
    dep.manifestSent = true;
    dep.readyCountdown = state.readyAfterPolls;
    return send(res, 200, {data: deploymentView(dep)});
  }

  if (depPath) {
    const dseq = depPath[1];
    if (!isDseq(dseq)) return badRequest(res, 'dseq must match ^\\d+$');
    const dep = state.deployments.get(dseq);
    if (!dep) return send(res, 404, {error: 'NotFoundError', message: 'Deployment not found'});

    if (method === 'GET') {
      const view = deploymentView(dep);
      if (dep.manifestSent && dep.readyCountdown > 0) dep.readyCountdown--;
      return send(res, 200, {data: view});
    }
    if (method === 'PUT') {
      const parsed = parseJson(req, body);
      if (parsed.error) return badRequest(res, parsed.error);
      const b = parsed.value;
      if (!isObject(b) || !isObject(b.data) || typeof b.data.sdl !== 'string') {
        return badRequest(res, 'body must be {data:{sdl: string}}');
      }
      const problem = sdlProblem(b.data.sdl);
      if (problem) return badRequest(res, `Invalid SDL: ${problem}`);
      if (dep.state !== 'active') {
        return badRequest(res, `Deployment ${dseq} is closed`);
      }
      const hash = sha256b64(b.data.sdl);
      if (hash !== dep.hash && !state.freezeHash) {
        dep.hash = hash;
        dep.sdl = b.data.sdl;
        dep.image = sdlImage(b.data.sdl);
        dep.generation++;
        dep.readyCountdown = state.readyAfterPolls;
      }
      return send(res, 200, {data: deploymentView(dep)});
    }
    if (method === 'DELETE') {
      dep.state = 'closed';
      return send(res, 200, {data: {success: true}});
    }
  }
  return send(res, 404, {error: 'NotFoundError', message: `no route ${method} ${path}`});
}

function handleControl(req, res, url, body) {
  const path = url.pathname;
  const json = () => (body ? JSON.parse(body) : {});
  if (req.method === 'POST' && path === '/__control/fail-next') {
    state.failNext.push({
      status: Number(url.searchParams.get('status') || 500),
      count: Number(url.searchParams.get('count') || 1),
      method: url.searchParams.get('method'),
      path: url.searchParams.get('path'),
    });
    return send(res, 200, {ok: true});
  }
  if (req.method === 'POST' && path === '/__control/freeze-hash') {
    state.freezeHash = url.searchParams.get('on') !== 'false';
    return send(res, 200, {freezeHash: state.freezeHash});
  }
  if (req.method === 'POST' && path === '/__control/bids') {
    state.offers = json();
    return send(res, 200, {offers: state.offers});
  }
  if (req.method === 'POST' && path === '/__control/config') {
    const c = json();
    if (c.bidDelayPolls !== undefined) state.bidDelayPolls = c.bidDelayPolls;
    if (c.readyAfterPolls !== undefined) state.readyAfterPolls = c.readyAfterPolls;
    return send(res, 200, {bidDelayPolls: state.bidDelayPolls,
                           readyAfterPolls: state.readyAfterPolls});
  }
  if (req.method === 'POST' && path === '/__control/seed') {
    const c = json();
    const dep = newDeployment(c.sdl);
    dep.leases.push({gseq: 1, oseq: 1, provider: c.provider || 'akash1provideralpha',
                     price: coin('1.0'), created_at: String(Date.now())});
    dep.manifestSent = true;
    dep.readyCountdown = 0;
    return send(res, 200, {dseq: dep.dseq, hash: dep.hash});
  }
  if (req.method === 'GET' && path === '/__control/requests') {
    return send(res, 200, state.requests);
  }
  if (req.method === 'GET' && path === '/__control/deployments') {
    return send(res, 200, [...state.deployments.values()].map((d) => ({
      dseq: d.dseq, hash: d.hash, image: d.image, state: d.state,
      leases: d.leases.map((l) => l.provider)})));
  }
  if (req.method === 'POST' && path === '/__control/reset') {
    reset();
    return send(res, 200, {ok: true});
  }
  return send(res, 404, {error: 'NotFoundError', message: `no control route ${path}`});
}

function takeInjectedFailure(req, url) {
  for (const f of state.failNext) {
    if (f.count <= 0) continue;
    if (f.method && f.method !== req.method) continue;
    if (f.path && f.path !== url.pathname) continue;
    f.count--;
    return f.status;
  }
  return 0;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    try {
      if (url.pathname.startsWith('/__control/')) {
        return handleControl(req, res, url, body);
      }
      state.requests.push({method: req.method, path: url.pathname,
                           query: Object.fromEntries(url.searchParams),
                           apiKey: req.headers['x-api-key'] || null,
                           contentType: req.headers['content-type'] || null,
                           body});
      if (req.headers['x-api-key'] !== API_KEY) {
        return send(res, 401, {error: 'UnauthorizedError', message: 'Unauthorized'});
      }
      const failure = takeInjectedFailure(req, url);
      if (failure) {
        return send(res, failure, {error: 'InternalServerError',
                                   message: 'injected failure'});
      }
      return handleApi(req, res, url, body);
    } catch (e) {
      return send(res, 500, {error: 'InternalServerError', message: String(e)});
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
// The test harness closes our stdin or kills us; either way, go.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
