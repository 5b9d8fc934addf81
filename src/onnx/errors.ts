/**
 * The errors of the ONNX importer, interpreter and exporter, built in one place (the
 * argument errors of the public functions go through `../errors.ts`'s `typeError` and
 * `rangeError` like the rest of rnnblas).
 *
 * The class follows from the kind, as `decodeOnnx` and `exportOnnx` document: a model that
 * rnnblas cannot read or run (malformed bytes, an invalid graph, node, attribute or input,
 * or valid ONNX that is not supported) is a plain `Error` whose message names the node
 * (see `nodeLabel` in `./attributes.ts`); a module that cannot be exported is a `TypeError`
 * (the wrong kind of argument).
 */

/**
 * @internal What went wrong, which picks the error's class:
 * - `invalid`: the bytes, the graph, a node, an attribute or an input break the ONNX spec (Error);
 * - `unsupported`: valid ONNX that rnnblas does not read or run (Error);
 * - `internal`: an invariant of the interpreter broke (Error);
 * - `export`: a module (or one of its layers) ONNX export does not cover (TypeError).
 */
export type OnnxErrorKind = 'invalid' | 'unsupported' | 'internal' | 'export';

/**
 * @internal An ONNX error with the given message (used as is).
 *
 * @param kind - What went wrong (picks the class: see {@link OnnxErrorKind}).
 * @param message - The whole message, naming the node, value or layer concerned.
 */
export function onnxError(kind: OnnxErrorKind, message: string): Error {
  return kind === 'export' ? new TypeError(message) : new Error(message);
}

/**
 * @internal The most common shape: `"<Invalid|Unsupported|Missing> <what> of <label>[: <why>]"`,
 * e.g. `Invalid input shape of Reshape node 'r': expected int64 (or int32) values but received float32`.
 * A plain Error (a missing input or attribute is an invalid model).
 *
 * @param kind - `invalid`, `unsupported` or `missing`.
 * @param what - The input, attribute or value concerned (e.g. `input 1 (B)`, `attribute 'axis'`).
 * @param label - The node's label (`nodeLabel`).
 * @param why - What was expected instead, if anything.
 */
export function nodeError(kind: 'invalid' | 'unsupported' | 'missing', what: string, label: string, why?: string): Error {
  const head = kind === 'invalid' ? 'Invalid' : kind === 'unsupported' ? 'Unsupported' : 'Missing';
  return onnxError(kind === 'unsupported' ? 'unsupported' : 'invalid', `${head} ${what} of ${label}${why === undefined ? '' : `: ${why}`}`);
}
