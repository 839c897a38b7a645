// Imported for its effect by the CLI entry point (src/cli/main.ts) before dockgate's other
// modules are loaded, since loading them already allocates enough to grow the space.
import v8 from 'node:v8';

// Keeps V8's young generation at its initial size (two 1 MiB semi-spaces) instead of letting it
// grow to 32 MiB. It grows when many objects outlive a scavenge at once — hundreds of streams
// opening — and then stays grown; a proxy's garbage is short-lived and does not need it.
// Measured with 500 held attach/logs -f streams: peak RSS 151 -> 128 MiB; the idle process
// ~3 MiB smaller (bench/FINDINGS.md).
//
// V8 reads this flag each time it would grow the space, so setting it at run time works (a
// start-up flag such as --max-semi-space-size would need a node command-line option); an engine
// test (test/engine/operations.test.ts) checks through /metrics that it holds on the Node in use.
v8.setFlagsFromString('--semi-space-growth-factor=1');
