'use strict';
// A gRPC client that knows no .proto file: it asks the server's reflection
// service (v1alpha, as gRPC 1.51 C++ serves it) for the descriptors of a
// service, then calls its methods with plain JSON-like objects, the way grpcurl
// does. Shared by the end-to-end tests, grpc-call.js and scripts/demo.
//
//   const { ReflectionClient } = require('./lib/reflection-client');
//   const c = new ReflectionClient('127.0.0.1:50051');
//   await c.listServices();            // ['grpc.health.v1.Health', 'shapin.v1.BuildService', ...]
//   await c.listMethods('shapin.v1.BuildService');
//   await c.call('shapin.v1.BuildService/ListBuilds', { page_size: 10 });
//   for await (const ev of c.stream('shapin.v1.BuildService/WatchBuild', { build_id: id })) {}
//   c.close();
//
// Every call sends `authorization: Bearer <token>` when a token is given
// (options.token, else the SHAPIN_TOKEN environment variable; `token: null`
// sends none). Reflection and health need none, so listing works without.
//
// Messages in and out use the proto field names (`git_sha`); requests may also
// use the JSON names (`gitSha`). Replies carry every field (defaults included,
// like grpcurl -emit-defaults) except unset sub-messages; enums are names,
// 64-bit integers strings, bytes base64, google.protobuf.Timestamp an RFC 3339
// string and google.protobuf.Duration "1.5s", as in the proto3 JSON mapping.
// A failing call rejects with a GrpcError carrying the status code and its name.

const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');
const { GrpcReflection } = require('grpc-js-reflection-client');

const kDefaultTimeoutMs = 30000;

// status code number -> name, e.g. 3 -> 'INVALID_ARGUMENT'
const kCodeNames = Object.fromEntries(
  Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

function codeName(code) {
  return kCodeNames[code] || `CODE_${code}`;
}

class GrpcError extends Error {
  constructor(method, err) {
    super(`${method}: ${codeName(err.code)}: ${err.details}`);
    this.name = 'GrpcError';
    this.code = err.code;
    this.codeName = codeName(err.code);
    this.details = err.details;
    this.metadata = err.metadata;
  }
}

// grpc-js-reflection-client wraps a failed reflection call's status into the
// message of its own exception; recover it, so that an unreachable server is
// UNAVAILABLE like any other call.
function reflectionError(addr, err) {
  const m = /^(?:Error: )?(\d+) [A-Z_]+: ([\s\S]*)$/.exec(err && err.message ? err.message : String(err));
  if (m) return new GrpcError(`reflection at ${addr}`, { code: Number(m[1]), details: m[2] });
  return err;
}

// Descriptors for services whose C++ implementation is not generated from a
// .proto linked into the server, so reflection may not know them: gRPC C++'s
// default health service is one. Used only when reflection cannot answer.
const kBuiltinServices = {
  'grpc.health.v1.Health': {
    nested: { grpc: { nested: { health: { nested: { v1: { nested: {
      HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
      HealthCheckResponse: {
        fields: { status: { type: 'ServingStatus', id: 1 } },
        nested: {
          ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } },
        },
      },
      Health: {
        methods: {
          Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
          Watch: {
            requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse',
            responseStream: true,
          },
        },
      },
    } } } } } } },
  },
};

function jsonName(protoName) {
  return protoName.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function fullName(reflectionObject) {
  return reflectionObject.fullName.replace(/^\./, '');
}

// --- JSON -> message -----------------------------------------------------------

function parseTimestamp(text, where) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${where}: not an RFC 3339 timestamp: ${JSON.stringify(text)}`);
  const nanos = m[2] ? Number(m[2].slice(1).padEnd(9, '0')) : 0;
  return { seconds: String(Math.floor(ms / 1000)), nanos };
}

function parseDuration(text, where) {
  const m = /^(-)?(\d+)(\.\d{1,9})?s$/.exec(text);
  if (!m) throw new Error(`${where}: not a duration like "1.5s": ${JSON.stringify(text)}`);
  const sign = m[1] ? -1 : 1;
  const nanos = m[3] ? Number(m[3].slice(1).padEnd(9, '0')) : 0;
  return { seconds: String(sign * Number(m[2])), nanos: sign * nanos };
}

// Maps JSON names to proto names, rejects unknown fields (naming them) and
// turns well-known-type strings into their message form, recursively.
function normalizeRequest(type, value, where) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${where}: expected an object for ${fullName(type)}`);
  }
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] || type.fieldsArray.find((f) => jsonName(f.name) === key);
    if (!field) {
      throw new Error(`${where}: message ${fullName(type)} has no field "${key}"`);
    }
    const at = `${where}.${field.name}`;
    const convert = (x) => normalizeValue(field, x, at);
    if (field.map) {
      out[field.name] = Object.fromEntries(Object.entries(v || {}).map(([k, x]) => [k, convert(x)]));
    } else if (field.repeated) {
      out[field.name] = (v || []).map(convert);
    } else {
      out[field.name] = convert(v);
    }
  }
  return out;
}

