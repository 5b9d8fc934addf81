// Many concurrent async calls on different modules give the same bits as
// sequential sync calls: OpenBLAS is called from several libuv threads at
// once (Debian's pthread OpenBLAS serialises its own thread pool), and every
// call owns its buffers, so there is nothing to race on.
import { describe, expect, it } from 'vitest';
import { RNN, tensor, type Tensor } from '../src/index.js';
import { makeRng } from './helpers/random.js';

const rng = makeRng(31);
const rand = (shape: number[]): Tensor => tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()), shape);

describe('concurrency', () => {
  it('16 modules driven concurrently match sequential results bit for bit', async () => {
    const configs = Array.from({ length: 16 }, (_, i) => ({
      inputSize: 8 + (i % 3), hiddenSize: 16 + 8 * (i % 4), numLayers: 1 + (i % 2), bidirectional: i % 3 === 0, seed: i,
    }));
    const inputs = configs.map((c) => rand([12, 5, c.inputSize]));
    const gys = configs.map((c) => rand([12, 5, (c.bidirectional ? 2 : 1) * c.hiddenSize]));

    const sequential = configs.map((c, i) => {
      const m = new RNN(c);
      const { y, hN } = m.forward(inputs[i]);
      const { gx } = m.backward({ gy: gys[i] });
      return { y: y.data, hN: hN.data, gx: gx!.data, grads: m.parameters().map((p) => p.grad.slice()) };
    });

    const concurrent = await Promise.all(configs.map(async (c, i) => {
      const m = new RNN(c);
      const { y, hN } = await m.forwardAsync(inputs[i]);
      const { gx } = await m.backwardAsync({ gy: gys[i] });
      return { y: y.data, hN: hN.data, gx: gx!.data, grads: m.parameters().map((p) => p.grad.slice()) };
    }));

    concurrent.forEach((r, i) => {
      expect(r.y).toEqual(sequential[i].y);
      expect(r.hN).toEqual(sequential[i].hN);
      expect(r.gx).toEqual(sequential[i].gx);
      r.grads.forEach((g, k) => expect(g).toEqual(sequential[i].grads[k]));
    });
  });

  it('a second async call on a busy module is rejected, never interleaved', async () => {
    const m = new RNN({ inputSize: 4, hiddenSize: 32, seed: 1 });
    const x = rand([50, 8, 4]);
    const first = m.forwardAsync(x);
    await expect(m.forwardAsync(x)).rejects.toThrow(/busy/);
    await expect(m.backwardAsync()).rejects.toThrow(/busy/);
    const { y } = await first;
    expect(y.data).toEqual(new RNN({ inputSize: 4, hiddenSize: 32, seed: 1 }).forward(x).y.data);
  });
});
