#!/usr/bin/env node
// The `dockgate` executable. The V8 heap setting must precede loading the rest: parsing and
// linking dockgate's modules already allocates enough to grow the young generation, so the
// command line is loaded only afterwards, dynamically.
import '../runtime/young-generation.js';

await import('./commands.js');
