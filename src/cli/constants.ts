/** Constants the argument parser needs without loading the native addon. */

/** Names of the optimizers the CLI offers. */
export const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'] as const;
/** One of OPTIMIZERS. */
export type OptimizerName = (typeof OPTIMIZERS)[number];
