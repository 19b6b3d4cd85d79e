/**
 * The one small interface behind `ask`: a chat model that turns a prompt into text. Its implementations
 * (bedrock.ts, openai.ts) import only this, and provider.ts picks one, so no import runs back to the picker.
 */
import type { ChatPrompt } from './prompt.js';

export interface ModelProvider {
  /** The provider and model, as errors name them. */
  readonly label: string;
  /** The model's answer as text. Errors are ServiceErrors that name the provider (and the HTTP status). */
  complete(prompt: ChatPrompt): Promise<string>;
}
