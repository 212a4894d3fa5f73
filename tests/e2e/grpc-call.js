#!/usr/bin/env node
'use strict';
// grpcurl-like command line over lib/reflection-client.js: no .proto files,
// everything is discovered through the server's reflection service.
//
//   grpc-call.js [options] <addr> list [service]        services, or a service's methods
//   grpc-call.js [options] <addr> <Service/Method> ['<json>'|-]
//
//   grpc-call.js 127.0.0.1:50051 shapin.v1.BuildService/ListBuilds '{"page_size": 5}'
//   grpc-call.js 127.0.0.1:50051 BuildService/GetImage '{"git_sha": "xyz"}'   # exits 67
//
// The request is JSON with proto (git_sha) or JSON (gitSha) field names; `-`
// reads it from stdin; none means {}. A unary reply is printed as indented
// JSON; a server stream prints each reply as it comes. On a failing call the
// gRPC code name and message go to stderr and the exit status is 64 + the code
// (INVALID_ARGUMENT -> 67, NOT_FOUND -> 69, UNAVAILABLE -> 78), as grpcurl does;
// other failures exit 1, bad usage 2.
//
// Options:
//   -H 'key: value'     request metadata (repeatable)
//   --token TOKEN       bearer token (default: $SHAPIN_TOKEN; '' sends none)
//   --timeout SECONDS   deadline of the call (default 30 for unary calls, none for streams)

const fs = require('fs');
const path = require('path');
const { ReflectionClient, GrpcError } = require(path.join(__dirname, 'lib', 'reflection-client'));

function usage(message) {
  if (message) process.stderr.write(`grpc-call: ${message}\n`);
  process.stderr.write(
    'usage: grpc-call.js [-H "key: value"]... [--token TOKEN] [--timeout SECONDS] <addr> list [service]\n' +
    '       grpc-call.js [-H "key: value"]... [--token TOKEN] [--timeout SECONDS] <addr> <Service/Method> [json|-]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { metadata: {}, timeoutMs: undefined, token: undefined, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-H') {
      const h = argv[++i];
      const colon = h === undefined ? -1 : h.indexOf(':');
      if (colon <= 0) usage(`-H needs "key: value", got ${JSON.stringify(h)}`);
      opts.metadata[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    } else if (a === '--token') {
      opts.token = argv[++i];
      if (opts.token === undefined) usage('--token needs a value');
    } else if (a === '--timeout') {
      const s = Number(argv[++i]);
      if (!(s >= 0)) usage('--timeout needs a number of seconds');
      opts.timeoutMs = s * 1000;
    } else if (a === '-h' || a === '--help') {
      usage();
    } else if (a.startsWith('-') && a !== '-') {
      usage(`unknown option ${a}`);
    } else {
      opts.positional.push(a);
    }
  }
  return opts;
}

function print(obj) {
  process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const [addr, target, body] = opts.positional;
  if (!addr || !target || opts.positional.length > 3) usage();
  const clientOptions = { timeoutMs: opts.timeoutMs };
  if (opts.token !== undefined) clientOptions.token = opts.token || null;
  const client = new ReflectionClient(addr, clientOptions);
  try {
    if (target === 'list') {
      if (body) {
        for (const m of await client.listMethods(body)) {
          const req = m.clientStreaming ? `stream ${m.requestType}` : m.requestType;
          const res = m.serverStreaming ? `stream ${m.responseType}` : m.responseType;
          process.stdout.write(`${m.name}(${req}) returns (${res})\n`);
        }
      } else {
        process.stdout.write(`${(await client.listServices()).join('\n')}\n`);
      }
      return 0;
    }
    let request = {};
    if (body !== undefined) {
      const text = body === '-' ? fs.readFileSync(0, 'utf8') : body;
      try {
        request = text.trim() ? JSON.parse(text) : {};
      } catch (err) {
        usage(`request is not JSON: ${err.message}`);
      }
    }
    const method = await client.method(target);
    const callOptions = { metadata: opts.metadata, timeoutMs: opts.timeoutMs };
    if (method.serverStreaming) {
      for await (const reply of client.stream(target, request, callOptions)) print(reply);
    } else {
      print(await client.call(target, request, callOptions));
    }
    return 0;
  } catch (err) {
    if (err instanceof GrpcError) {
      process.stderr.write(`grpc-call: ${err.codeName}: ${err.details}\n`);
      return 64 + err.code;
    }
    process.stderr.write(`grpc-call: ${err.message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

main().then((code) => { process.exitCode = code; });
