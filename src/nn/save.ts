/**
 * The `save` method shared by the modules that a model file can hold.
 */
import type { SavableModel } from '../io/model_file.js';

/** Saves `model` with `saveModel` (imported lazily: model_file depends on the modules). */
export async function saveModule(model: SavableModel, path: string): Promise<void> {
  const { saveModel } = await import('../io/model_file.js');
  await saveModel(model, path);
}
