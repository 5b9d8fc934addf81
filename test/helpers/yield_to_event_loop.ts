// Every test file: after each test, one turn of the event loop. Vitest awaits
// between tests with promises only, so a file of synchronous native tests
// (tall_gemm: 50 s on 2 idle cores, 67 s on a loaded host) never reached the
// poll phase, and its worker's "onTaskUpdate" RPC to the main process timed out
// at 60 s: an unhandled error that fails `npm test` with every test passed.
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
