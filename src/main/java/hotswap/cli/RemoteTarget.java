package hotswap.cli;

/**
 * A {@code [user@]host:PATH} argument of {@code cp}, scp-style: remote when it has a colon and
 * the part before the first colon is not empty and has no slash; so {@code ./a:b} and
 * {@code /x/a:b} name local files. An IPv6 address goes in brackets, as for scp
 * ({@code [::1]:PATH}, {@code user@[fe80::1%eth0]:PATH}); without {@code ]:} the word is local.
 * PATH is resolved on the remote machine, never here.
 *
 * @param host the part before the colon, {@code user@} and brackets included, as typed
 * @param path the part after it
 */
record RemoteTarget(String host, String path) {

    /** The remote target {@code arg} names, or null when it names a local file or {@code -}. */
    static RemoteTarget parse(String arg) throws UsageError {
        int colon = hostEnd(arg);
        if (colon < 0) {
            return null;
        }
        String host = arg.substring(0, colon);
        String path = arg.substring(colon + 1);
        refuseHost(Command.CP, host, "; for a local file named so, write ./" + arg);
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
     * The index of the colon that ends {@code arg}'s host, or -1 when {@code arg} names a local
     * file: no colon, a leading one, or a slash before it. As scp reads it, a bracket at the start
     * or after {@code @} opens an address whose colons do not count; {@code ]:} ends it.
     */
    static int hostEnd(String arg) {
        boolean bracketed = arg.startsWith("[");
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c == '/' || c == ':' && i == 0) {
                return -1;
            } else if (c == '@' && arg.startsWith("[", i + 1)) {
                bracketed = true;
            } else if (c == ']' && bracketed && arg.startsWith(":", i + 1)) {
                return i + 1;
            } else if (c == ':' && !bracketed) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Refuses a host whose word for the transport ({@link #address}) would start with {@code -}, which
     * the transport (ssh) would take for an option ({@code -oProxyCommand=...} runs a command here),
     * or would be empty: checked on that word, since brackets ({@code [-o...]}) come off on the way.
     *
     * @param hint what follows the reason, or ""
     */
    static void refuseHost(Command command, String host, String hint) throws UsageError {
        String word = address(host);
        if (word.startsWith("-")) {
            throw new UsageError(command, "host " + host + " starts with -, which the transport would take for an option" + hint);
        }
        if (word.isEmpty() || word.endsWith("@")) {
            throw new UsageError(command, "host " + host + " names no host" + hint);
        }
    }

    /** The host as the transport takes it: an IPv6 address without its brackets ({@code ssh user@::1}). */
    static String address(String host) {
        int open = host.indexOf('[');
        return open >= 0 && host.endsWith("]") && (open == 0 || host.charAt(open - 1) == '@')
                ? host.substring(0, open) + host.substring(open + 1, host.length() - 1) : host;
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
