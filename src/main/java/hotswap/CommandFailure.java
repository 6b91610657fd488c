package hotswap;

/**
 * A command failed for a reason the user can act on. The message becomes the client's
 * {@code ERROR: ...} line, so it says what happened and what to do.
 */
final class CommandFailure extends Exception {
    CommandFailure(String message) {
        super(message);
    }

    CommandFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
