/** Constants the argument parser needs without loading the native addon. */

/** Names of the optimizers the CLI offers. */
export const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'] as const;
/** The recurrent cells `--cell` names: Elman (tanh), LSTM, GRU. */
export const CELLS = ['rnn', 'lstm', 'gru'] as const;
/** One of CELLS. */
export type CellName = (typeof CELLS)[number];
/** One of OPTIMIZERS. */
export type OptimizerName = (typeof OPTIMIZERS)[number];
