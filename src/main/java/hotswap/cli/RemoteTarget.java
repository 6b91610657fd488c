package hotswap.cli;

/**
 * A {@code [user@]host:PATH} argument of {@code cp}, scp-style: remote when it has a colon and
 * the part before the first colon is not empty and has no slash; so {@code ./a:b} and
 * {@code /x/a:b} name local files. PATH is resolved on the remote machine, never here.
 *
 * @param host the part before the colon, {@code user@} included, as typed
 * @param path the part after it
 */
record RemoteTarget(String host, String path) {

    /** The remote target {@code arg} names, or null when it names a local file or {@code -}. */
    static RemoteTarget parse(String arg) throws UsageError {
        int colon = arg.indexOf(':');
        if (colon <= 0 || arg.substring(0, colon).contains("/")) {
            return null;
        }
        String host = arg.substring(0, colon);
        String path = arg.substring(colon + 1);
        if (host.startsWith("-")) {
            throw new UsageError(Command.CP, "host " + host + " starts with -, which the transport would take for an option;"
                    + " for a local file named so, write ./" + arg);
        }
        if (path.isEmpty()) {
            throw new UsageError(Command.CP, arg + " names no file after the colon; write " + host + ":PATH"
                    + " (for a local file named so, write ./" + arg + ")");
        }
        if (arg.indexOf('\0') >= 0) {
            throw new UsageError(Command.CP, "the path " + arg.replace("\0", "\\0") + " contains a NUL byte");
        }
        return new RemoteTarget(host, path);
    }

    @Override
    public String toString() {
        return host + ":" + path;
    }
}
