package hotswap.cli;

/** The command line is wrong: the client prints the message and the usage, and exits 2. */
final class UsageError extends Exception {
    final Command command;

    UsageError(Command command, String message) {
        super(message);
        this.command = command;
    }
}
