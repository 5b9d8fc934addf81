#!/usr/bin/env node
/**
 * The `rnnblas` command line: train / sample / forecast / demo / bench / info.
 *
 * Exit codes: 0 success; 2 usage error (bad flag or value, missing file), one
 * line on stderr; 130 training interrupted by SIGINT after saving a
 * checkpoint; 141 training stopped because stdout was closed (checkpoint
 * saved); 1 unexpected internal error.
 */
import { Command, CommanderError, Option } from 'commander';
import { UsageError, choiceOption, intOption, numberOption } from './errors.js';
import { CELLS, OPTIMIZERS } from './constants.js';
import { packageVersion } from './version.js';

/** Builds the program (exported for tests and embedding). */
export function buildProgram(): Command {
  const program = new Command('rnnblas');
  program
    .description('Elman RNNs on OpenBLAS: train a character model, sample from it, forecast a series, run demos.')
    .version(packageVersion(), '-V, --version', 'print the rnnblas version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // One line: commander's message without the help hints that follow it.
      outputError: (str, write) => write(str.split('\n')[0].replace(/^error: /, 'rnnblas: ') + '\n'),
    });

  program
    .command('train')
    .description('train a character-level model (Embedding -> RNN -> Linear); with no arguments, on the embedded corpus')
    .option('--text <file>', 'training text (default: an embedded corpus)')
    .option('--hidden <n>', 'RNN hidden size', intOption('--hidden', 1, 65536), 256)
    .addOption(new Option('--cell <name>', 'recurrent cell: rnn (tanh Elman), lstm or gru').choices(CELLS).default('rnn').argParser(choiceOption('--cell', CELLS)))
    .option('--layers <n>', 'stacked RNN layers', intOption('--layers', 1, 64), 2)
    .option('--embed <n>', 'embedding width', intOption('--embed', 1, 65536), 32)
    .option('--seq <n>', 'characters per training window', intOption('--seq', 2, 100000), 64)
    .option('--batch <n>', 'windows per batch', intOption('--batch', 1, 100000), 32)
    .option('--lr <x>', 'learning rate (default: 3e-3 for adam/adamw, 0.05 sgd/adagrad, 1e-3 rmsprop)', numberOption('--lr', 0, true))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(OPTIMIZERS).default('adam').argParser(choiceOption('--optimizer', OPTIMIZERS)))
    .option('--clip <x>', 'gradient norm clipping (0: off)', numberOption('--clip', 0), 5)
    .option('--steps <n>', 'training steps (default 1000; with --resume: this many more)', intOption('--steps', 1))
    .option('--epochs <n>', 'epochs over the text instead of --steps (with --resume: this many more)', intOption('--epochs', 1))
    .option('--tbptt <n>', 'truncated BPTT chunk length (0: whole window)', intOption('--tbptt', 0), 0)
    .option('--seed <n>', 'random seed', intOption('--seed', 0, 2 ** 31), 1)
    .option('--threads <n>', 'OpenBLAS threads', intOption('--threads', 1, 1024))
    .option('--out <file>', 'model/checkpoint file', 'rnnblas-char.safetensors')
    .option('--resume', 'continue from the checkpoint in --out (model, optimizer, data order, settings and text come from it; differing flags are refused)', false)
    .option('--json', 'one JSON object per line (start, progress, sample, done)', false)
    .option('--sample-every <n>', 'steps between samples (0: none)', intOption('--sample-every', 0), 200)
    .option('--sample-length <n>', 'characters per periodic sample', intOption('--sample-length', 1), 160)
    .action(async (opts, cmd: Command) => {
      const { runTrain } = await import('./train.js');
      const explicit = new Set(cmd.options.map((opt) => opt.attributeName()).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
      const controller = new AbortController();
      // The first Ctrl-C stops training after the current batch and saves; later ones
      // (while it finishes the batch or writes the checkpoint) are only acknowledged,
      // so the checkpoint is never cut off midway.
      const onSigint = (): void => {
        if (!controller.signal.aborted) controller.abort();
        else process.stderr.write('rnnblas train: saving the checkpoint, please wait\n');
      };
      // Installed until the process exits: what is left after the save is only
      // output, and a Ctrl-C then must not turn a saved run into a signal death.
      process.on('SIGINT', onSigint);
      const r = await runTrain({ ...opts, explicit }, controller.signal);
      process.exitCode = r.exitCode;
    });

  program
    .command('sample')
    .description('generate text from a model written by train')
    .requiredOption('--model <file>', 'model file from rnnblas train')
    .option('--prime <text>', 'text to start from', '')
    .option('--length <n>', 'characters to generate', intOption('--length', 0, 10_000_000), 300)
    .option('--temperature <x>', 'softmax temperature (0: always the most likely character)', numberOption('--temperature', 0), 0.8)
    .option('--top-k <n>', 'sample among the k most likely characters (0: all)', intOption('--top-k', 0), 0)
    .option('--seed <n>', 'random seed (default: random)', intOption('--seed', 0, 2 ** 31))
    .action(async (opts) => {
      const { runSample } = await import('./sample.js');
      await runSample(opts);
    });

  program
    .command('forecast')
    .description('train a sequence-to-one regressor on a series; report MAE/RMSE/MASE against last-value and seasonal-naive baselines on a held-out test part; write CSV and SVG')
    .option('--csv <file>', 'CSV file with a header row (default: a built-in synthetic daily series, 4 years)')
    .option('--column <name>', 'column to forecast (default: the last numeric column that is not a feature or the date)')
    .option('--date-column <name>', 'dates (YYYY-MM-DD) for calendar features and the plot (default: a column named date/day/time/timestamp/ds or holding ISO dates)')
    .option('--calendar', 'calendar features of the target date from the date column as extra inputs (day of week, day of year as sin/cos)', false)
    .option('--features <a,b,c>', 'other numeric columns fed as extra input channels')
    .option('--season <n>', 'season length of the seasonal-naive baseline (default: from the autocorrelation of the training part)', intOption('--season', 1, 100000))
    .option('--window <n>', 'input window length', intOption('--window', 2, 100000), 28)
    .option('--horizon <n>', 'steps ahead to predict', intOption('--horizon', 1, 100000), 1)
    .option('--hidden <n>', 'RNN hidden size', intOption('--hidden', 1, 65536), 32)
    .addOption(new Option('--cell <name>', 'recurrent cell: rnn (tanh Elman), lstm or gru').choices(CELLS).default('rnn').argParser(choiceOption('--cell', CELLS)))
    .option('--bidirectional', 'bidirectional RNN over the window', false)
    .option('--epochs <n>', 'training epochs (the weights of the best validation epoch are kept)', intOption('--epochs', 1, 100000), 60)
    .option('--batch <n>', 'batch size', intOption('--batch', 1, 100000), 32)
    .option('--lr <x>', 'Adam learning rate', numberOption('--lr', 0, true), 0.003)
    .option('--validation <fraction>', 'fraction of windows, before the test part, that picks the epoch', numberOption('--validation', 0, true, 0.5), 0.15)
    .option('--test <fraction>', 'fraction of windows at the end for the reported errors', numberOption('--test', 0, true, 0.5), 0.2)
    .option('--ahead <n>', 'forecast this many steps past the end of the data (recursively; --horizon 1)', intOption('--ahead', 0, 100000), 0)
    .option('--out <file>', 'save the trained model (safetensors, normalisation in its metadata)')
    .option('--seed <n>', 'random seed', intOption('--seed', 0, 2 ** 31), 1)
    .option('--threads <n>', 'OpenBLAS threads', intOption('--threads', 1, 1024))
    .option('--out-dir <dir>', 'where to write forecast.csv and forecast.svg', '.')
    .option('--json', 'JSON lines; the last line is the summary', false)
    .action(async (opts) => {
      const { runForecast } = await import('./forecast.js');
      await runForecast(opts);
    });

  const demo = program.command('demo').description('small demonstrations');
  demo
    .command('bidirectional')
    .description('label each step with the NEXT input symbol: a unidirectional RNN cannot, a bidirectional one can')
    .option('--steps <n>', 'training steps per model', intOption('--steps', 1, 100000), 300)
    .option('--seed <n>', 'random seed', intOption('--seed', 0, 2 ** 31), 1)
    .option('--json', 'JSON lines; the last line has uniAccuracy and biAccuracy', false)
    .action(async (opts) => {
      const { runDemoBidirectional } = await import('./demo.js');
      await runDemoBidirectional(opts);
    });

  demo
    .command('gradients')
    .description("BPTT's vanishing and exploding gradients: ‖∂L/∂h_t‖ against t for tanh, ReLU, IRNN, LSTM and a too-large recurrent gain (with and without clipGradNorm), loss on the last step; trains nothing; writes gradients.svg")
    .option('--length <n>', 'sequence length T', intOption('--length', 2, 100000), 100)
    .option('--hidden <n>', 'hidden size of every layer', intOption('--hidden', 1, 4096), 100)
    .option('--batch <n>', 'sequences in the batch', intOption('--batch', 1, 4096), 16)
    .option('--gain <x>', 'recurrent gain of the exploding curve (ReLU, W_hh = gain x I)', numberOption('--gain', 0, true, 100), 1.1)
    .option('--clip <x>', 'maxNorm of clipGradNorm for the clipped curve', numberOption('--clip', 0, true), 1)
    .option('--seed <n>', 'random seed', intOption('--seed', 0, 2 ** 31), 1)
    .option('--threads <n>', 'OpenBLAS threads', intOption('--threads', 1, 1024))
    .option('--out-dir <dir>', 'where to write gradients.svg', '.')
    .option('--json', 'JSON lines; the last line has the curves', false)
    .action(async (opts) => {
      const { runDemoGradients } = await import('./demo_gradients.js');
      await runDemoGradients(opts);
    });

  demo
    .command('adding')
    .description('the adding problem of Le, Jaitly & Hinton (2015): IRNN, tanh RNN and LSTM on long sequences, test MSE against the 1/6 baseline; writes adding.svg')
    .option('--length <n>', 'sequence length T', intOption('--length', 2, 100000), 150)
    .option('--steps <n>', 'training steps per model', intOption('--steps', 1, 10_000_000), 20000)
    .option('--hidden <n>', 'hidden size of every model', intOption('--hidden', 1, 4096), 100)
    .option('--batch <n>', 'sequences per batch', intOption('--batch', 1, 100000), 16)
    .option('--lr <x>', "Adam learning rate of the IRNN and the tanh RNN", numberOption('--lr', 0, true), 3e-4)
    .option('--lstm-lr <x>', "the LSTM's Adam learning rate", numberOption('--lstm-lr', 0, true), 1e-3)
    .option('--clip <x>', 'gradient norm clipping (0: off)', numberOption('--clip', 0), 1)
    .option('--eval-every <n>', 'steps between test-set evaluations', intOption('--eval-every', 1), 250)
    .option('--test-size <n>', 'held-out test sequences', intOption('--test-size', 1, 1_000_000), 1000)
    .option('--models <list>', 'comma-separated subset of irnn,tanh,lstm', 'irnn,tanh,lstm')
    .option('--seed <n>', 'random seed', intOption('--seed', 0, 2 ** 31), 1)
    .option('--threads <n>', 'OpenBLAS threads', intOption('--threads', 1, 1024))
    .option('--out-dir <dir>', 'where to write adding.svg', '.')
    .option('--json', 'JSON lines; the last line has every model\'s test MSE', false)
    .action(async (opts) => {
      const { runDemoAdding } = await import('./demo_adding.js');
      await runDemoAdding(opts);
    });

  demo.action(() => {
    // `rnnblas demo` alone: which demos there are, as a usage error (exit 2).
    demo.outputHelp({ error: true });
    process.exitCode = 2;
  });

  program
    .command('bench')
    .description('run the benchmark suite (bench/run.ts, in a source checkout) with the given arguments; see bench/README.md')
    .allowUnknownOption(true)
    .argument('[args...]', 'arguments passed to bench/run.ts')
    .action(async (args: string[]) => {
      const { runBench } = await import('./bench.js');
      process.exitCode = await runBench(args);
    });

  program
    .command('info')
    .description('addon path, OpenBLAS version/core/config, threads, Node version')
    .option('--json', 'one JSON object', false)
    .action(async (opts: { json: boolean }) => {
      const { runInfo } = await import('./info.js');
      runInfo(opts.json);
    });

  // Subcommands share the one-line error output and exit override.
  for (const c of [...program.commands, ...demo.commands]) {
    c.exitOverride().configureOutput({ outputError: (str, write) => write(str.split('\n')[0].replace(/^error: /, 'rnnblas: ') + '\n') });
  }
  return program;
}

/** Parses argv and runs; sets process.exitCode (2 for usage errors). */
export async function main(argv: string[] = process.argv): Promise<void> {
  // A closed stdout (`rnnblas info | head -1`) ends the command quietly with 141, as
  // SIGPIPE would; `train` adds its own listener, which stops training and saves first.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (process.stdout.listenerCount('error') > 1) return;
    if (err.code !== 'EPIPE') process.stderr.write(`rnnblas: cannot write the output: ${err.message}\n`);
    process.exit(err.code === 'EPIPE' ? 141 : 1);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; everything else is a usage error.
      process.exitCode = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? 0 : 2;
      if (err.code === 'commander.executeSubCommandAsync' || err.code === 'commander.invalidArgument') {
        // already printed
      }
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`rnnblas: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')) {
      process.stderr.write(`rnnblas: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    const msg = (e?.message ?? String(err)).split('\n')[0].replace(/^rnnblas: /, '');
    process.stderr.write(`rnnblas: ${msg}\n`);
    if (process.env.RNNBLAS_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    process.exitCode = 1;
  }
}

await main();
