import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  CosineAnnealingLR,
  ExponentialLR,
  LinearWarmup,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  ReduceLROnPlateau,
  type SchedulerState,
  SequentialLR,
  SGD,
  StepLR,
} from '../src/optim/index.js';
import type { Parameter } from '../src/tensor.js';

// Fixtures: scripts/fixtures/gen_schedulers.py (PyTorch 1.13), see the file's "format" field.
interface Spec {
  type: string;
  schedulers?: Spec[];
  [k: string]: unknown;
}
interface Case {
  name: string;
  optimizer: { type: 'SGD' | 'Adam'; lr: number; momentum?: number };
  scheduler: Spec;
  lrs: number[];
  momenta?: number[];
  metrics?: number[];
}
const FIX = JSON.parse(readFileSync(new URL('./fixtures/schedulers/schedulers.json', import.meta.url), 'utf8')) as { producer: string; cases: Case[] };

const param = (): Parameter => ({ name: 'w', shape: [1], data: new Float32Array(1), grad: new Float32Array(1) });

function makeOptimizer(o: Case['optimizer']): Optimizer {
  const { type, ...rest } = o;
  return type === 'SGD' ? new SGD([param()], rest as { lr: number }) : new Adam([param()], rest);
}

function makeScheduler(opt: Optimizer, spec: Spec): LRScheduler {
  const { type, ...options } = spec;
  switch (type) {
    case 'StepLR':
      return new StepLR(opt, options as never);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, options as never);
    case 'LinearWarmup':
      return new LinearWarmup(opt, options as never);
    case 'MultiStepLR':
      return new MultiStepLR(opt, options as never);
    case 'ExponentialLR':
      return new ExponentialLR(opt, options as never);
    case 'OneCycleLR':
      return new OneCycleLR(opt, options as never);
    case 'ReduceLROnPlateau':
      return new ReduceLROnPlateau(opt, options as never);
    case 'SequentialLR': {
      // Created in order on the same optimizer, as the generator does.
      const children = (spec.schedulers as Spec[]).map((c) => makeScheduler(opt, c));
      return new SequentialLR(opt, { schedulers: children, milestones: spec.milestones as number[] });
    }
    default:
      throw new Error(`unknown scheduler ${type}`);
  }
}

const momentumOf = (o: Optimizer): number => (o instanceof Adam ? o.betas[0] : (o as SGD).momentum);

// Our closed forms vs PyTorch's recursive updates: a few ulps after 30 steps.
const TOL = 1e-12;
const close = (a: number, b: number): boolean => Math.abs(a - b) <= TOL * Math.abs(b);

function trajectory(c: Case, opt: Optimizer, s: LRScheduler, from = 0): { lrs: number[]; momenta: number[] } {
  const lrs = [opt.lr];
  const momenta = [momentumOf(opt)];
  for (let e = from + 1; e < c.lrs.length; e++) {
    if (c.metrics) s.step(c.metrics[e - 1]);
    else s.step();
    expect(s.getLastLr()).toBe(opt.lr);
    expect(s.lastEpoch).toBe(e);
    lrs.push(opt.lr);
    momenta.push(momentumOf(opt));
  }
  return { lrs, momenta };
}

// OneCycleLR's last step (totalSteps, past the cycle) extrapolates in PyTorch; linear
// annealing goes below zero there, which rnnblas clamps to 0 (documented).
const expectedLr = (c: Case, e: number): number => (c.scheduler.type === 'OneCycleLR' ? Math.max(0, c.lrs[e]) : c.lrs[e]);

function expectTrajectory(c: Case, got: { lrs: number[]; momenta: number[] }, from = 0): void {
  got.lrs.forEach((lr, i) => expect(close(lr, expectedLr(c, from + i)), `lr at ${from + i}: ${lr} vs torch ${c.lrs[from + i]}`).toBe(true));
  if (c.momenta) got.momenta.forEach((m, i) => expect(close(m, c.momenta![from + i]), `momentum at ${from + i}: ${m} vs torch ${c.momenta![from + i]}`).toBe(true));
}

