#!/usr/bin/env node
// The `softphone` command: see `softphone --help` and the package README.
import process from 'node:process';
import { runCli } from '../dist/index.js';

process.exitCode = await runCli(process.argv.slice(2));
