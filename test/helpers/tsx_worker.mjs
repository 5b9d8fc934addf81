// Worker bootstrap: registers tsx, then runs the TypeScript file named in
// workerData.script in this worker.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';

register();
await import(pathToFileURL(workerData.script).href);
