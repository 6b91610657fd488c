package hotswap.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line a transport runs on the remote machine to start {@code hotswap relay}, what it
 * reads first from its stdin, and the words of the {@code --rsh} command that carries it.
 *
 * <p>The remote command is one constant string, {@code sh -c SCRIPT}: ssh joins its words with
 * spaces and hands them to the user's login shell, whichever it is (sh, bash, fish and tcsh quote
 * differently: fish reads backslashes inside single quotes, tcsh expands {@code !} and refuses a
 * newline there), and {@code fly ssh console -C} splits its one string into words and runs them
 * without a shell. So no user-supplied word crosses the command line: the remote directory and the
 * remote hotswap come first on the transport's stdin ({@link #preamble}), each as a decimal byte
 * count on a line of its own and then the bytes, which {@code read} and {@code dd} take exactly;
 * the relay started after them reads the protocol from the same stdin. Paths of the copy itself
 * travel inside the protocol.
 */
final class RemoteCommand {
    /**
     * Reads DIR and HOTSWAP from stdin, enters DIR, then runs HOTSWAP when given, else bin/hotswap
     * there when executable, else hotswap on PATH. Within one pair of single quotes it reads the same
     * to every login shell: no single quote, backslash, exclamation mark or newline in it. DIR is
     * entered with CDPATH emptied: an rc file may export one, and cd would then look for DIR in its
     * directories first, and print where it went on the stdout the protocol has.
     */
    static final String SCRIPT = "v() { IFS= read -r n && [ \"$n\" -ge 0 ] 2>/dev/null || exit 1; "
            + "if [ \"$n\" -gt 0 ]; then dd bs=1 count=\"$n\" 2>/dev/null; fi; echo x; }; "
            + "d=$(v) || exit 1; h=$(v) || exit 1; CDPATH= cd -- \"${d%x}\" || exit; h=${h%x}; "
            + "if [ -n \"$h\" ]; then exec \"$h\" relay; elif [ -x bin/hotswap ]; then exec bin/hotswap relay; "
            + "else exec hotswap relay; fi";
    /** What the transport runs there: the same for every copy. */
    static final String LINE = "sh -c '" + SCRIPT + "'";
    /** The word of {@code --rsh} that the host replaces; without one, the host is appended. */
    static final String HOST_WORD = "{host}";

    private RemoteCommand() {
    }

    /**
     * What the transport's stdin carries before the protocol: the directory and the hotswap for
     * {@link #SCRIPT}, each as its UTF-8 byte count, a newline, and the bytes.
     *
     * @param remoteDir     the directory to run in, relative to the login directory; null for the login directory
     * @param remoteHotswap the hotswap to run, relative to that directory or on the remote PATH; null for the default
     */
    static byte[] preamble(String remoteDir, String remoteHotswap) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String value : new String[] {remoteDir == null ? "." : remoteDir, remoteHotswap == null ? "" : remoteHotswap}) {
            byte[] bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeBytes((bytes.length + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    /**
     * The transport's argument vector: the words of {@code rsh} with {@code {host}} replaced by the
     * host, or the host appended when no word holds {@code {host}}; then the remote command, always last.
     */
    static List<String> argv(String rsh, String host, String remoteCommand) throws UsageError {
        List<String> words = split(rsh);
        if (words.isEmpty()) {
            throw new UsageError(Command.CP, "--rsh (or HOTSWAP_RSH) names no command");
        }
        List<String> argv = new ArrayList<>();
        boolean placed = false;
        for (String w : words) {
            placed |= w.contains(HOST_WORD);
            argv.add(w.replace(HOST_WORD, host));
        }
        if (!placed) {
            argv.add(host);
        }
        argv.add(remoteCommand);
        return argv;
    }

    /** Splits a command into words at blanks, as a shell would with quotes but no expansions: 'a b', "a b" and a\ b are one word. */
    static List<String> split(String command) throws UsageError {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < command.length() && "\"\\$`".indexOf(command.charAt(i + 1)) >= 0) {
                    word.append(command.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == ' ' || c == '\t' || c == '\n') {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else {
                if (word == null) {
                    word = new StringBuilder();
                }
                if (c == '\'' || c == '"') {
                    quote = c;
                } else if (c == '\\' && i + 1 < command.length()) {
                    word.append(command.charAt(++i));
                } else {
                    word.append(c);
                }
            }
        }
        if (quote != 0) {
            throw new UsageError(Command.CP, "--rsh (or HOTSWAP_RSH) has an unclosed " + quote + " quote: " + command);
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }
}