describe(`schedulers against torch.optim.lr_scheduler (${FIX.producer})`, () => {
  it('covers every new scheduler', () => {
    const types = new Set(FIX.cases.map((c) => c.scheduler.type));
    for (const t of ['MultiStepLR', 'ExponentialLR', 'OneCycleLR', 'ReduceLROnPlateau', 'SequentialLR']) expect(types.has(t), t).toBe(true);
  });

  for (const c of FIX.cases) {
    it(`${c.name}: lr${c.momenta ? ' and momentum' : ''} at every step`, () => {
      const opt = makeOptimizer(c.optimizer);
      const s = makeScheduler(opt, c.scheduler);
      expectTrajectory(c, trajectory(c, opt, s));
    });

    it(`${c.name}: a state dict saved half way (through JSON) continues the same trajectory`, () => {
      const opt = makeOptimizer(c.optimizer);
      const s = makeScheduler(opt, c.scheduler);
      const half = Math.floor((c.lrs.length - 1) / 2);
      for (let e = 1; e <= half; e++) {
        if (c.metrics) s.step(c.metrics[e - 1]);
        else s.step();
      }
      const saved = JSON.parse(JSON.stringify(s.stateDict())) as SchedulerState;
      const opt2 = makeOptimizer({ ...c.optimizer, lr: 7 });
      // A wrong momentum that loading must put back (when the scheduler cycles it).
      if (opt2 instanceof Adam && c.scheduler.cycleMomentum !== false) opt2.betas = [0.5, 0.999];
      const s2 = makeScheduler(opt2, c.scheduler);
      s2.loadStateDict(saved);
      expect(s2.stateDict()).toEqual(s.stateDict());
      expect(opt2.lr).toBe(opt.lr);
      if (c.momenta) expect(momentumOf(opt2)).toBe(momentumOf(opt));
      expectTrajectory(c, trajectory(c, opt2, s2, half), half);
    });
  }
});

