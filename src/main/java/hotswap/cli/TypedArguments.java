package hotswap.cli;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Whether the JVM got its arguments as typed. It decodes them in the locale's character set and
 * puts U+FFFD (or {@code ?}) in place of bytes that set cannot decode, so {@code b\xff.sqlite3}
 * would reach the client as another name, which may be another file.
 */
final class TypedArguments {
    private TypedArguments() {
    }

    /**
     * Why the first argument that did not arrive as typed cannot be used, its odd bytes shown as
     * {@code \xNN}; null when all arrived, or where Linux's /proc cannot tell.
     */
    static String notAsTyped(String[] args) {
        byte[] cmdline;
        try {
            cmdline = Files.readAllBytes(Path.of("/proc/self/cmdline"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
        List<byte[]> words = new ArrayList<>();
        for (int start = 0, i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                words.add(Arrays.copyOfRange(cmdline, start, i));
                start = i + 1;
            }
        }
        if (words.size() < args.length) {
            return null;
        }
        Charset charset = jnuCharset();
        List<byte[]> typed = words.subList(words.size() - args.length, words.size()); // the class's arguments come last
        for (int i = 0; i < args.length; i++) {
            if (!Arrays.equals(typed.get(i), args[i].getBytes(charset))) {
                StringBuilder shown = new StringBuilder();
                for (byte b : typed.get(i)) {
                    shown.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
                }
                return "the argument " + shown + " holds bytes that this locale's character set (" + charset.name()
                        + ") cannot decode, and Java would pass on another name in its place; nothing changed. "
                        + (charset.equals(StandardCharsets.UTF_8) ? "Rename the file to a name that is valid UTF-8"
                        : "Run hotswap in a UTF-8 locale (LC_ALL=C.UTF-8), or rename the file to a name in " + charset.name());
            }
        }
        return null;
    }

    /** The character set the JVM decodes arguments and file names with: the locale's. */
    private static Charset jnuCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding"));
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }
}
