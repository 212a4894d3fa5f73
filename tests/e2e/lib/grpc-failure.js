'use strict';
// grpcFailure: for tests that expect a call to fail.
//
//   const err = await grpcFailure(client.call(path, body));
//   assert.equal(err.codeName, 'NOT_FOUND');
const assert = require('node:assert/strict');
const { GrpcError } = require('./reflection-client');

// Resolves to the GrpcError the promise rejects with; fails if it resolves
// (and rethrows any other error).
async function grpcFailure(promise) {
  try {
    const reply = await promise;
    assert.fail(`expected a gRPC error, got ${JSON.stringify(reply)}`);
  } catch (err) {
    if (!(err instanceof GrpcError)) throw err;
    return err;
  }
}

module.exports = { grpcFailure };
