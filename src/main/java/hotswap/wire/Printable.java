package hotswap.wire;

/**
 * Text a peer or another process chose (a request's method, a process's name, a database's name or
 * path in a status) as one printable line: each control character, C0, DEL and C1, shown as
 * {@code ?}, as {@code ls} shows a name on a terminal, so that it cannot start a line of its own in
 * a log or move the cursor on a terminal.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Printable {
    private Printable() {
    }

    public static String of(String s) {
        return replaced(s, false);
    }

    /**
     * Text of several lines from the other side (the app, a remote relay, a transport's stderr) as
     * it may reach a terminal: the same, but newline and tab stay. No peer can then set the title,
     * clear the screen or rewrite a line already printed (as scp does since CVE-2019-6109).
     */
    public static String lines(String s) {
        return replaced(s, true);
    }

    private static String replaced(String s, boolean keepLines) {
        StringBuilder b = null; // made only where there is something to show otherwise: the gate runs this on every request
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) && !(keepLines && (c == '\n' || c == '\t'))) { // C0, DEL and C1
                b = b == null ? new StringBuilder(s) : b;
                b.setCharAt(i, '?');
            }
        }
        return b == null ? s : b.toString();
    }
}
