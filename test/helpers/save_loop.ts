// Child process for the crash test: saves a model over and over, each version
// filled with its own counter, until it is killed.
import { RNN, saveModel } from '../../src/index.js';

const path = process.argv[2];
const model = new RNN({ inputSize: 64, hiddenSize: 256, numLayers: 2, seed: 1 }); // ~1.3 MB per file
let version = 1;
for (;;) {
  for (const p of model.parameters()) p.data.fill(version);
  await saveModel(model, path, { version });
  if (version === 1) process.stdout.write('ready\n');
  version++;
}