describe('scheduler behaviour', () => {
  it('ReduceLROnPlateau: hand-checked plateau, cooldown and minLr', () => {
    const opt = new SGD([param()], { lr: 1 });
    const s = new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5, cooldown: 1, minLr: 0.3 });
    const lrs: number[] = [];
    for (const m of [5, 4, 4, 4, 4, 4, 4, 4]) {
      s.step(m);
      lrs.push(opt.lr);
    }
    // bad epochs 1, 2 -> reduce (0.5); cooldown epoch; bad 1, 2 -> reduce to max(0.25, 0.3); ...
    expect(lrs).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.3, 0.3]);
    expect(s.best).toBe(4);
  });

  it('ReduceLROnPlateau carries a manual lr change forward (it multiplies the current lr)', () => {
    const opt = new SGD([param()], { lr: 1 });
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    s.step(1);
    opt.lr = 0.2;
    s.step(2);
    expect(opt.lr).toBeCloseTo(0.02, 15);
  });

  it('SequentialLR shares the base lr (initial_lr) of the first scheduler', () => {
    const opt = new SGD([param()], { lr: 0.4 });
    const warm = new LinearWarmup(opt, { warmupSteps: 2, startFactor: 0.5 });
    const exp = new ExponentialLR(opt, { gamma: 0.5 });
    expect(exp.baseLr).toBe(0.4);
    const s = new SequentialLR(opt, { schedulers: [warm, exp], milestones: [2] });
    const lrs = [opt.lr];
    for (let i = 0; i < 4; i++) {
      s.step();
      lrs.push(opt.lr);
    }
    expect(lrs).toEqual([0.2, 0.30000000000000004, 0.4, 0.2, 0.1]);
  });

  it('OneCycleLR refuses a step past totalSteps without changing anything', () => {
    const opt = new SGD([param()], { lr: 0.1, momentum: 0.9 });
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    const lr = opt.lr;
    expect(() => s.step()).toThrow(/at most totalSteps = 3 calls of OneCycleLR.step\(\) for step but received call number 4/);
    expect(opt.lr).toBe(lr);
    expect(s.lastEpoch).toBe(3);
  });

  const opt = (): SGD => new SGD([param()], { lr: 0.1 });
  const bad: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['MultiStepLR without milestones', () => new MultiStepLR(opt(), {} as never), TypeError, /an array of integers for options.milestones but received undefined/],
    ['MultiStepLR negative milestone', () => new MultiStepLR(opt(), { milestones: [2, -1] }), RangeError, /for options.milestones\[1\] but received -1/],
    ['MultiStepLR no milestones', () => new MultiStepLR(opt(), { milestones: [] }), RangeError, /at least one milestone for options.milestones/],
    ['MultiStepLR negative gamma', () => new MultiStepLR(opt(), { milestones: [2], gamma: -1 }), RangeError, /for options.gamma but received -1/],
    ['ExponentialLR without gamma', () => new ExponentialLR(opt(), {} as never), TypeError, /a number for options.gamma but received undefined/],
    ['ExponentialLR unknown option', () => new ExponentialLR(opt(), { gamma: 0.9, step_size: 1 } as never), RangeError, /unknown option 'step_size'/],
    ['ReduceLROnPlateau factor 1', () => new ReduceLROnPlateau(opt(), { factor: 1 }), RangeError, /a number in \[0, 1\) \(the lr is multiplied by it\) for options.factor but received 1/],
    ['ReduceLROnPlateau bad mode', () => new ReduceLROnPlateau(opt(), { mode: 'up' as never }), RangeError, /one of 'min', 'max' for options.mode but received "up"/],
    ['ReduceLROnPlateau bad thresholdMode', () => new ReduceLROnPlateau(opt(), { thresholdMode: 'relative' as never }), RangeError, /for options.thresholdMode/],
    ['ReduceLROnPlateau patience -1', () => new ReduceLROnPlateau(opt(), { patience: -1 }), RangeError, /for options.patience but received -1/],
    ['ReduceLROnPlateau step without a metric', () => new ReduceLROnPlateau(opt()).step(), TypeError, /a number \(the monitored metric.*for metric but received undefined/],
    ['StepLR step with a metric', () => new StepLR(opt(), { stepSize: 1 }).step(0.5), TypeError, /StepLR.step\(\) takes none.*for metric but received 0.5/],
    ['OneCycleLR without maxLr', () => new OneCycleLR(opt(), { totalSteps: 10 } as never), TypeError, /for options.maxLr but received undefined/],
    ['OneCycleLR without steps', () => new OneCycleLR(opt(), { maxLr: 1 }), RangeError, /totalSteps, or epochs and stepsPerEpoch for options but received neither/],
    ['OneCycleLR only epochs', () => new OneCycleLR(opt(), { maxLr: 1, epochs: 3 }), RangeError, /but received only epochs/],
    ['OneCycleLR totalSteps and epochs', () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 3, epochs: 3, stepsPerEpoch: 1 }), RangeError, /not both for options/],
    ['OneCycleLR pctStart 1.5', () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, pctStart: 1.5 }), RangeError, /for options.pctStart but received 1.5/],
    ['OneCycleLR empty warm-up', () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, pctStart: 0.1 }), RangeError, /zero length\) for options.pctStart/],
    ['OneCycleLR bad annealStrategy', () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, annealStrategy: 'exp' as never }), RangeError, /for options.annealStrategy/],
    ['OneCycleLR momentum on Adagrad', () => new OneCycleLR(new Adagrad([param()], { lr: 0.1 }), { maxLr: 1, totalSteps: 10 }), RangeError, /false for a Adagrad optimizer.*for options.cycleMomentum/],
    ['OneCycleLR divFactor 0', () => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, divFactor: 0 }), RangeError, /a number > 0 for options.divFactor/],
    ['SequentialLR wrong milestone count', () => { const o = opt(); return new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new StepLR(o, { stepSize: 1 })], milestones: [] }); }, RangeError, /1 milestones \(one fewer than the 2 schedulers\) for options.milestones but received 0/],
    ['SequentialLR decreasing milestones', () => { const o = opt(); const k = (): StepLR => new StepLR(o, { stepSize: 1 }); return new SequentialLR(o, { schedulers: [k(), k(), k()], milestones: [5, 3] }); }, RangeError, /a milestone after 5 \(milestones increase\) for options.milestones\[1\] but received 3/],
    ['SequentialLR scheduler of another optimizer', () => new SequentialLR(opt(), { schedulers: [new StepLR(opt(), { stepSize: 1 })], milestones: [] }), RangeError, /for options.schedulers\[0\] but received a scheduler of another optimizer/],
    ['SequentialLR with ReduceLROnPlateau', () => { const o = opt(); return new SequentialLR(o, { schedulers: [new ReduceLROnPlateau(o)], milestones: [] }); }, RangeError, /cannot be chained.*for options.schedulers\[0\]/],
    ['SequentialLR with a non-scheduler', () => new SequentialLR(opt(), { schedulers: [{}] as never, milestones: [] }), TypeError, /an LRScheduler for options.schedulers\[0\]/],
    ['loading a plateau state with a bad counter', () => {
      const s = new ReduceLROnPlateau(opt());
      s.loadStateDict({ ...s.stateDict(), state: { best: 1, numBadEpochs: -1, cooldownCounter: 0 } });
    }, RangeError, /for state.state.numBadEpochs but received -1/],
    ['loading a SequentialLR state with a bad child', () => {
      const o = opt();
      const s = new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new ExponentialLR(o, { gamma: 0.5 })], milestones: [3] });
      const st = s.stateDict();
      s.loadStateDict({ ...st, schedulers: [st.schedulers![0], { ...st.schedulers![1], type: 'StepLR' }] });
    }, RangeError, /Expected 'ExponentialLR' for state.schedulers\[1\].type but received "StepLR"/],
    ['setting SGD momentum to a negative value', () => { opt().momentum = -0.1; }, RangeError, /for momentum but received -0.1/],
    ['setting Adam betas out of range', () => { new Adam([param()]).betas = [1, 0.9]; }, RangeError, /for betas\[0\] but received 1/],
  ];
  for (const [what, f, cls, msg] of bad) {
    it(`rejects ${what}`, () => {
      expect(f).toThrow(cls);
      expect(f).toThrow(msg);
    });
  }

  it('a failed SequentialLR load changes nothing', () => {
    const o = opt();
    const s = new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new ExponentialLR(o, { gamma: 0.5 })], milestones: [3] });
    s.step();
    const before = s.stateDict();
    const st = s.stateDict();
    expect(() => s.loadStateDict({ ...st, lastEpoch: 9, schedulers: [{ ...st.schedulers![0], lastEpoch: 5 }, { ...st.schedulers![1], hyper: { gamma: -1 } }] })).toThrow(RangeError);
    expect(s.stateDict()).toEqual(before);
  });
});
