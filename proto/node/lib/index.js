// SPDX-License-Identifier: Apache-2.0
// sendgate-client: queue mail jobs for the sendgate gateway and read their
// results (see README.md).
'use strict';
const { Client } = require('./client');
const { buildJob, parseResult } = require('./job');
const errors = require('./errors');

module.exports = { Client, buildJob, parseResult, ...errors };
