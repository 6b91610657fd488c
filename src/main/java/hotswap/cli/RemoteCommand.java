package hotswap.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line a transport runs on the remote machine to start {@code hotswap relay}, and the
 * words of the {@code --rsh} command that carries it.
 *
 * <p>The remote command is one string, because ssh joins its words with spaces and hands them to
 * the login shell, and {@code fly ssh console -C} splits its one string into words (honouring
 * quotes) and runs them without a shell. It is {@code sh -c SCRIPT hotswap DIR [HOTSWAP]}: the
 * script is a constant, and the only user-supplied words, the remote directory and the remote
 * hotswap, are positional parameters in single quotes, so no character in them is ever shell
 * syntax on the other side. Paths of the copy itself never appear here: they travel inside the
 * protocol.
 */
final class RemoteCommand {
    /** Enters DIR ($1), then runs the given hotswap ($2), else bin/hotswap there when executable, else hotswap on PATH. */
    static final String SCRIPT = "cd -- \"$1\" || exit; shift; if [ $# -gt 0 ]; then exec \"$1\" relay; "
            + "elif [ -x bin/hotswap ]; then exec bin/hotswap relay; else exec hotswap relay; fi";
    /** The word of {@code --rsh} that the host replaces; without one, the host is appended. */
    static final String HOST_WORD = "{host}";

    private RemoteCommand() {
    }

    /**
     * @param remoteDir     the directory to run in, relative to the login directory; null for the login directory
     * @param remoteHotswap the hotswap to run, relative to that directory or on the remote PATH; null for the default
     */
    static String line(String remoteDir, String remoteHotswap) {
        StringBuilder b = new StringBuilder("sh -c ").append(quote(SCRIPT)).append(" hotswap ")
                .append(quote(remoteDir == null ? "." : remoteDir));
        if (remoteHotswap != null) {
            b.append(' ').append(quote(remoteHotswap));
        }
        return b.toString();
    }

    /** {@code s} as one single-quoted shell word: a quote inside is closed, escaped and reopened. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
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
