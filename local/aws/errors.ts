/**
 * The one error type the local AWS emulator's services throw. `type` is the AWS error code the SDK
 * maps to an exception class (e.g. UsernameExistsException); `status` is the HTTP status AWS uses.
 * Anything else thrown by a service is reported as a 500 InternalFailure without its details.
 */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}
