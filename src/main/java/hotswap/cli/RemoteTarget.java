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
        refuseTooLong(Command.CP, "the remote PATH after " + host + ":", path);
        return new RemoteTarget(host, path);
    }

    /**
     * Refuses a word for the relay that its request cannot carry (a string of the protocol holds at
     * most a Linux PATH_MAX of bytes), here, before any transport starts: the request would fail
     * only once the connection is made, as an internal error.
     */
    static void refuseTooLong(Command command, String what, String value) throws UsageError {
        int bytes = value == null ? 0 : value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > hotswap.wire.Protocol.MAX_STRING_BYTES) {
            throw new UsageError(command, what + " has " + bytes + " bytes, more than the " + hotswap.wire.Protocol.MAX_STRING_BYTES
                    + " a path may have; nothing was sent. Name it by a shorter path (relative to --remote-dir, or without ./ and ..)");
        }
    }

    @Override
    public String toString() {
        return host + ":" + path;
    }
}
