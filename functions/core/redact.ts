const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * Removes e-mail addresses from a text that may reach logs or the execution history (an AWS
 * service's error message can echo a recipient). Our own messages carry ids only; names and
 * streets never enter error messages we write, and the services we call do not echo item values.
 */
export function redactPersonalData(text: string): string {
  return text.replace(EMAIL, '[e-mail]');
}