function normalizeValue(field, v, where) {
  const rt = field.resolvedType;
  if (!rt || !rt.fieldsArray) return v; // scalar or enum
  if (v === null || v === undefined) return v;
  switch (fullName(rt)) {
    case 'google.protobuf.Timestamp':
      return typeof v === 'string' ? parseTimestamp(v, where) : v;
    case 'google.protobuf.Duration':
      return typeof v === 'string' ? parseDuration(v, where) : v;
    default:
      return normalizeRequest(rt, v, where);
  }
}

// --- message -> JSON -----------------------------------------------------------

const kToObjectOptions = {
  longs: String, enums: String, bytes: String, defaults: true, arrays: true, objects: true,
};

function formatTimestamp(obj) {
  const ms = Number(obj.seconds || 0) * 1000;
  const nanos = Number(obj.nanos || 0);
  const base = new Date(ms).toISOString().replace(/\.\d{3}Z$/, '');
  const frac = nanos ? `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${frac}Z`;
}

function formatDuration(obj) {
  const seconds = Number(obj.seconds || 0);
  const nanos = Number(obj.nanos || 0);
  const neg = seconds < 0 || nanos < 0;
  const frac = nanos ? `.${String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${neg ? '-' : ''}${Math.abs(seconds)}${frac}s`;
}

// Post-processes type.toObject() output: fields in declaration order, unset
// sub-messages dropped, well-known types formatted.
function toJson(type, raw) {
  const obj = {};
  for (const field of type.fieldsArray) {
    if (field.name in raw) obj[field.name] = raw[field.name];
  }
  for (const field of type.fieldsArray) {
    const rt = field.resolvedType;
    if (!rt || !rt.fieldsArray) continue; // scalar or enum
    const convert = (x) => {
      switch (fullName(rt)) {
        case 'google.protobuf.Timestamp': return formatTimestamp(x);
        case 'google.protobuf.Duration': return formatDuration(x);
        default: return toJson(rt, x);
      }
    };
    const v = obj[field.name];
    if (v === null || v === undefined) {
      delete obj[field.name];
    } else if (field.map) {
      for (const k of Object.keys(v)) v[k] = convert(v[k]);
    } else if (field.repeated) {
      obj[field.name] = v.map(convert);
    } else {
      obj[field.name] = convert(v);
    }
  }
  return obj;
}

// --- the client ----------------------------------------------------------------

class ReflectionClient {
  // addr: host:port. options.timeoutMs: deadline of each unary call and each
  // reflection request (default 30 s); options.credentials: default insecure;
  // options.token: bearer token (default $SHAPIN_TOKEN, null for none).
  constructor(addr, options = {}) {
    this.addr = addr;
    this.token = 'token' in options ? options.token : (process.env.SHAPIN_TOKEN || null);
    this.timeoutMs = options.timeoutMs || kDefaultTimeoutMs;
    const credentials = options.credentials || grpc.credentials.createInsecure();
    this.reflection = new GrpcReflection(addr, credentials, {}, 'v1alpha');
    this.channel = new grpc.Client(addr, credentials);
    this.roots = new Map(); // service full name -> Promise<protobuf Root>
    this.services = null; // Promise<string[]>
    // How each service's descriptors were found: 'reflection' or 'builtin'.
    this.descriptorSource = {};
  }

  close() {
    this.channel.close();
    if (this.reflection.client && typeof this.reflection.client.close === 'function') {
      this.reflection.client.close();
    }
  }

  _callOptions(timeoutMs) {
    const ms = timeoutMs === undefined ? this.timeoutMs : timeoutMs;
    return ms ? { deadline: new Date(Date.now() + ms) } : {};
  }

  // Full names of the services the server offers, sorted.
  async listServices() {
    if (!this.services) {
      this.services = this.reflection.listServices('*', this._callOptions())
        .then((names) => [...names].sort(), (err) => { throw reflectionError(this.addr, err); });
      this.services.catch(() => { this.services = null; });
    }
    return this.services;
  }

  // 'BuildService' or 'shapin.v1.BuildService' -> 'shapin.v1.BuildService'.
  async resolveServiceName(name) {
    if (name.includes('.')) return name;
    const matches = (await this.listServices()).filter((s) => s === name || s.endsWith(`.${name}`));
    if (matches.length !== 1) {
      throw new Error(`service "${name}" ${matches.length ? `is ambiguous: ${matches.join(', ')}` : 'not offered'} at ${this.addr}`);
    }
    return matches[0];
  }

