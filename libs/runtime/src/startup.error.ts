/** A startup failure with a message meant for the operator (printed without a stack trace, exit 1). */
export class StartupError extends Error {
  override name = 'StartupError';
}
