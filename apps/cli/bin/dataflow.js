#!/usr/bin/env node
// A committed launcher, so npm links `dataflow` into node_modules/.bin at install time, before
// `dist/` exists (workspaces link bins only to files present then). The CLI itself is dist/bin.js.
import '../dist/bin.js';