  async _root(service) {
    if (!this.roots.has(service)) {
      const p = this._loadRoot(service);
      this.roots.set(service, p);
      p.catch(() => this.roots.delete(service));
    }
    return this.roots.get(service);
  }

  async _loadRoot(service) {
    try {
      const descriptor = await this.reflection.getDescriptorBySymbol(service, this._callOptions());
      const root = descriptor.getProtobufJsRoot();
      root.resolveAll();
      this.descriptorSource[service] = 'reflection';
      return root;
    } catch (caught) {
      const err = reflectionError(this.addr, caught);
      if (err instanceof GrpcError || !kBuiltinServices[service]) {
        if (err instanceof GrpcError) throw err;
        throw new Error(`reflection at ${this.addr} cannot describe ${service}: ${err.message}`);
      }
      const root = protobuf.Root.fromJSON(kBuiltinServices[service]);
      root.resolveAll();
      this.descriptorSource[service] = 'builtin';
      return root;
    }
  }

  async _service(name) {
    const service = await this.resolveServiceName(name);
    const root = await this._root(service);
    return { service, definition: root.lookupService(service) };
  }

  // [{name, requestType, responseType, clientStreaming, serverStreaming}]
  async listMethods(serviceName) {
    const { definition } = await this._service(serviceName);
    return definition.methodsArray.map((m) => ({
      name: m.name,
      requestType: fullName(m.resolvedRequestType),
      responseType: fullName(m.resolvedResponseType),
      clientStreaming: Boolean(m.requestStream),
      serverStreaming: Boolean(m.responseStream),
    }));
  }

  // 'pkg.Service/Method' (or 'Service/Method', or 'pkg.Service.Method') ->
  // everything needed to make the call.
  async method(path) {
    let serviceName;
    let methodName;
    if (path.includes('/')) {
      [serviceName, methodName] = path.replace(/^\//, '').split('/');
    } else {
      const dot = path.lastIndexOf('.');
      [serviceName, methodName] = [path.slice(0, dot), path.slice(dot + 1)];
    }
    const { service, definition } = await this._service(serviceName);
    const m = definition.methods[methodName];
    if (!m) {
      throw new Error(`service ${service} has no method ${methodName} (it has ${Object.keys(definition.methods).join(', ')})`);
    }
    const requestType = m.resolvedRequestType;
    const responseType = m.resolvedResponseType;
    return {
      path: `/${service}/${m.name}`,
      clientStreaming: Boolean(m.requestStream),
      serverStreaming: Boolean(m.responseStream),
      serialize: (obj) => {
        const normalized = normalizeRequest(requestType, obj || {}, fullName(requestType));
        return Buffer.from(requestType.encode(requestType.fromObject(normalized)).finish());
      },
      deserialize: (buf) => toJson(responseType, responseType.toObject(responseType.decode(buf), kToObjectOptions)),
    };
  }

  // Explicit headers win over the client's token (tests send bad ones).
  _metadata(headers) {
    const md = new grpc.Metadata();
    const entries = Object.entries(headers || {});
    if (this.token && !entries.some(([k]) => k.toLowerCase() === 'authorization')) {
      md.add('authorization', `Bearer ${this.token}`);
    }
    for (const [k, v] of entries) md.add(k, v);
    return md;
  }

  // Unary call; resolves to the reply as a plain object.
  // options: {timeoutMs (0 = none), metadata: {key: value}}
  async call(path, request = {}, options = {}) {
    const m = await this.method(path);
    if (m.clientStreaming || m.serverStreaming) {
      throw new Error(`${m.path} is a streaming method: use stream()`);
    }
    // Serialize here so a bad request is an error of its own, not a CANCELLED.
    m.serialize(request);
    return new Promise((resolve, reject) => {
      this.channel.makeUnaryRequest(m.path, m.serialize, m.deserialize, request,
        this._metadata(options.metadata), this._callOptions(options.timeoutMs),
        (err, reply) => (err ? reject(new GrpcError(m.path, err)) : resolve(reply)));
    });
  }

  // Server-streaming call: an async iterator of replies. A failing stream
  // throws a GrpcError from the loop. options as call(), default no deadline.
  async* stream(path, request = {}, options = {}) {
    const m = await this.method(path);
    if (m.clientStreaming || !m.serverStreaming) {
      throw new Error(`${m.path} is not a server-streaming method: use call()`);
    }
    m.serialize(request);
    const call = this.channel.makeServerStreamRequest(m.path, m.serialize, m.deserialize, request,
      this._metadata(options.metadata), this._callOptions(options.timeoutMs || 0));
    try {
      for await (const reply of call) yield reply;
    } catch (err) {
      if (err && typeof err.code === 'number') throw new GrpcError(m.path, err);
      throw err;
    } finally {
      call.cancel();
    }
  }
}

module.exports = { ReflectionClient, GrpcError, codeName };
