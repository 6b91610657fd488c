package hotswap.cli;

/**
 * Text from the other side (the app, a remote relay, a transport's stderr) as it may reach this
 * user's terminal: control characters but newline and tab, C1 controls included, shown as {@code ?},
 * so no peer can set the title, clear the screen or rewrite a line already printed (as scp does
 * since CVE-2019-6109).
 */
final class TerminalText {
    private TerminalText() {
    }

    static String safe(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f && c <= 0x9f;
            if (control && b == null) {
                b = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (b != null) {
                b.append(control ? '?' : c);
            }
        }
        return b == null ? text : b.toString();
    }
}
