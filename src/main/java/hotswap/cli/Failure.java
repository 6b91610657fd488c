package hotswap.cli;

/** A command failed on the client's side: the client prints {@code ERROR: message} and exits 1. */
class Failure extends Exception {
    Failure(String message) {
        super(message);
    }
}
